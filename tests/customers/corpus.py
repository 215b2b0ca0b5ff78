"""A generated customer base with known duplicates, for dedup recall/precision and benches.

Companies are built the way Chinese company names are: region + trade name + industry +
company form ("北京" + "华创" + "科技" + "有限公司"). Trade names are two to four characters
drawn from the 3,755 common characters of GB 2312 level 1 (plus the favourite trade-name
characters), so, as in a real customer base, two different companies rarely have trade
names one character apart (with a vocabulary of a hundred characters they often did, and
those look exactly like typo duplicates); people from common surnames (including
polyphonic ones) and given names, so distinct people often share a name. A share of the
records get a duplicate made by one of the mistakes sales staff make:

- ``typo``: one character of the trade name replaced, inserted or dropped;
- ``width``: Latin letters and digits typed full-width, spaces sprinkled in;
- ``suffix``: a different or missing company form (有限公司 / 股份有限公司 / 集团 / none);
- ``traditional``: the name typed in traditional characters;
- ``region``: the region dropped or moved into brackets ("华创科技（北京）有限公司");
- ``phone``: same phone written another way, with a slightly different name.
"""

from __future__ import annotations

import random

import attrs
import opencc

REGIONS = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "南京",
    "成都",
    "武汉",
    "西安",
    "重庆",
    "长沙",
    "苏州",
    "天津",
    "厦门",
    "青岛",
    "郑州",
    "济南",
    "合肥",
    "福州",
    "昆明",
]
INDUSTRIES = [
    "科技",
    "贸易",
    "实业",
    "电子",
    "信息技术",
    "医药",
    "建设",
    "食品",
    "物流",
    "传媒",
    "网络科技",
    "发展",
    "服饰",
    "机械",
    "化工",
    "投资管理",
    "文化传播",
    "环保科技",
    "生物科技",
    "电气",
    "建材",
    "软件",
    "咨询",
    "汽车销售",
    "餐饮管理",
    "银行",
    "乐器",
    "智能装备",
    "新能源",
    "供应链管理",
]
TRADE_CHARS = (
    "华创鼎盛宏远恒达中兴天成金泰瑞丰嘉和信德永安博雅卓越东方明辉海润新宇腾飞汇通安康润泽"
    "光明百川众合星河蓝海锦程欣荣伟业顺发志诚弘毅长青广源万象利民凯旋富强聚贤德馨龙腾凤翔"
    "佳禾盈科美达正大合力同心启航远航晨曦铭扬朗润泰和君悦银河重阳乐天行健都市单晶"
)


def _trade_vocabulary() -> str:
    # GB 2312 level 1: the 3,755 most common simplified characters, rows 0xB0..0xD7.
    level_one = [
        bytes([high, low]).decode("gb2312")
        for high in range(0xB0, 0xD8)
        for low in range(0xA1, 0xFF)
        if not (high == 0xD7 and low > 0xF9)
    ]
    to_traditional, to_simple = opencc.OpenCC("s2t"), opencc.OpenCC("t2s")
    # Only characters that come back from traditional unchanged (乾 would come back 干):
    # a "traditional" duplicate then differs from its source by writing alone.
    chars = dict.fromkeys(
        ch
        for ch in (*TRADE_CHARS, *level_one)
        if to_simple.convert(to_traditional.convert(ch)) == ch
    )
    return "".join(chars)


TRADE_VOCABULARY = _trade_vocabulary()
COMPANY_FORMS = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司", ""]
SURNAMES = [*"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许曾单解仇区朴查盖", "尉迟"]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌浩宇晨欣怡子轩梓涵"
AREA_CODES = ["10", "21", "20", "755", "571", "25", "28", "27", "29", "23"]

_S2T = opencc.OpenCC("s2t")


@attrs.frozen
class Entry:
    """One generated customer."""

    name: str
    person: bool
    phone: str | None
    email: str | None


