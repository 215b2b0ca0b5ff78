"""Reading annotations (crmkit.kernel.hints): the one reading boundary, limits and memory share."""

from __future__ import annotations

import uuid
from typing import Any, NewType, Optional, Union

import attrs

from crmkit.kernel.hints import field_hints, newtype_base, stored_type, union_arms
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money

OwnerId = NewType("OwnerId", UserId)  # a NewType of a NewType


def test_a_union_is_its_arms_and_anything_else_one_arm() -> None:
    assert union_arms(int | None) == (int, type(None))
    assert union_arms(Optional[int]) == (int, type(None))  # noqa: UP045 - the old spelling too
    assert union_arms(Union[int, str]) == (int, str)  # noqa: UP007
    assert union_arms(list[int | None]) == (list[int | None],)
    assert union_arms(Any) == (Any,)


def test_a_newtype_is_read_as_the_type_it_stands_for_through_every_layer() -> None:
    assert newtype_base(UserId) is uuid.UUID
    assert newtype_base(OwnerId) is uuid.UUID
    assert newtype_base(str) is str


def test_the_stored_type_drops_none_and_newtype_and_says_whether_none_is_allowed() -> None:
    assert stored_type(OwnerId | None) == (uuid.UUID, True)
    assert stored_type(Money) == (Money, False)
    assert stored_type(int | str) == (int | str, False)  # several arms: left to the caller
    assert stored_type(int | str | None) == (int | str | None, True)


@attrs.define
class _Row:
    owner: UserId | None
    total: Money


@attrs.define
class _Dangling:
    other: NoSuchType  # type: ignore[name-defined]  # noqa: F821
    note: str


def test_field_hints_resolve_the_annotation_of_every_field() -> None:
    assert field_hints(_Row) == {"owner": UserId | None, "total": Money}


def test_a_forward_reference_that_does_not_resolve_leaves_every_field_any() -> None:
    assert field_hints(_Dangling) == {"other": Any, "note": Any}
