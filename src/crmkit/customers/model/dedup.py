"""Duplicate customers: one normal form for names, entry control and batch detection.

Sales teams enter the same company many ways: "北京华为科技有限公司", "华为科技（北京）",
"ＨＵＡＷＥＩ Co., Ltd.", "華為科技". This module gives three tools, all pure:

- :func:`normalize_name` folds a name to the key two entries of one company share:
  NFKC (full-width -> half-width), case-folded, traditional -> simplified characters,
  spaces and punctuation dropped, company-form suffixes (有限公司, 股份有限公司, Co., Ltd.,
  Inc., GmbH, ...) removed, and a bracketed region such as "（北京）" moved to the front.
- :func:`check_duplicate_name` applies a tenant's :class:`DuplicatePolicy` (block, warn
  or allow) when a customer is entered, comparing exact normalised keys.
- :func:`find_duplicates` scans a whole customer base: it puts records into blocks that
  share a normalised phone, an email, the name's pinyin initials or a name key within one
  edit, scores only pairs inside a block with rapidfuzz, and returns
  :class:`DuplicateCandidate` pairs with a score and the reasons. One edit in a short
  trade name (see :func:`trade_name`) counts only with a shared phone, email or region:
  "华创科技" and "华鼎科技" are as often two companies as one with a typo.
"""

from __future__ import annotations

import enum
import functools
import string
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import attrs
from rapidfuzz.distance import Levenshtein

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_

