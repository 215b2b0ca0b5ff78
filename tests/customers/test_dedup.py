"""Duplicate customers: the normal form of names, entry control and batch detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm, ValidationError
from crmkit.customers.model.dedup import (
    DedupRecord,
    DuplicatePolicy,
    check_duplicate_name,
    find_duplicates,
    trade_name,
)
from crmkit.customers.model.names import fold_text, normalize_name, split_region
from crmkit.customers.model.phones import phone_key
from crmkit.customers.model.search_keys import search_keys
from crmkit.kernel.actor import Actor
from tests.customers.corpus import Corpus, generate


@pytest.mark.parametrize(
    "written",
    [
        "北京华为科技有限公司",
        "北京华为科技股份有限公司",
        " 北京 华为 科技 ",
        "北京華為科技有限公司",
        "华为科技（北京）有限公司",
        "华为科技(北京市)有限公司",
        "北京华为科技集团",
    ],
)
def test_ways_of_writing_one_company_share_a_key(written: str) -> None:
    assert normalize_name(written) == "北京华为科技"


def test_latin_company_forms_go_as_whole_words() -> None:
    assert normalize_name("ＨＵＡＷＥＩ Technologies Co., Ltd.") == "huaweitechnologies"
    assert normalize_name("Siemens GmbH") == normalize_name("SIEMENS")
    assert normalize_name("Cisco") == "cisco"  # "co" at the end of a word is not a form
    assert normalize_name("Apple Inc.") == "apple"


def test_a_name_that_is_only_a_company_form_keeps_it() -> None:
    assert normalize_name("有限公司") == "有限公司"
    assert normalize_name("Ltd.") == "ltd"


def test_a_bracketed_china_is_dropped_and_branches_stay_apart() -> None:
    assert normalize_name("微软（中国）有限公司") == "微软"
    assert normalize_name("华为上海分公司") != normalize_name("华为")


def test_split_region_finds_the_trade_name() -> None:
    assert split_region("广东深圳腾讯") == ("广东深圳", "腾讯")
    assert split_region("广东省腾讯") == ("广东省", "腾讯")
    assert split_region("北京") == ("", "北京")


@given(st.text(max_size=40))
def test_normalising_is_idempotent_and_never_empties_a_name(name: str) -> None:
    key = normalize_name(name)
    assert normalize_name(key) == key or not fold_text(name)
    if fold_text(name):
        assert key


def test_blocking_policy_refuses_a_duplicate_name() -> None:
    existing = [("c1", "北京华为科技"), ("c2", "上海腾讯")]
    check = check_duplicate_name("北京華為科技股份有限公司", existing, DuplicatePolicy.BLOCK)
    assert check.matches == ("c1",)
    with pytest.raises(ValidationError) as raised:
        check.require()
    assert (raised.value.entity, raised.value.field) == ("customer", "name")


def test_warn_reports_and_allow_ignores() -> None:
    existing = [("c1", "北京华为科技")]
    warned = check_duplicate_name("北京华为科技", existing, DuplicatePolicy.WARN)
    assert warned.is_duplicate
    assert not warned.is_blocked
    assert warned.require() is warned
    allowed = check_duplicate_name("北京华为科技", existing, DuplicatePolicy.ALLOW)
    assert not allowed.is_duplicate
    assert not check_duplicate_name("深圳腾讯", existing, DuplicatePolicy.BLOCK).is_blocked


def _records(corpus: Corpus) -> list[DedupRecord]:
    records = []
    for index, entry in enumerate(corpus.entries):
        keys = search_keys(entry.name, person=entry.person)
        phone = phone_key(entry.phone)
        records.append(
            DedupRecord(
                id=index,
                name_key=keys.name_key,
                pinyin_full=keys.pinyin_full,
                pinyin_initials=keys.pinyin_initials,
                phones=(phone,) if phone else (),
                emails=(entry.email,) if entry.email else (),
                person=entry.person,
            )
        )
    return records


def test_batch_detection_finds_known_duplicates_with_high_recall_and_precision() -> None:
    corpus = generate(2000, seed=21)
    found = find_duplicates(_records(corpus))
    pairs = {(min(c.first, c.second), max(c.first, c.second)) for c in found}  # type: ignore[type-var]
    hits = pairs & corpus.duplicates
    assert len(hits) / len(corpus.duplicates) >= 0.95
    assert len(hits) / len(pairs) >= 0.9
    assert set(corpus.kinds.values()) >= {
        "typo",
        "width",
        "suffix",
        "traditional",
        "region",
        "phone",
    }


def test_each_kind_of_mistake_is_found() -> None:
    companies = [
        ("北京华创科技有限公司", "13800138000"),
        ("北京华创科技股份有限公司", None),  # suffix
        ("北京華創科技有限公司", None),  # traditional
        ("北京华创 科技　有限公司", None),  # spaces, full-width space
        ("华创科技（北京）有限公司", None),  # region in brackets
        ("北京华刨科技有限公司", None),  # typo
        ("华创科技", "+86 138-0013-8000"),  # region dropped, phone reformatted
    ]
    records = [
        DedupRecord(
            i,
            search_keys(n).name_key,
            search_keys(n).pinyin_full,
            search_keys(n).pinyin_initials,
            (phone_key(p),) if p else (),
        )
        for i, (n, p) in enumerate(companies)
    ]
    found = {(c.first, c.second) for c in find_duplicates(records)}
    assert {(0, i) for i in range(1, len(companies))} <= found


def test_people_with_the_same_name_are_not_duplicates_without_a_shared_contact() -> None:
    records = [
        DedupRecord("a", "王伟", "wangwei", "ww", (phone_key("13800138000"),), person=True),  # type: ignore[arg-type]
        DedupRecord("b", "王伟", "wangwei", "ww", (phone_key("13900139000"),), person=True),  # type: ignore[arg-type]
        DedupRecord("c", "王伟", "wangwei", "ww", (phone_key("138 0013 8000"),), person=True),  # type: ignore[arg-type]
    ]
    found = find_duplicates(records)
    assert [(c.first, c.second, "phone" in c.reasons) for c in found] == [("a", "c", True)]


def test_different_cities_are_different_customers() -> None:
    records = [
        DedupRecord(i, search_keys(n).name_key)
        for i, n in enumerate(["北京华创科技", "上海华创科技"])
    ]
    assert find_duplicates(records) == []


def _company(i: int, name: str, phone: str | None = None) -> DedupRecord:
    keys = search_keys(name)
    return DedupRecord(
        i,
        keys.name_key,
        keys.pinyin_full,
        keys.pinyin_initials,
        (phone_key(phone),) if phone else (),
    )


def test_trade_name_is_what_stands_between_region_and_industry() -> None:
    assert trade_name(split_region("北京华创网络科技")[1]) == "华创"
    assert trade_name("科技") == "科技"
    assert trade_name("华为") == "华为"


def test_a_short_trade_name_one_character_apart_needs_more_evidence() -> None:
    # Without a region, a phone or an email, "华创科技" / "华鼎科技" are two companies.
    assert find_duplicates([_company(0, "华创科技"), _company(1, "华鼎科技")]) == []
    # The same stated region, or a shared phone, makes the typo reading likely again.
    assert [
        (c.first, c.second)
        for c in find_duplicates([_company(0, "北京华创科技"), _company(1, "北京华鼎科技")])
    ] == [(0, 1)]
    assert [
        (c.first, c.second)
        for c in find_duplicates(
            [_company(0, "华创科技", "13800138000"), _company(1, "华鼎科技", "138 0013 8000")]
        )
    ] == [(0, 1)]


def test_a_longer_trade_name_one_character_apart_is_a_typo_on_its_own() -> None:
    found = find_duplicates([_company(0, "华创鼎盛科技"), _company(1, "华刨鼎盛科技")])
    assert [(c.first, c.second, c.reasons) for c in found] == [(0, 1, ("similar_name",))]


def test_a_large_realistic_corpus_keeps_precision() -> None:
    # 20,000 customers from a vocabulary of thousands of characters: distinct companies
    # whose short trade names are one character apart must not swamp the real finds.
    corpus = generate(20_000, seed=5)
    found = find_duplicates(_records(corpus))
    pairs = {(min(c.first, c.second), max(c.first, c.second)) for c in found}  # type: ignore[type-var]
    hits = pairs & corpus.duplicates
    assert len(hits) / len(corpus.duplicates) >= 0.97
    assert len(hits) / len(pairs) >= 0.95


def test_one_tax_id_is_one_company_whatever_the_names_say() -> None:
    records = [
        DedupRecord("a", "北京华为科技", tax_id="91110000802100433B"),
        DedupRecord("b", "华为技术北京分部", tax_id="91110000802100433B"),
        DedupRecord("c", "华为技术北京分部", tax_id="91110000MA01234567"),
    ]
    found = find_duplicates(records)
    assert [(c.first, c.second, c.score, c.reasons) for c in found if c.reasons == ("tax_id",)] == [
        ("a", "b", 100.0, ("tax_id",))
    ]


def _with_contact_phone(i: int, name: str, phone: str) -> DedupRecord:
    keys = search_keys(name)
    return DedupRecord(
        i,
        keys.name_key,
        keys.pinyin_full,
        keys.pinyin_initials,
        contact_phones=(phone_key(phone),),  # type: ignore[arg-type]
    )


def test_a_phone_shared_with_another_customers_contact_is_a_weaker_signal() -> None:
    # Caller ID opens a customer from its contact's mobile; dedup now reads it too. A
    # contact's mobile may be a person who deals for several companies (an agent, a
    # group's accountant), so it lifts a similar name less than a shared own phone.
    through_contact = find_duplicates(
        [
            _company(0, "华创鼎盛科技", "13800138000"),
            _with_contact_phone(1, "华创科技", "138 0013 8000"),
        ]
    )
    assert [(c.first, c.second, c.reasons) for c in through_contact] == [(0, 1, ("contact_phone",))]
    own = find_duplicates(
        [_company(0, "华创鼎盛科技", "13800138000"), _company(1, "华创科技", "138 0013 8000")]
    )
    assert [(c.first, c.second, c.reasons) for c in own] == [(0, 1, ("phone",))]
    assert own[0].score > through_contact[0].score
    # Without the shared number the names alone are not enough.
    assert find_duplicates([_company(0, "华创鼎盛科技"), _company(1, "华创科技")]) == []


def test_two_customers_whose_contacts_share_a_mobile_are_candidates_too() -> None:
    found = find_duplicates(
        [
            _with_contact_phone(0, "华创鼎盛科技", "13800138000"),
            _with_contact_phone(1, "华创科技", "+86 138-0013-8000"),
        ]
    )
    assert [(c.first, c.second, c.reasons) for c in found] == [(0, 1, ("contact_phone",))]


def test_a_shared_contact_phone_does_not_join_unrelated_names_or_people() -> None:
    assert (
        find_duplicates(
            [
                _company(0, "华创鼎盛科技", "13800138000"),
                _with_contact_phone(1, "恒通物流", "13800138000"),
            ]
        )
        == []
    )
    people = [
        DedupRecord("a", "王伟", "wangwei", "ww", (phone_key("13800138000"),), person=True),  # type: ignore[arg-type]
        DedupRecord(
            "b",
            "王伟",
            "wangwei",
            "ww",
            contact_phones=(phone_key("13800138000"),),  # type: ignore[arg-type]
            person=True,
        ),
    ]
    assert find_duplicates(people) == []


def test_a_record_built_from_a_customer_reads_its_contacts_phones(crm: Crm, actor: Actor) -> None:
    from crmkit.customers import add_contact, list_contacts, register_customer

    first = register_customer(crm, actor, name="华创鼎盛科技", phone="13800138000")
    second = register_customer(crm, actor, name="华创科技", phone="010-62345678")
    add_contact(crm, actor, second.id, name="王伟", phones=["0755-8888 9999", "+86 138 0013 8000"])
    record = DedupRecord.from_customer(second, contacts=list_contacts(crm, actor, second.id))
    assert record.phones == (phone_key("010-62345678"),)
    assert record.contact_phones == tuple(
        sorted({phone_key("0755-8888 9999"), phone_key("13800138000")})  # type: ignore[type-var]
    )
    found = find_duplicates([DedupRecord.from_customer(first), record])
    assert [(c.first, c.second, c.reasons) for c in found] == [
        (first.id, second.id, ("contact_phone",))
    ]
