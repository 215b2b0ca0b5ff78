"""Caller ID: any written form of a number gives one key; incoming numbers find it."""

from __future__ import annotations

import uuid

import pendulum
import pytest

from crmkit import Crm
from crmkit.customers import Customer
from crmkit.customers.model.phones import caller_id_query, normalize_phone, phone_key
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import FALSE, Query, to_predicate


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "+86 138-0013-8000",
        "0086 13800138000",
        "86-13800138000",
        "(+86)138 0013 8000",
        "013800138000",
        "１３８００１３８０００",
    ],
)
def test_every_way_of_writing_a_mobile_gives_one_key(written: str) -> None:
    key = normalize_phone(written)
    assert key is not None
    assert (key.e164, key.lookup_key) == ("+8613800138000", "0008310083168")


@pytest.mark.parametrize(
    ("written", "extension"),
    [
        ("010-12345678", None),
        ("(010)12345678", None),
        ("+86 10 1234 5678", None),
        ("0086-10-12345678", None),
        ("010 1234 5678 转 801", "801"),
        ("010-12345678 分机 801", "801"),
        ("+86 10 12345678 ext. 801", "801"),
        ("(010)12345678-801", "801"),
        ("010-12345678#801", "801"),
    ],
)
def test_landlines_keep_area_code_and_set_the_extension_apart(written, extension) -> None:
    key = normalize_phone(written)
    assert key is not None
    assert (key.e164, key.extension) == ("+861012345678", extension)


def test_foreign_and_incomplete_numbers() -> None:
    assert normalize_phone("+1 650-253-0000").e164 == "+16502530000"  # type: ignore[union-attr]
    local = normalize_phone("8765 4321")
    assert local is not None
    assert (local.e164, local.digits) == (None, "87654321")
    assert normalize_phone("no number") is None
    assert phone_key(None) is None
    assert phone_key("") is None


def _matches(incoming: str, stored: str) -> bool:
    record = {"phone_key": phone_key(stored)}
    return to_predicate(caller_id_query(incoming))(record)


def test_incoming_numbers_find_the_stored_one_in_any_format() -> None:
    assert _matches("+8613800138000", "138 0013 8000")
    assert _matches("013800138000", "+86 138-0013-8000")
    assert _matches("02087654321", "(020) 8765-4321 转 12")
    # A PBX that passes only the local number still finds the landline ...
    assert _matches("87654321", "020-87654321")
    # ... and a full incoming number finds a landline stored without its area code.
    assert _matches("+86 20 8765 4321", "87654321")
    assert not _matches("+86 21 8765 4322", "020-87654321")
    assert not _matches("13800138001", "13800138000")


def test_too_short_or_empty_numbers_match_nothing_broad() -> None:
    assert caller_id_query("hello") == FALSE
    assert not _matches("4321", "020-87654321")  # a 4-digit tail would match far too much


def test_caller_id_is_one_indexed_lookup_on_every_backend(crm: Crm, tenant: TenantId) -> None:
    now = pendulum.datetime(2026, 3, 2, tz="UTC")
    customers = [
        Customer(id=uuid.uuid4(), tenant_id=tenant, name=name, created_at=now, phone=phone)
        for name, phone in [("甲", "020-87654321"), ("乙", "+86 138 0013 8000"), ("丙", None)]
    ]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(customers))

    def who(number: str) -> list[str]:
        found = crm.run(
            tenant,
            lambda uow: uow.repository(Customer).query(Query(where=caller_id_query(number))),
        )
        return sorted(c.name for c in found)

    assert who("13800138000") == ["乙"]
    assert who("+862087654321") == ["甲"]
    assert who("87654321") == ["甲"]
    assert who("95588") == []