__all__ = [
    "CN_REGIONS",
    "INDUSTRY_WORDS",
    "DedupRecord",
    "DuplicateCandidate",
    "DuplicateCheck",
    "DuplicatePolicy",
    "check_duplicate_name",
    "find_duplicates",
    "fold_text",
    "normalize_name",
    "split_region",
    "to_simplified",
    "trade_name",
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


class DuplicatePolicy(enum.Enum):
    """What entering a customer whose normalised name already exists does."""

    BLOCK = "block"
    """Refuse the entry."""
    WARN = "warn"
    """Accept it and report the existing customers, so the user can reconsider."""
    ALLOW = "allow"
    """Accept it without looking."""


@attrs.frozen
class DuplicateCheck:
    """The outcome of a duplicate-name check at entry.

    Attributes:
        key: the normalised name that was compared.
        policy: the policy that was applied.
        matches: ids of existing customers with the same key (empty under ``ALLOW``).
    """

    key: str
    policy: DuplicatePolicy
    matches: tuple[Hashable, ...] = ()

    @property
    def is_duplicate(self) -> bool:
        """Whether an existing customer shares the key."""
        return bool(self.matches)

    @property
    def is_blocked(self) -> bool:
        """Whether the policy refuses this entry."""
        return self.is_duplicate and self.policy is DuplicatePolicy.BLOCK

    def require(self) -> DuplicateCheck:
        """Return ``self`` unless the entry is blocked.

        Raises:
            ValidationError: the policy is ``BLOCK`` and a customer with the key exists.
        """
        if self.is_blocked:
            raise ValidationError(
                entity="customer",
                field="name",
                reason=reason(
                    N_("duplicates an existing customer ({count} found)"),
                    count=len(self.matches),
                ),
            )
        return self


def check_duplicate_name(
    name: str,
    existing: Iterable[tuple[Hashable, str]],
    policy: DuplicatePolicy = DuplicatePolicy.WARN,
) -> DuplicateCheck:
    """Compare a new customer's name with existing ones under a policy.

    A service looks existing keys up through the indexed ``name_key`` field
    (``F("name_key").eq(normalize_name(name))``) and passes the hits here.

    Args:
        name: the name being entered.
        existing: ``(id, name_key)`` of customers that may share the key; keys that differ
            are ignored, so a broader candidate list is harmless.
        policy: block, warn or allow.

    Returns:
        The check; call :meth:`DuplicateCheck.require` to raise when blocked.
    """
    key = normalize_name(name)
    if policy is DuplicatePolicy.ALLOW:
        return DuplicateCheck(key, policy)
    return DuplicateCheck(key, policy, tuple(cid for cid, other in existing if other == key))


# --- batch detection -----------------------------------------------------------------------


@attrs.frozen
class DedupRecord:
    """What batch detection needs to know about one customer.

    Attributes:
        id: the customer's id.
        name_key: :func:`normalize_name` of the name.
        pinyin_full: the key's full pinyin (``beijinghuaweikeji``); catches homophone typos.
        pinyin_initials: its initials (``bjhwkj``); a blocking key.
        phones: caller-ID keys of the customer's phones (see ``crmkit.customers.model.phones``).
        emails: email addresses.
        person: an individual rather than a company; people share names, so a name alone
            never makes two people duplicates.
        tax_id: the compact tax id (unified social credit code); one tax id is one
            company, whatever the two names say.
    """

    id: Hashable
    name_key: str
    pinyin_full: str = ""
    pinyin_initials: str = ""
    phones: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    emails: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    person: bool = False
    tax_id: str | None = None

    @classmethod
    def from_customer(cls, customer: Any) -> DedupRecord:
        """Build the record from a ``Customer`` and its stored search keys."""
        return cls(
            id=customer.id,
            name_key=customer.name_key,
            pinyin_full=customer.pinyin_full,
            pinyin_initials=customer.pinyin_initials,
            phones=(customer.phone_key,) if customer.phone_key else (),
            emails=(customer.email.strip().casefold(),) if customer.email else (),
            person=customer.kind.value == "individual",
            tax_id=customer.tax_id,
        )


@attrs.frozen
class DuplicateCandidate:
    """Two customers that probably are one.

    Attributes:
        first, second: the two ids, in input order.
        score: 0..100; how alike they are.
        reasons: what they share: ``"tax_id"``, ``"phone"``, ``"email"``, ``"name"``
            (same key), ``"similar_name"``, ``"same_pinyin"``.
    """

    first: Hashable
    second: Hashable
    score: float
    reasons: tuple[str, ...]


#: Industry words that close a company name after its trade name ("华创" + "科技"), longest
#: first. Only used to find how long the distinctive trade name is.
INDUSTRY_WORDS: tuple[str, ...] = tuple(
    sorted(
        {
            *("科技", "技术", "信息技术", "网络科技", "电子科技", "生物科技", "环保科技"),
            *("智能科技", "新能源科技", "软件", "网络", "信息", "数据", "通信", "电子"),
            *("电气", "电器", "机械", "设备", "智能装备", "自动化", "仪器", "五金"),
            *("贸易", "商贸", "进出口", "国际贸易", "实业", "发展", "投资", "投资管理"),
            *("资产管理", "咨询", "管理咨询", "企业管理", "供应链管理", "物流", "运输"),
            *("医药", "医疗器械", "生物", "化工", "新材料", "材料", "建材", "建设"),
            *("建筑", "工程", "装饰", "房地产", "置业", "物业", "食品", "餐饮"),
            *("餐饮管理", "酒店", "农业", "服饰", "服装", "纺织", "传媒", "文化传播"),
            *("文化", "广告", "教育", "旅游", "汽车", "汽车销售", "汽车服务", "能源"),
            *("新能源", "环保", "印刷", "包装", "家具", "银行", "保险", "证券", "乐器"),
        },
        key=len,
        reverse=True,
    )
)
# Trade names this short (after region and industry) collide between companies.
_SHORT_TRADE = 2


def trade_name(rest: str) -> str:
    """The distinctive part of a name behind its region: without a closing industry word.

    ``"华创网络科技"`` -> ``"华创"``. A name that is only an industry word keeps it.

    Args:
        rest: a normalised name without its region (see :func:`split_region`).

    Returns:
        The trade name.
    """
    for word in INDUSTRY_WORDS:
        if rest.endswith(word) and len(rest) > len(word):
            return rest[: -len(word)]
    return rest


# Blocks larger than this say little (a very common initials string, a switchboard number
# shared by a group); scoring all their pairs would cost quadratic time for few finds.
MAX_BLOCK = 60


def _deletions(text: str) -> list[str]:
    # Two keys within one edit (insert, delete, substitute) share one of these.
    return [text[:i] + text[i + 1 :] for i in range(len(text))] if len(text) >= 3 else []


def _block_keys(record: DedupRecord, rest: str) -> list[tuple[str, str]]:
    keys = [("p", p) for p in record.phones] + [("e", e) for e in record.emails]
    if record.tax_id:
        keys.append(("t", record.tax_id))
    if record.person:
        keys.append(("n", record.name_key))
        return keys
    keys.append(("n", rest))
    # The same namespace as the key itself: "凯泰" (a letter dropped) meets "凯盈泰" through
    # the latter's deletion variant.
    keys += [("n", variant) for variant in _deletions(rest)]
    if len(record.pinyin_initials) >= 3:
        keys.append(("i", record.pinyin_initials))
    return keys


def _score(
    a: DedupRecord, b: DedupRecord, rest_a: str, rest_b: str, reg_a: str, reg_b: str
) -> tuple[float, tuple[str, ...]]:
    if a.tax_id and a.tax_id == b.tax_id:
        return 100.0, ("tax_id",)
    reasons: list[str] = []
    if set(a.phones) & set(b.phones):
        reasons.append("phone")
    if set(a.emails) & set(b.emails):
        reasons.append("email")
    contact = bool(reasons)
    if a.name_key == b.name_key:
        reasons.append("name")
        name_score = 100.0
    else:
        # A region written on one side only ("华为科技" / "北京华为科技") is not a difference;
        # two different regions are (branches in two cities are two customers).
        same_place = not reg_a or not reg_b or reg_a == reg_b
        left, right = (rest_a, rest_b) if same_place else (a.name_key, b.name_key)
        name_score = 100.0 * Levenshtein.normalized_similarity(left, right)
        if len(left) >= 3 and len(right) >= 3 and Levenshtein.distance(left, right) == 1:
            # One typo in a name of some length. But a one-character difference in a
            # short trade name ("华创科技" / "华鼎科技") is just as often two companies:
            # then it counts only with something else shared, a phone, an email or the
            # same stated region.
            thin = min(len(trade_name(rest_a)), len(trade_name(rest_b))) <= _SHORT_TRADE
            if not thin or contact or (reg_a and reg_a == reg_b):
                name_score = max(name_score, 88.0)
        if a.pinyin_full and a.pinyin_full == b.pinyin_full:
            name_score = max(name_score, 95.0)
            reasons.append("same_pinyin")
        elif name_score >= 80:
            reasons.append("similar_name")
    if a.person or b.person:
        # People share names (two 王伟 are usually two people): only a shared phone or
        # email makes two people one.
        if contact:
            return (max(name_score, 90.0) if name_score >= 50 else 85.0), tuple(reasons)
        return min(name_score, 60.0), tuple(reasons)
    if contact:
        return min(100.0, name_score + 25.0), tuple(reasons)
    return name_score, tuple(reasons)


def find_duplicates(
    records: Sequence[DedupRecord], *, threshold: float = 85.0
) -> list[DuplicateCandidate]:
    """Find probable duplicate pairs in a customer base without comparing every pair.

    Records are grouped into blocks by tax id, by each normalised phone and email, by the name key
    behind its region and every variant of it with one character deleted (so one typo
    still meets), and by the name's pinyin initials (so homophones meet). Only pairs that
    share a block are scored; blocks larger than ``MAX_BLOCK`` are skipped. A name one
    edit from another scores as a typo when the trade names are longer than two
    characters, or when the two also share a phone, an email or a stated region.

    Args:
        records: the customers, e.g. ``[DedupRecord.from_customer(c) for c in customers]``.
        threshold: the lowest score (0..100) reported.

    Returns:
        Candidate pairs, highest score first.
    """
    splits = [split_region(r.name_key) for r in records]
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for key in set(_block_keys(record, splits[index][1])):
            blocks[key].append(index)
    seen: set[tuple[int, int]] = set()
    found: list[DuplicateCandidate] = []
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for pos, i in enumerate(members):
            for j in members[pos + 1 :]:
                if (i, j) in seen:
                    continue
                seen.add((i, j))
                a, b = records[i], records[j]
                score, why = _score(a, b, splits[i][1], splits[j][1], splits[i][0], splits[j][0])
                if score >= threshold:
                    found.append(DuplicateCandidate(a.id, b.id, round(score, 1), why))
    found.sort(key=lambda c: -c.score)
    return found