@attrs.frozen
class Corpus:
    """Generated customers and the index pairs that are the same customer."""

    entries: list[Entry]
    duplicates: frozenset[tuple[int, int]]
    kinds: dict[tuple[int, int], str]


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _landline(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    local = rng.randrange(2 * 10**7, 10**8) if len(area) == 2 else rng.randrange(2 * 10**6, 10**7)
    return f"0{area}-{local}"


def _reformat(phone: str, rng: random.Random) -> str:
    digits = phone.replace("-", "")
    if digits.startswith("1"):
        return rng.choice(
            [
                f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
                f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                f"0086{digits}",
                f"(+86){digits}",
            ]
        )
    area, local = phone.split("-")
    return rng.choice(
        [
            f"+86 {area[1:]} {local}",
            f"({area}){local}",
            f"{area} {local} 转 8{rng.randrange(10, 99)}",
        ]
    )


def _full_width(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        if "!" <= ch <= "~":
            ch = chr(ord(ch) + 0xFEE0)
        out.append(ch)
        if rng.random() < 0.15:
            out.append(rng.choice([" ", "\u3000"]))
    return "".join(out)


def _typo(trade: str, rng: random.Random) -> str:
    chars = list(trade)
    move = rng.choice(["replace", "insert", "drop"] if len(chars) > 2 else ["replace", "insert"])
    pos = rng.randrange(len(chars))
    if move == "replace":
        chars[pos] = rng.choice(TRADE_VOCABULARY)
        while chars[pos] == trade[pos]:
            chars[pos] = rng.choice(TRADE_VOCABULARY)
    elif move == "insert":
        chars.insert(pos, rng.choice(TRADE_VOCABULARY))
    else:
        del chars[pos]
    return "".join(chars)


@attrs.frozen
class _Company:
    region: str
    trade: str
    industry: str
    form: str

    def name(self) -> str:
        return f"{self.region}{self.trade}{self.industry}{self.form}"


def generate(n: int, *, duplicate_share: float = 0.1, seed: int = 7) -> Corpus:
    """Generate ``n`` customers, about ``duplicate_share`` of them duplicates of another.

    Args:
        n: how many entries in all.
        duplicate_share: the share of entries that duplicate an earlier one.
        seed: random seed; the same seed gives the same corpus.
    """
    rng = random.Random(seed)
    entries: list[Entry] = []
    companies: dict[int, _Company] = {}
    seen_keys: set[tuple[str, str, str]] = set()
    duplicates: set[tuple[int, int]] = set()
    kinds: dict[tuple[int, int], str] = {}
    originals = int(n * (1 - duplicate_share))
    while len(entries) < originals:
        phone = _mobile(rng) if rng.random() < 0.8 else _landline(rng)
        if rng.random() < 0.25:
            surname = rng.choice(SURNAMES)
            given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
            entries.append(
                Entry(surname + given, True, _mobile(rng) if rng.random() < 0.9 else None, None)
            )
            continue
        company = _Company(
            rng.choice(REGIONS),
            "".join(rng.choice(TRADE_VOCABULARY) for _ in range(rng.choice([2, 3, 3, 4]))),
            rng.choice(INDUSTRIES),
            rng.choice(COMPANY_FORMS),
        )
        # Two different companies never share region, trade name and industry.
        identity = (company.region, company.trade, company.industry)
        if identity in seen_keys:
            continue
        seen_keys.add(identity)
        companies[len(entries)] = company
        email = (
            f"info{len(entries)}@{rng.choice(['qq.com', '163.com', 'corp.cn'])}"
            if rng.random() < 0.4
            else None
        )
        entries.append(Entry(company.name(), False, phone if rng.random() < 0.9 else None, email))
    company_ids = list(companies)
    while len(entries) < n:
        source = rng.choice(company_ids)
        base, entry = companies[source], entries[source]
        kind = rng.choice(["typo", "width", "suffix", "traditional", "region", "phone"])
        phone = entry.phone if rng.random() < 0.3 else None
        if kind == "typo":
            name = attrs.evolve(base, trade=_typo(base.trade, rng)).name()
        elif kind == "width":
            name = _full_width(base.name(), rng)
        elif kind == "suffix":
            name = attrs.evolve(
                base, form=rng.choice([f for f in COMPANY_FORMS if f != base.form] + ["集团"])
            ).name()
        elif kind == "traditional":
            name = _S2T.convert(base.name())
        elif kind == "region":
            moved = f"{base.trade}{base.industry}（{base.region}）{base.form}"
            name = rng.choice([moved, f"{base.trade}{base.industry}{base.form}"])
        else:
            if entry.phone is None:
                continue
            name = attrs.evolve(base, form=rng.choice(COMPANY_FORMS)).name()
            phone = _reformat(entry.phone, rng)
        if phone is not None and kind != "phone" and rng.random() < 0.5:
            phone = _reformat(phone, rng)
        pair = (source, len(entries))
        duplicates.add(pair)
        kinds[pair] = kind
        entries.append(Entry(name, False, phone, None))
    # A duplicate of a duplicate's source duplicates the other copies too.
    by_source: dict[int, list[int]] = {}
    for a, b in duplicates:
        by_source.setdefault(a, []).append(b)
    for copies in by_source.values():
        for i, a in enumerate(copies):
            for b in copies[i + 1 :]:
                pair = (min(a, b), max(a, b))
                duplicates.add(pair)
                kinds[pair] = "sibling"
    return Corpus(entries, frozenset(duplicates), kinds)
