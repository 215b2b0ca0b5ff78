"""Company and person names in one normal form, the key two entries of one company share.

Sales teams enter the same company many ways: "北京华为科技有限公司", "华为科技（北京）",
"ＨＵＡＷＥＩ Co., Ltd.", "華為科技". :func:`normalize_name` folds a name to one key: NFKC
(full-width -> half-width), case-folded, traditional -> simplified characters, spaces and
punctuation dropped, company-form suffixes (有限公司, 股份有限公司, Co., Ltd., Inc., GmbH, ...)
removed, and a bracketed region such as "（北京）" moved to the front. Duplicate checks
(:mod:`crmkit.customers.model.dedup`), the search keys and the pipeline's leads all build
on this key.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from typing import Any

__all__ = [
    "CN_REGIONS",
    "fold_text",
    "normalize_name",
    "split_region",
    "to_simplified",
]

# Company-form words, compared after folding (lower case, no spaces). Longest first so
# "股份有限公司" goes before "有限公司". "分公司" (a branch) is kept on purpose: a branch is
# a customer of its own.
_CN_SUFFIXES = tuple(
    sorted(
        (
            "集团股份有限公司",
            "集团有限责任公司",
            "集团有限公司",
            "股份有限公司",
            "有限责任公司",
            "有限公司",
            "股份公司",
            "集团公司",
            "总公司",
            "集团",
            "公司",
        ),
        key=len,
        reverse=True,
    )
)
# Latin company forms are removed as whole words, before spaces go, so "Cisco" keeps its "co".
_LATIN_SUFFIXES = frozenset(
    {
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "kg",
        "sa",
        "srl",
        "bv",
        "nv",
        "pte",
        "pty",
        "kk",
        "group",
    }
)

#: Provinces, municipalities and large cities, as they open company names ("北京华为科技").
#: Used to find the trade name behind the region and to place a bracketed region.
CN_REGIONS: tuple[str, ...] = tuple(
    sorted(
        [
            "中国",
            "北京",
            "天津",
            "上海",
            "重庆",
            "河北",
            "山西",
            "辽宁",
            "吉林",
            "黑龙江",
            "江苏",
            "浙江",
            "安徽",
            "福建",
            "江西",
            "山东",
            "河南",
            "湖北",
            "湖南",
            "广东",
            "海南",
            "四川",
            "贵州",
            "云南",
            "陕西",
            "甘肃",
            "青海",
            "台湾",
            "内蒙古",
            "广西",
            "西藏",
            "宁夏",
            "新疆",
            "香港",
            "澳门",
            "深圳",
            "广州",
            "杭州",
            "南京",
            "苏州",
            "武汉",
            "成都",
            "西安",
            "长沙",
            "郑州",
            "济南",
            "青岛",
            "大连",
            "沈阳",
            "厦门",
            "福州",
            "宁波",
            "无锡",
            "合肥",
            "昆明",
            "南宁",
            "南昌",
            "石家庄",
            "太原",
            "哈尔滨",
            "长春",
            "贵阳",
            "兰州",
            "东莞",
            "佛山",
            "珠海",
            "温州",
            "烟台",
            "常州",
            "徐州",
            "绍兴",
            "嘉兴",
            "金华",
            "台州",
            "惠州",
            "中山",
        ],
        key=len,
        reverse=True,
    )
)
_REGION_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")


@functools.cache
def _t2s() -> Any:
    # OpenCC's character table; loaded once, on first use, so importing crmkit stays cheap.
    import opencc

    return opencc.OpenCC("t2s")


class _FoldTable(dict[int, Any]):
    """``str.translate`` table filled on demand: one decision per distinct character."""

    def __missing__(self, code: int) -> Any:
        ch = chr(code)
        category = unicodedata.category(ch)
        if category[0] in "PZSC":
            value: Any = None  # punctuation, spaces, symbols and controls carry no identity
        elif category == "Lo" and code >= 0x3400:
            simple = _t2s().convert(ch)
            value = simple if simple != ch else code
        else:
            value = code
        self[code] = value
        return value


_FOLD = _FoldTable()


class _SimplifyTable(dict[int, Any]):
    def __missing__(self, code: int) -> Any:
        ch = chr(code)
        value: Any = code
        if code >= 0x3400 and unicodedata.category(ch) == "Lo":
            simple = _t2s().convert(ch)
            value = simple if simple != ch else code
        self[code] = value
        return value


_SIMPLE_TABLE = _SimplifyTable()


def to_simplified(text: str) -> str:
    """Map traditional Chinese characters to simplified ones, character by character.

    Character-level mapping is enough for comparing and searching names: both sides of a
    comparison go through the same table.
    """
    return text.translate(_SIMPLE_TABLE)


def fold_text(text: str) -> str:
    """Fold text for comparison: NFKC, case-folded, simplified, without spaces or punctuation.

    Examples:
        >>> fold_text("ＨＵＡ Wei, 華為")
        'huawei华为'
    """
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    # Dropping a space can leave a combining mark next to a letter: compose them again.
    return folded if folded.isascii() else unicodedata.normalize("NFKC", folded)


_SEPARATORS = string.punctuation + string.whitespace


def _strip_latin_forms(text: str) -> str:
    words = "".join(" " if ch in _SEPARATORS else ch for ch in text).split()
    while len(words) > 1 and words[-1] in _LATIN_SUFFIXES:
        words.pop()
    return " ".join(words)


def _move_bracketed_region(text: str) -> str:
    # "华为科技(北京)有限公司" is written "北京华为科技有限公司" too: the region moves to the
    # front (unless the name already opens with it); "(中国)" / "(China)" says nothing.
    start = text.find("(")
    while start != -1:
        end = text.find(")", start)
        if end == -1:
            break
        inner = text[start + 1 : end].strip().rstrip("省市")
        if inner in ("中国", "china") or inner in CN_REGIONS:
            text = text[:start] + text[end + 1 :]
            if inner not in ("中国", "china") and not text.startswith(inner):
                text = inner + text
                start += len(inner)
            start = text.find("(", start)
        else:
            start = text.find("(", end)
    return text


@functools.lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """The key two entries of the same customer share.

    Full-width characters become half-width, letters lower case, traditional characters
    simplified; spaces and punctuation go, then company-form suffixes (有限公司,
    股份有限公司, 集团, Co., Ltd., Inc., GmbH, ...) are removed; a bracketed region moves
    to the front ("华为（北京）" -> "北京华为") and "（中国）" / "(China)" is dropped. A name made only of a suffix keeps it, so no key is empty
    for a non-empty name.

    Args:
        name: a customer name as entered.

    Returns:
        The normalised key, e.g. ``"北京华为科技"`` for ``"北京華為科技股份有限公司 "``.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    if "(" in text:
        text = _move_bracketed_region(text)
    tail = text.rstrip(_SEPARATORS)
    if tail and tail[-1].isascii() and tail[-1].isalpha():
        text = _strip_latin_forms(text)
    key = text.translate(_FOLD)
    if not key.isascii():
        key = unicodedata.normalize("NFKC", key)
    while key.endswith(_CN_SUFFIXES) and key not in _CN_SUFFIXES:
        for suffix in _CN_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                break
        else:
            break
    return key


_REGION_SET = frozenset(CN_REGIONS)
_REGION_LENGTHS = sorted({len(r) for r in CN_REGIONS}, reverse=True)


def split_region(key: str) -> tuple[str, str]:
    """Split a normalised name into its leading region(s) and the rest.

    ``"广东深圳华为科技"`` -> ``("广东深圳", "华为科技")``. A name that is only a region
    keeps it as the rest, so the rest is never empty for a non-empty key.
    """
    rest = key
    while True:
        for size in _REGION_LENGTHS:
            if rest[:size] in _REGION_SET:
                tail = rest[size:]
                if tail.startswith(_REGION_SUFFIXES):
                    tail = tail[next(len(s) for s in _REGION_SUFFIXES if tail.startswith(s)) :]
                if tail:
                    rest = tail
                    break
        else:
            break
    return key[: len(key) - len(rest)], rest
