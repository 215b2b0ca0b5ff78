"""Pinyin search keys, the letter index and the search filter, in memory and in SQL."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from crmkit import Crm
from crmkit.customers import Customer, CustomerKind
from crmkit.customers.model.names import normalize_name
from crmkit.customers.model.search_keys import SURNAME_READINGS, letter_of, search_keys, to_pinyin
from crmkit.customers.queries.search_ranking import find_by_routes
from crmkit.customers.queries.search_routes import (
    pinyin_query,
    search_customers_query,
    search_routes,
)
from crmkit.customers.queries.search_text import (
    MAX_INITIALS_RANGES,
    MAX_READINGS,
    MAX_SEGMENTED_LETTERS,
    search_readings,
)
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import (
    FALSE,
    TRUE,
    And,
    Cond,
    Expr,
    F,
    Or,
    Order,
    Query,
    and_,
    or_,
    to_predicate,
)
from tests.customers.corpus import generate
from tests.sent_statements import sent_statements
from tests.strategies import chinese_names

HUAWEI = "北京华为科技有限公司"


def _customer(name: str, tenant: TenantId, *, person: bool = False, phone: str | None = None):
    import pendulum

    return Customer(
        id=uuid.uuid4(),
        tenant_id=tenant,
        name=name,
        created_at=pendulum.datetime(2026, 3, 2, tz="UTC"),
        kind=CustomerKind.INDIVIDUAL if person else CustomerKind.COMPANY,
        phone=phone,
    )


def _matches(text: str, names: list[str]) -> set[str]:
    tenant = TenantId(uuid.uuid4())
    predicate = to_predicate(search_customers_query(text))
    return {c.name for c in (_customer(n, tenant) for n in names) if predicate(c)}


def test_keys_hold_full_pinyin_initials_and_the_name_behind_its_region() -> None:
    keys = search_keys(HUAWEI)
    assert (keys.name_key, keys.pinyin_full, keys.pinyin_initials) == (
        "北京华为科技",
        "beijinghuaweikeji",
        "bjhwkj",
    )
    assert (keys.short_full, keys.short_initials, keys.letter) == ("huaweikeji", "hwkj", "B")


@pytest.mark.parametrize(
    "text",
    [
        "bjhw",
        "beijing",
        "huawei",
        "北京",
        "华为",
        "bjhuawei",
        "北京hw",
        "beijinghw",
        "BJHW",
        "華為",
        "ｂｊｈｗ",
    ],
)
def test_every_usual_way_of_typing_finds_the_company(text: str) -> None:
    assert _matches(text, [HUAWEI, "上海华东电子", "深圳腾讯"]) == {HUAWEI}


def test_typed_characters_must_be_in_the_name_not_just_sound_alike() -> None:
    assert _matches("北京", [HUAWEI, "背景音乐工作室"]) == {HUAWEI}
    assert _matches("beijing", [HUAWEI, "背景音乐工作室"]) == {HUAWEI, "背景音乐工作室"}


def test_polyphonic_characters_read_as_in_their_phrase() -> None:
    assert search_keys("重庆银行").pinyin_full == "chongqingyinhang"
    assert search_keys("长沙发展银行").pinyin_initials == "csfzyh"
    assert search_keys("厦门音乐学院").pinyin_full == "xiamenyinyuexueyuan"


@pytest.mark.parametrize(
    ("name", "full", "letter"),
    [
        ("曾国藩", "zengguofan", "Z"),
        ("单雄信", "shanxiongxin", "S"),
        ("解缙", "xiejin", "X"),
        ("仇英", "qiuying", "Q"),
        ("区志强", "ouzhiqiang", "O"),
        ("朴正浩", "piaozhenghao", "P"),
        ("查良镛", "zhaliangyong", "Z"),
        ("盖聂", "genie", "G"),
        ("尉迟恭", "yuchigong", "Y"),
        ("万俟卨", "moqixie", "M"),
        ("王伟", "wangwei", "W"),
    ],
)
def test_a_person_s_surname_takes_its_surname_reading(name: str, full: str, letter: str) -> None:
    keys = search_keys(name, person=True)
    assert (keys.pinyin_full, keys.letter) == (full, letter)


# Surnames read otherwise than their character's most common reading, as the published
# surname lists (百家姓 and the surname heteronym lists of pinyin tools and dictionaries)
# give them. The expected readings are written out here, not taken from the table under
# test, and every entry of the table must be among them.
PUBLISHED_SURNAME_READINGS = {
    "尉迟": "yuchi",
    "万俟": "moqi",
    "单于": "chanyu",
    "长孙": "zhangsun",
    "澹台": "tantai",
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "盖": "ge",
    "覃": "qin",
    "缪": "miao",
    "翟": "zhai",
    "乐": "yue",
    "尉": "wei",
    "秘": "bi",
    "种": "chong",
    "召": "shao",
    "员": "yun",
    "折": "she",
    "宿": "su",
    "莘": "shen",
    "藏": "zang",
    "祭": "zhai",
    "沈": "shen",
    "句": "gou",
    "隗": "wei",
    "黑": "he",
    "薄": "bo",
    "柏": "bai",
    "重": "chong",
    "长": "chang",
    "都": "du",
    "阚": "kan",
    "繁": "po",
    "臧": "zang",
    "任": "ren",
    "华": "hua",
    "纪": "ji",
    "乜": "nie",
    "佴": "nai",
    "么": "yao",
    "六": "lu",
    "卜": "bu",
    "粘": "nian",
    "扎": "za",
    "不": "fou",
    "浣": "wan",
    "贠": "yun",
    "貟": "yun",
    "蔚": "yu",
    "宓": "fu",
    "能": "nai",
    "炅": "gui",
    "洗": "xian",
    "便": "pian",
    "番": "pan",
    "颉": "xie",
    "角": "jue",
    "蕃": "pi",
}


@pytest.mark.parametrize(("surname", "reading"), sorted(PUBLISHED_SURNAME_READINGS.items()))
def test_every_surname_leading_a_person_s_name_takes_its_published_reading(
    surname: str, reading: str
) -> None:
    keys = search_keys(surname + "明", person=True)
    assert (keys.pinyin_full, keys.letter) == (reading + "ming", reading[0].upper())
    assert keys.pinyin_initials[0] == reading[0]
    assert keys.pinyin_initials.endswith("m")


def test_the_surname_table_holds_only_published_readings() -> None:
    assert {s: "".join(r) for s, r in SURNAME_READINGS.items()} == PUBLISHED_SURNAME_READINGS


def test_surname_readings_do_not_apply_to_company_names() -> None:
    assert search_keys("解放汽车").pinyin_full == "jiefangqiche"
    assert search_keys("曾国藩", person=False).pinyin_full == "cengguofan"


def test_traditional_characters_read_like_simplified_ones() -> None:
    assert search_keys("華為科技").pinyin_full == search_keys("华为科技").pinyin_full
    # pypinyin alone reads the traditional 銀行 as "yinxing"; simplifying first fixes it.
    assert search_keys("上海銀行").pinyin_full == "shanghaiyinhang"


def test_latin_words_and_digits_stay_whole() -> None:
    keys = search_keys("IBM中国")
    assert (keys.pinyin_full, keys.pinyin_initials, keys.letter) == ("ibmzhongguo", "ibmzg", "I")
    assert search_keys("123贸易").letter == "#"
    assert letter_of("") == "#"


def test_builder_agrees_with_pypinyin_on_a_realistic_corpus() -> None:
    names = [normalize_name(e.name) for e in generate(2000, seed=5).entries if not e.person]
    differing = [
        n
        for n in names
        if to_pinyin(n) != lazy_pinyin(n, style=Style.NORMAL, errors=lambda c: list(c))
    ]
    # Only a phrase longer than the context window around a character can decide otherwise.
    assert len(differing) <= len(names) // 500


@given(st.text(max_size=30))
@example("Ꭰ")  # casefold() maps Cherokee to upper case, unlike every other script
def test_keys_are_lower_case_ascii_or_kept_text_and_never_fail(name: str) -> None:
    if not name.strip():
        return
    keys = search_keys(name)
    assert keys.letter in {*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "#"}
    assert keys.pinyin_full == keys.pinyin_full.lower()


def test_blank_search_filters_nothing_and_punctuation_matches_nothing() -> None:
    assert search_customers_query("  ") == TRUE
    assert search_customers_query("!!") == FALSE


def test_digits_search_by_phone() -> None:
    tenant = TenantId(uuid.uuid4())
    customer = _customer("某某公司", tenant, phone="010-12345678")
    assert to_predicate(search_customers_query("12345678"))(customer)
    assert to_predicate(search_customers_query("+86 10 1234 5678"))(customer)


def test_changing_the_name_refreshes_the_keys() -> None:
    import pendulum

    customer = _customer(HUAWEI, TenantId(uuid.uuid4()))
    customer.change(pendulum.datetime(2026, 3, 3, tz="UTC"), name="上海腾讯", phone="13800138000")
    assert (customer.pinyin_initials, customer.letter) == ("shtx", "S")
    assert customer.phone_key == "0008310083168"
    customer.kind = CustomerKind.INDIVIDUAL
    assert customer.short_full is None


NAMES = [
    HUAWEI,
    "上海华东电子有限公司",
    "曾氏贸易",
    "重庆银行",
    "Apple Inc.",
    "背景音乐工作室",
    "華為雲",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bjhw", {HUAWEI}),
        ("huawei", {HUAWEI, "華為雲"}),
        ("华为", {HUAWEI, "華為雲"}),
        ("bjhuawei", {HUAWEI}),
        ("cqyh", {"重庆银行"}),
        ("apple", {"Apple Inc."}),
        ("h", {HUAWEI, "上海华东电子有限公司", "華為雲"}),
    ],
)
def test_search_runs_the_same_on_every_backend(crm: Crm, tenant, text, expected) -> None:
    customers = [_customer(n, tenant) for n in NAMES]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(customers))
    found = crm.run(
        tenant,
        lambda uow: uow.repository(Customer).query(Query(where=search_customers_query(text))),
    )
    assert {c.name for c in found} == expected


def test_letter_index_and_pinyin_order_on_every_backend(crm: Crm, tenant) -> None:
    customers = [_customer(n, tenant) for n in ["重庆银行", "长沙银行", "北京华为", "曾国藩"]]
    customers[-1] = _customer("曾国藩", tenant, person=True)
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(customers))
    from crmkit.kernel.query import F

    found = crm.run(
        tenant,
        lambda uow: uow.repository(Customer).query(
            Query(where=F("letter").eq("C"), order_by=(Order("pinyin_full"),))
        ),
    )
    assert [c.name for c in found] == ["长沙银行", "重庆银行"]
    stored = crm.run(tenant, lambda uow: uow.repository(Customer).get(customers[-1].id))
    assert (stored.letter, stored.pinyin_full) == ("Z", "zengguofan")


def _branches(expr: Expr) -> list[set[str]]:
    """The indexed keys each OR branch of a search filter ranges over (its prefix/equality)."""
    items = expr.items if isinstance(expr, Or) else (expr,)
    found = []
    for item in items:
        conds = item.items if isinstance(item, And) else (item,)
        found.append({c.field for c in conds if isinstance(c, Cond) and c.op != "contains"})
    return found


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("bjhw", [{"pinyin_initials"}, {"short_initials"}]),
        ("华为", [{"name_key"}, {"short_full"}]),
        ("華為科技", [{"name_key"}, {"short_full"}]),
        ("+86 138 0013 8000", None),
    ],
)
def test_the_shape_of_the_text_picks_the_keys_searched(text: str, keys) -> None:
    branches = _branches(search_customers_query(text))
    if keys is None:  # a phone number: the caller-ID key only
        assert set().union(*branches) == {"phone_key"}
    else:
        assert branches == keys


def test_spelled_out_pinyin_ranges_the_full_keys_and_its_readings_the_initials_keys() -> None:
    routes = search_routes("huawei")
    spelled, readings = (r.where for r in routes if not r.behind_region)
    assert spelled == F("pinyin_full").startswith("huawei")
    # Every letter an initial, hua-w-ei and hu-a-wei: each a range of the initials index,
    # read in one route (an OR of ranges).
    assert isinstance(readings, Or)
    ranged = [w.items[0] if isinstance(w, And) else w for w in readings.items]
    assert ranged == [
        F("pinyin_initials").startswith(prefix) for prefix in ("huawei", "hwe", "haw")
    ]


def test_every_reading_of_a_text_is_searched_in_a_bounded_number_of_ranges() -> None:
    # At most MAX_INITIALS_RANGES ranges of the initials key, in one route, and one range
    # of the full key, on the whole name and behind its region.
    texts = ["bjhuawei", "beijinghw", "cisco", "北京hw", "360", "zhongguorenminyinhang", "a" * 60]
    for text in texts:
        routes = search_routes(text)
        assert 1 <= len(routes) <= 4
        for route in routes:
            ranges = route.where.items if isinstance(route.where, Or) else (route.where,)
            assert len(ranges) <= MAX_INITIALS_RANGES


def test_a_latin_word_that_parses_as_odd_pinyin_is_still_found() -> None:
    assert _matches("cisco", ["Cisco Systems", "思科"]) == {"Cisco Systems"}
    assert _matches("ibm", ["IBM中国", "北京华为"]) == {"IBM中国"}
    assert _matches("ibmzhong", ["IBM中国"]) == {"IBM中国"}


def test_characters_match_literally_from_the_start_or_behind_the_region() -> None:
    names = [HUAWEI, "华为云", "背景音乐工作室", "上海花卉科技"]
    assert _matches("华为", names) == {HUAWEI, "华为云"}
    assert _matches("北京", names) == {HUAWEI}
    assert _matches("科技", names) == set()  # the middle of a name is not a prefix


_CROWD = [
    "武汉光谷科技",
    "武汉钢铁集团",
    "王红",
    "吴昊贸易",
    "北京武汉商会",
    "上海文化传媒",
    "北京华为科技",
    "北京百货",
    "温州鞋业",
    "万豪酒店",
    "武汉",
    "重庆银行",
    "长沙银行",
]


@pytest.mark.parametrize(
    "text", ["wh", "w", "bj", "beijing", "北京", "武汉", "bjwh", "wuhan", "cs"]
)
@pytest.mark.parametrize("dense", [1, 3, 1_000])
def test_route_by_route_search_finds_the_first_page_of_the_single_query(
    crm: Crm, tenant, text: str, dense: int
) -> None:
    # Dense routes walk the pinyin index instead of sorting their matches; whichever way
    # a route is read, the page is the one OR-ed queries over all matches give.
    customers = [_customer(n, tenant, person=len(n) == 2 and n == "王红") for n in _CROWD]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(customers))
    order = (Order("pinyin_full"), Order("id"))

    def both(uow, limit: int):
        repo = uow.repository(Customer)
        routes = search_routes(text)
        single: list[str] = []
        for behind in (False, True):  # whole-name matches first, then behind the region
            where = or_(*(r.where for r in routes if r.behind_region == behind))
            found = repo.query(Query(where=where, order_by=order))
            single += [c.name for c in found if c.name not in single]
        routed = find_by_routes(repo, TRUE, routes, limit=limit, dense=dense)
        return single[:limit], [c.name for c in routed]

    for limit in (1, 2, 5, 50):
        single, routed = crm.run(tenant, lambda uow, n=limit: both(uow, n))
        assert routed == single, limit
        assert single  # every text here finds something


def test_han_routes_walk_the_pinyin_index_only_when_the_reading_is_certain() -> None:
    fixed, behind = search_routes("北京")
    assert fixed.walk == F("pinyin_full").startswith("beijing")
    assert behind.walk is None
    # 重 reads chong or zhong, 曾 zeng as a surname: no pinyin bound can be trusted.
    assert search_routes("重庆")[0].walk is None
    assert search_routes("曾")[0].walk is None
    # Initials bound the walk by their first letter; the name behind the region does not.
    assert [r.walk for r in search_routes("wh")] == [F("pinyin_full").startswith("w"), None]


def test_whole_name_matches_rank_before_matches_behind_the_region(crm: Crm, tenant) -> None:
    names = ["北京华为科技", "华为云", "上海华为技术", "海王集团"]
    crm.run(
        tenant, lambda uow: uow.repository(Customer).add_many([_customer(n, tenant) for n in names])
    )
    found = crm.run(
        tenant,
        lambda uow: find_by_routes(uow.repository(Customer), TRUE, search_routes("hw"), limit=10),
    )
    assert [c.name for c in found] == ["海王集团", "华为云", "北京华为科技", "上海华为技术"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("text", ["huawei", "hw", "hwei", "huaw"])
def test_a_search_runs_every_statement_as_a_kept_one_on_the_driver(
    crm: Crm, tenant, text: str
) -> None:
    # Whatever the first group of routes found, the routes behind the region keep one
    # statement shape (what the page holds is left out in Python, not by an IN list that
    # SQLAlchemy renders per execution), so no statement goes through SQLAlchemy.
    import sqlalchemy as sa

    names = ["华为云", "华维物流", "北京华为科技", "上海华为技术", "杭州海王医药"]
    crm.run(
        tenant, lambda uow: uow.repository(Customer).add_many([_customer(n, tenant) for n in names])
    )
    engine = crm.storage.engine  # type: ignore[attr-defined]
    through_sqlalchemy: list[str] = []

    def listen(_conn, statement, *_args) -> None:
        through_sqlalchemy.append(str(statement))

    def search(limit: int) -> list[str]:
        return [
            c.name
            for c in crm.read(
                tenant,
                lambda uow: find_by_routes(
                    uow.repository(Customer),
                    F("deleted_at").is_null(),
                    search_routes(text),
                    limit=limit,
                ),
            )
        ]

    sa.event.listen(engine, "before_execute", listen)
    try:
        pages = {limit: search(limit) for limit in (1, 2, 3, 10)}
    finally:
        sa.event.remove(engine, "before_execute", listen)
    assert [s for s in through_sqlalchemy if "customers" in s] == []
    expected: list[str] = []
    for behind in (False, True):  # whole-name matches first, then behind the region
        matches = to_predicate(
            or_(*(r.where for r in search_routes(text) if r.behind_region == behind))
        )
        found = [n for n in names if matches(_customer(n, tenant)) and n not in expected]
        expected += sorted(found, key=lambda n: search_keys(n).pinyin_full)
    assert len(expected) > 2  # the first group leaves a page of 10 short
    assert pages == {limit: expected[:limit] for limit in (1, 2, 3, 10)}


# -- every reading of Latin letters, within a bounded search -----------------------------------


def _typed(readings: list[str], spelled: list[bool]) -> str:
    """What a person types: each character spelled out or by its initial."""
    return "".join(r if s else r[0] for r, s in zip(readings, spelled, strict=False))


def _keyed_row(keys) -> dict[str, str | None]:
    return {
        "name_key": keys.name_key,
        "pinyin_full": keys.pinyin_full,
        "pinyin_initials": keys.pinyin_initials,
        "short_full": keys.short_full,
        "short_initials": keys.short_initials,
    }


@settings(max_examples=300, deadline=None)
@given(name=chinese_names(), data=st.data())
def test_every_mix_of_spelled_syllables_and_initials_finds_the_name(name: str, data) -> None:
    for person in (False, True):
        keys = search_keys(name, person=person)
        readings = to_pinyin(keys.name_key, person=person)
        assume("".join(readings) == keys.pinyin_full and keys.pinyin_full.isalpha())
        # The first k characters (up to four: what a person types to find a name), each
        # spelled out or by its initial.
        k = data.draw(st.integers(1, min(4, len(readings))))
        spelled = data.draw(st.lists(st.booleans(), min_size=k, max_size=k))
        text = _typed(readings[:k], spelled)
        if person:  # contacts, leads and deals keep the keys of the whole name only
            assert to_predicate(pinyin_query(text))(_keyed_row(keys)), text
        else:
            assert to_predicate(search_customers_query(text))(_keyed_row(keys)), text


@pytest.mark.parametrize(
    "text",
    ["cqca", "caqc", "ca", "chongqca", "cqchangan", "chongqingchangan", "cqcaqc", "chongqcaqiche"],
)
def test_initials_that_hold_a_syllable_still_find_the_name_on_every_backend(
    crm: Crm, actor, text: str
) -> None:
    from crmkit.customers import register_customer
    from crmkit.customers.queries.search_all import global_search
    from crmkit.customers.services import search_customers

    changan = register_customer(crm, actor, name="重庆长安汽车股份有限公司")
    register_customer(crm, actor, name="重庆长城汽车")  # cqccqc: not what was typed
    assert [c.id for c in search_customers(crm, actor, text)] == [changan.id]
    assert [h.id for h in global_search(crm, actor, text).of("customer")] == [changan.id]


@pytest.mark.parametrize("text", ["zw", "zhangwei", "zwei", "zhangw", "ZWei", "zhangwe"])
def test_contacts_are_found_by_every_mix_of_their_name_on_every_backend(
    crm: Crm, actor, text: str
) -> None:
    from crmkit.customers import add_contact, register_customer
    from crmkit.customers.queries.search_all import global_search

    customer = register_customer(crm, actor, name="北京华为科技")
    zhang = add_contact(crm, actor, customer.id, name="张伟")
    add_contact(crm, actor, customer.id, name="赵文")  # zw too, but not zwei
    found = [h.id for h in global_search(crm, actor, text).of("contact")]
    assert zhang.id in found
    assert len(found) == (2 if text == "zw" else 1)


PASTED = [
    "a" * 200,
    "zhongguo" * 25,
    "1" * 200,
    "北京hw😀\u200b",
    "😀😀😀",
    " \t\n " * 1000,
    "a\x00b\x07c",
    "\x00",
    "\ud800华为",
    "华为\udfff",
    "重庆" * 100,
    "ｂｊｈｗ",
    "Ω≈ç√∫",
    "'; DROP TABLE customers; --",
    "%_\\",
]


@pytest.mark.parametrize("text", PASTED, ids=range(len(PASTED)))
def test_any_pasted_text_is_answered_on_every_backend(crm: Crm, actor, text: str) -> None:
    from crmkit.customers import register_customer
    from crmkit.customers.queries.search_all import global_search
    from crmkit.customers.services import search_customers

    register_customer(crm, actor, name="重庆长安汽车")
    assert isinstance(search_customers(crm, actor, text), list)
    assert isinstance(global_search(crm, actor, text).hits, tuple)


@pytest.mark.parametrize("text", ["a" * 500, "1" * 1000, "中" * 100_000, "zhongguo" * 12_500])
def test_text_longer_than_any_name_is_refused_on_the_text_field(crm: Crm, actor, text) -> None:
    from crmkit import ValidationError
    from crmkit.customers.queries.search_all import global_search
    from crmkit.customers.services import search_customers

    for search in (search_customers, global_search):
        with pytest.raises(ValidationError) as refused:
            search(crm, actor, text)
        assert (refused.value.entity, refused.value.field) == ("search", "text")


def test_the_readings_explored_are_bounded_however_the_letters_repeat() -> None:
    assert search_readings("cqca") == [("c", "q", "ca"), ("c", "q", "c", "a")]
    # Sixty letters have millions of readings: the best MAX_READINGS are kept, fewest
    # initials first, and the text spelled out and as initials are always searched.
    for text in ["an" * 30, "zhuang" * 10, "e" * 60, "xian" * 15]:
        readings = search_readings(text)
        assert 1 <= len(readings) <= MAX_READINGS
        costs = [sum(len(u) == 1 for u in r) for r in readings]
        assert costs == sorted(costs)
        assert all("".join(r) == text for r in readings)
    # Longer texts are read two ways only.
    routes = search_routes("a" * (MAX_SEGMENTED_LETTERS + 1))
    assert [str(r.where.field) for r in routes if isinstance(r.where, Cond)] == [
        "pinyin_full",
        "pinyin_initials",
        "short_full",
        "short_initials",
    ]


def test_letters_that_open_no_syllable_are_never_initials() -> None:
    assert search_readings("ibm") == []
    assert _matches("ibmzg", ["IBM中国"]) == {"IBM中国"}
    assert _matches("lvse", ["绿色能源"]) == {"绿色能源"}


def test_sqlite_reads_each_range_of_the_readings_from_its_index(sqlite_engine, tenant) -> None:
    # The tenant goes into each branch of the OR, so SQLite unites index ranges instead
    # of scanning the tenant's customers (tenant AND (a OR b) scans them all).
    import sqlalchemy as sa

    from crmkit import connect

    crm = connect(sqlite_engine, migrate=False)
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, params, _context, _many) -> None:
        seen.append((statement, params))

    sa.event.listen(sqlite_engine, "before_cursor_execute", keep)
    try:
        routes = search_routes("zhangwei")
        crm.run(
            tenant,
            lambda uow: find_by_routes(uow.repository(Customer), TRUE, routes, limit=20),
        )
    finally:
        sa.event.remove(sqlite_engine, "before_cursor_execute", keep)
    plans = []
    with sqlite_engine.connect() as conn:
        for statement, params in seen:
            if statement.startswith("SELECT") and "pinyin_initials >=" in statement:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
                plans.append(" ".join(str(row[-1]) for row in rows))
    assert plans
    assert all("MULTI-INDEX OR" in plan for plan in plans), plans


def test_a_route_within_a_scope_is_made_once_for_the_same_parts() -> None:
    # A store handed the very filter it saw before finds its statement and values at
    # once; the filter is the same whenever the route and the scope's parts are.
    from crmkit.customers.queries.search_ranking import _within
    from crmkit.kernel.query import and_

    route = next(r for r in search_routes("zhangwei") if isinstance(r.where, Or))
    live, mine = F("deleted_at").is_null(), F("owner_id").eq(uuid.uuid4())
    assert _within(live, route.where) is _within(live, route.where)
    made = _within(and_(mine, live), route.where)
    assert made is _within(and_(mine, live), route.where)  # a new scope of the same parts
    assert made == or_(*(and_(mine, live, branch) for branch in route.where.items))
    theirs = _within(and_(F("owner_id").eq(uuid.uuid4()), live), route.where)
    assert theirs != made
    plain = search_routes("bjhw")[0].where
    assert _within(live, plain) == and_(live, plain)


def test_the_pinyin_filter_of_a_text_is_read_once() -> None:
    # Reading the letters every way costs milliseconds for a spelled-out name; global
    # search asks for it for contacts, leads and deals on every keystroke.
    assert pinyin_query("zhangwei") is pinyin_query("zhangwei")
    assert pinyin_query("ZHANGWEI") == pinyin_query("zhangwei")
    assert pinyin_query("zhangwei") != pinyin_query("zhangwen")
    assert pinyin_query("!!") == FALSE


def test_postgresql_reads_every_range_of_the_readings_from_an_index(pg_engine, tenant) -> None:
    # With sequential scans priced out, a plan that still ORs bitmap index scans shows
    # every branch (one range of an initials key each) can be read from its index.
    import sqlalchemy as sa

    from crmkit import connect

    crm = connect(pg_engine, migrate=False)
    # Enough of a tenant that reading it whole through any (tenant, ...) index is the
    # dearer plan, with statistics as autovacuum would gather them.
    people = [_customer(e.name, tenant, person=e.person) for e in generate(3000, seed=5).entries]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(people))
    with pg_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE customers")
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, params, _context, _many) -> None:
        seen.append((statement, params))

    route = next(r for r in search_routes("zhangwei") if isinstance(r.where, Or))
    sa.event.listen(pg_engine, "before_cursor_execute", keep)
    try:
        crm.run(
            tenant,
            lambda uow: find_by_routes(
                uow.repository(Customer),
                F("deleted_at").is_null(),
                search_routes("zhangwei"),
                limit=20,
            ),
        )
    finally:
        sa.event.remove(pg_engine, "before_cursor_execute", keep)
    plans = []
    with pg_engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in seen:
            if statement.startswith("SELECT") and "pinyin_initials >=" in statement:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, params)
                plans.append("\n".join(str(row[0]) for row in rows))
        conn.rollback()
    assert plans
    for plan in plans:
        assert "BitmapOr" in plan, plan
        assert plan.count("Bitmap Index Scan on ix_customers_pinyin_initials") == len(
            route.where.items
        ), plan


def test_mariadb_walks_the_pinyin_index_in_order_for_a_broad_search(mysql_engine, tenant) -> None:
    # MariaDB indexes TEXT by a prefix, and a prefix index never yields ORDER BY's order:
    # the page statement alone sorts every match (a scan of the tenant for "wh" at a
    # million customers). The walk reads the index in order with no sort, and the page
    # statement after it is bounded by the last value the walk found.
    from crmkit import connect

    crm = connect(mysql_engine, migrate=False)
    people = [_customer(e.name, tenant, person=e.person) for e in generate(2000, seed=5).entries]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(people))
    with mysql_engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE TABLE customers")
    live = F("deleted_at").is_null()
    with sent_statements(mysql_engine) as seen:
        for text in ("wh", "beijing"):  # a dense route's walk, a spelled-out route
            crm.read(
                tenant,
                lambda uow, t=text: find_by_routes(
                    uow.repository(Customer), live, search_routes(t), limit=20, dense=10
                ),
            )
    walks = [(s, p) for s, p in seen if "FORCE INDEX" in s]
    assert len(walks) == 2, [s for s, _ in seen]
    with mysql_engine.connect() as conn:
        for statement, params in walks:
            assert "ORDER BY" not in statement, statement
            assert "ROWS EXAMINED" in statement, statement
            # EXPLAIN takes no LIMIT ROWS EXAMINED; the plan is the same without it.
            plain = statement.split(" ROWS EXAMINED")[0]
            plan = conn.exec_driver_sql("EXPLAIN " + plain, params).mappings().one()
            assert plan["key"] == "ix_customers_pinyin_full_pinyin_initials", plan
            assert "filesort" not in (plan["Extra"] or ""), plan
    pages = [s for s, _ in seen if "ORDER BY customers.pinyin_full" in s]
    assert sum("customers.pinyin_full <= " in s for s in pages) == 2, pages


def test_mariadb_leaves_a_broad_search_within_a_narrow_view_to_its_planner(
    mysql_engine, tenant
) -> None:
    # "wh" is dense in the tenant, but an actor who sees a handful of customers would
    # have the walk examine thousands of rows in pinyin order to find them: the page of
    # such a view is read as MariaDB plans it (through the owner's index), the same page.
    from crmkit import connect

    crm = connect(mysql_engine, migrate=False)
    owner = uuid.uuid4()
    people = [_customer(e.name, tenant, person=e.person) for e in generate(600, seed=5).entries]
    mine = [p for p in people if p.pinyin_initials.startswith("wh")][:3] + people[:2]
    assert len(mine) == 5
    for person in mine:
        person.owner_id = owner
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(people))

    def search(scope, dense: int) -> list[str]:
        return crm.read(
            tenant,
            lambda uow: [
                c.name
                for c in find_by_routes(
                    uow.repository(Customer), scope, search_routes("wh"), limit=20, dense=dense
                )
            ],
        )

    view = and_(F("deleted_at").is_null(), F("owner_id").eq(owner))
    with sent_statements(mysql_engine) as seen:
        walked = search(F("deleted_at").is_null(), dense=10)
    assert any("FORCE INDEX" in s for s, _ in seen)
    with sent_statements(mysql_engine) as seen:
        narrow = search(view, dense=10)
    assert not any("FORCE INDEX" in s for s, _ in seen), seen
    assert walked == search(F("deleted_at").is_null(), dense=1_000_000)  # never walked
    assert narrow == search(view, dense=1_000_000)
    assert len(narrow) >= 3
