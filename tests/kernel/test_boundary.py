"""The type check at the door of every public service (``crmkit.kernel.boundary``)."""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.boundary import checked_types, is_checked
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money


class Colour(enum.Enum):
    RED = "red"


class Port(Protocol):
    def read(self) -> str: ...


def _service(
    crm: object,
    actor: object,
    name: str,
    *,
    note: str | None = None,
    limit: int = 10,
    flag: bool = False,
    owner: UserId | None = None,
    ids: Sequence[UUID] = (),
    lazy: Iterable[UUID] = (),
    choose: Mapping[str, UUID] | None = None,
    amount: Money | None = None,
    rate: Decimal | str | None = None,
    on: dt.date | None = None,
    colour: Colour | None = None,
    mode: Literal["a", "b"] = "a",
    port: Port | None = None,
    hook: Callable[[str], str] | None = None,
    pair: tuple[str, UUID] | None = None,
    extra: Any = None,
) -> str:
    return name


service = checked_types(_service)


def test_arguments_of_the_annotated_types_pass_through() -> None:
    uid = uuid4()
    assert (
        service(
            None,
            None,
            "华东精工",
            note=None,
            limit=0,
            flag=True,
            owner=UserId(uid),
            ids=[uid],
            lazy=iter([uid]),
            choose={"name": uid},
            pair=("x", uid),
            hook=str.upper,
        )
        == "华东精工"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": 12}, "name must be str, not int"),
        ({"note": b"x"}, "note must be str | None, not bytes"),
        ({"limit": "10"}, "limit must be int, not str"),
        ({"limit": True}, "limit must be int, not bool"),
        ({"flag": 1}, "flag must be bool, not int"),
        ({"owner": str(uuid4())}, "owner must be UserId | None, not str"),
        ({"ids": "abc"}, "ids must be Sequence[UUID], not str holding str"),
        ({"ids": [uuid4(), 3]}, "ids must be Sequence[UUID], not list holding int"),
        ({"choose": ["name"]}, "choose must be Mapping[str, UUID] | None, not list"),
        (
            {"choose": {"name": "not an id"}},
            "choose must be Mapping[str, UUID] | None, not dict holding str",
        ),
        ({"hook": "upper"}, "hook must be Callable[[str], str] | None, not str"),
        ({"pair": ("x",)}, "pair must be tuple[str, UUID] | None, not tuple"),
    ],
)
def test_an_argument_of_another_type_is_a_type_error_naming_the_parameter(
    kwargs: dict[str, Any], message: str
) -> None:
    arguments = {"name": "x", **kwargs}
    with pytest.raises(TypeError) as caught:
        service(None, None, **arguments)
    assert str(caught.value) == message


def test_a_positional_argument_is_checked_by_its_parameter() -> None:
    with pytest.raises(TypeError) as caught:
        service(None, None, 12)
    assert str(caught.value) == "name must be str, not int"


@pytest.mark.parametrize(
    "kwargs",
    [
        # What a kernel converter reads from a form is the service's to accept or refuse.
        {"amount": {"amount": "100", "currency": "CNY"}},
        {"amount": "100"},
        {"rate": 15},
        {"on": "2026-03-01"},
        {"colour": "red"},
        {"colour": "robot"},
        {"mode": "z"},
        {"port": object()},
        {"extra": object()},
    ],
)
def test_values_a_converter_or_a_port_reads_are_left_to_the_service(
    kwargs: dict[str, Any],
) -> None:
    assert service(None, None, "x", **kwargs) == "x"


def test_an_iterator_is_not_consumed_by_the_check() -> None:
    seen: list[UUID] = []

    def _consume(crm: object, actor: object, lazy: Iterable[UUID]) -> None:
        seen.extend(lazy)

    ids = [uuid4(), uuid4()]
    lazy: Iterator[UUID] = iter(ids)
    checked_types(_consume)(None, None, lazy)
    assert seen == ids


def test_the_checked_service_keeps_the_name_signature_and_annotations() -> None:
    import inspect

    assert service.__name__ == "_service"
    assert service.__wrapped__ is _service  # type: ignore[attr-defined]
    assert inspect.signature(service) == inspect.signature(_service)
    assert is_checked(service)
    assert not is_checked(_service)


def test_every_registered_service_is_the_checked_one_under_its_public_name() -> None:
    for area in ("crmkit.customers", "crmkit.pipeline", "crmkit.billing"):
        importlib.import_module(area)
    from crmkit.rules.permissions.catalog import registered_services, service_spec

    specs = registered_services()
    assert len(specs) > 150
    for spec in specs:
        package, name = spec.name.rsplit(".", 1)
        public = getattr(sys.modules[package], name)
        assert public is spec.function, spec.name
        assert is_checked(public), spec.name
        assert service_spec(public) is spec
        assert service_spec(public.__wrapped__) is spec


def test_a_registered_service_refuses_a_wrong_type_naming_the_parameter(
    crm: Crm, actor: Actor
) -> None:
    from crmkit.customers import get_customer, search_customers

    with pytest.raises(TypeError) as caught:
        search_customers(crm, actor, 12)  # type: ignore[arg-type]
    assert str(caught.value) == "text must be str, not int"
    with pytest.raises(TypeError) as caught:
        get_customer(crm, actor, customer_id=str(uuid4()))  # type: ignore[arg-type]
    assert str(caught.value) == "customer_id must be UUID, not str"
