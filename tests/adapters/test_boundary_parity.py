"""Generated input at the public services: only ``CrmError``s escape, and memory, SQLite,
PostgreSQL and MariaDB accept and refuse the same values with the same stored result
(issues 15 and 17).

Each example draws one field of one service and a value a person could type or
upload for it (``tests/boundary_strategies.py``), runs the call on every backend
side by side — each with its own storage, the same tenant and the same sequence of
earlier calls — and compares what happened: refused with the same error naming the
same field, or stored with the same values read back from storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm, connect
from crmkit.adapters.memory import MemoryStorage
from crmkit.billing import DocumentRef, TermLine, create_plan, record_receipt
from crmkit.billing.model.plans import Plan
from crmkit.billing.model.receipts import Receipt
from crmkit.customers import Customer, register_customer, update_customer
from crmkit.customers.model.contacts import Contact
from crmkit.customers.services.contacts import add_contact, update_contact
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import CrmError
from crmkit.kernel.ids import SequentialIdGenerator, TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.pipeline import define_sales_process, open_opportunity
from crmkit.pipeline.model.opportunities import Opportunity, default_process
from crmkit.rules.permissions import bootstrap_tenant
from tests.boundary_strategies import (
    user_amounts,
    user_dates,
    user_decimals,
    user_instants,
    user_ints,
    user_texts,
)

BOUNDARY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@attrs.define
class Side:
    """One backend in the comparison, with the records the calls refer to."""

    name: str
    crm: Crm
    actor: Actor
    customer_id: uuid.UUID = attrs.field(init=False, default=None)
    process_id: uuid.UUID = attrs.field(init=False, default=None)


@pytest.fixture
def sides(
    sqlite_engine: sa.Engine, pg_engine: sa.Engine, mysql_engine: sa.Engine, clock: FixedClock
) -> Iterator[list[Side]]:
    tenant, user = TenantId(uuid.uuid4()), UserId(uuid.uuid4())
    handles: list[tuple[str, Callable[[], Crm]]] = [
        ("memory", lambda: Crm(MemoryStorage(), clock=clock, ids=SequentialIdGenerator())),
        ("sqlite", lambda: connect(sqlite_engine, clock=clock, ids=SequentialIdGenerator())),
        ("postgresql", lambda: connect(pg_engine, clock=clock, ids=SequentialIdGenerator())),
        ("mariadb", lambda: connect(mysql_engine, clock=clock, ids=SequentialIdGenerator())),
    ]
    made = []
    for name, make in handles:
        crm = make()
        actor = Actor(tenant_id=tenant, user_id=user, name="Zhang Wei")
        bootstrap_tenant(crm, tenant, user, actor.name)
        side = Side(name, crm, actor)
        side.customer_id = register_customer(crm, actor, name="华东精工").id
        stages = default_process(tenant, uuid.uuid4()).stages
        side.process_id = define_sales_process(crm, actor, "standard", stages).id
        made.append(side)
    return made


def _stored(side: Side, kind: type[Any], id: uuid.UUID) -> dict[str, Any]:
    entity = side.crm.run(side.actor.tenant_id, lambda uow: uow.repository(kind).get(id))
    # Ids of the record and the ones it links to come from each side's own generator.
    return {
        f.name: getattr(entity, f.name)
        for f in attrs.fields(kind)
        if f.name != "version" and not isinstance(getattr(entity, f.name), uuid.UUID)
    }


Call = Callable[[Side, Any], tuple[type[Any], uuid.UUID]]


def _outcome(side: Side, call: Call, value: Any) -> tuple[Any, ...]:
    try:
        kind, id = call(side, value)
    except CrmError as error:  # anything else is a bug and fails the test
        return ("refused", type(error).__name__, getattr(error, "field", None))
    return ("stored", _stored(side, kind, id))


def _same_everywhere(sides: list[Side], call: Call, value: Any) -> None:
    outcomes = {side.name: _outcome(side, call, value) for side in sides}
    memory = outcomes["memory"]
    for name, outcome in outcomes.items():
        assert outcome == memory, f"{name} differs from memory for {value!r}"


def _texts() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), user_texts(), user_ints())


CUSTOMER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "level": _texts(),
    "industry": _texts(),
    "region": _texts(),
    "source": _texts(),
    "email": _texts(),
    "phone": _texts(),
    "tax_id": _texts(),
    "kind": _texts(),
    "tags": st.one_of(user_texts(), st.lists(_texts(), max_size=3)),
    "credit_limit": user_amounts(),
    "last_activity_at": user_instants(),
}


@BOUNDARY_SETTINGS
@given(data=st.data())
def test_register_customer_accepts_and_refuses_alike(
    sides: list[Side], data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(["name", *CUSTOMER_FIELDS]))
    value = data.draw(user_texts() if field == "name" else CUSTOMER_FIELDS[field])
    name = value if field == "name" else "上海浦东发展"

    def call(side: Side, value: Any) -> tuple[type[Any], uuid.UUID]:
        fields = {} if field == "name" else {field: value}
        return Customer, register_customer(side.crm, side.actor, name=name, **fields).id

    _same_everywhere(sides, call, value)


@BOUNDARY_SETTINGS
@given(data=st.data())
def test_update_customer_accepts_and_refuses_alike(sides: list[Side], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["name", *CUSTOMER_FIELDS]))
    value = data.draw(user_texts() if field == "name" else CUSTOMER_FIELDS[field])

    def call(side: Side, value: Any) -> tuple[type[Any], uuid.UUID]:
        # A fresh customer per example: each one stands alone, and replays alike.
        customer = register_customer(side.crm, side.actor, name="上海浦东发展", level="A")
        update_customer(side.crm, side.actor, customer.id, **{field: value})
        return Customer, customer.id

    _same_everywhere(sides, call, value)


CONTACT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "title": _texts(),
    "email": _texts(),
    "wechat": _texts(),
    "qq": _texts(),
    "notes": _texts(),
    "phones": st.one_of(user_texts(), st.lists(user_texts(), max_size=2)),
    "birthday": st.one_of(user_dates(), user_instants()),
}


@BOUNDARY_SETTINGS
@given(data=st.data())
def test_contact_services_accept_and_refuse_alike(sides: list[Side], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["name", *CONTACT_FIELDS]))
    value = data.draw(user_texts() if field == "name" else CONTACT_FIELDS[field])
    adding = data.draw(st.booleans())

    def call(side: Side, value: Any) -> tuple[type[Any], uuid.UUID]:
        if adding:
            fields = {"name": value} if field == "name" else {"name": "李雷", field: value}
            return Contact, add_contact(side.crm, side.actor, side.customer_id, **fields).id
        contact = add_contact(side.crm, side.actor, side.customer_id, name="韩梅梅")
        update_contact(side.crm, side.actor, contact.id, **{field: value})
        return Contact, contact.id

    _same_everywhere(sides, call, value)


@BOUNDARY_SETTINGS
@given(data=st.data())
def test_open_opportunity_accepts_and_refuses_alike(sides: list[Side], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["name", "amount", "expected_close"]))
    value = data.draw(
        {"name": user_texts(), "amount": user_amounts(), "expected_close": user_dates()}[field]
    )

    def call(side: Side, value: Any) -> tuple[type[Any], uuid.UUID]:
        fields: dict[str, Any] = {"name": "产线改造", "amount": Money("1000", "CNY")}
        fields[field] = value
        deal = open_opportunity(
            side.crm, side.actor, customer_id=side.customer_id, process_id=side.process_id, **fields
        )
        return Opportunity, deal.id

    _same_everywhere(sides, call, value)


@BOUNDARY_SETTINGS
@given(data=st.data())
def test_receivable_plans_accept_and_refuse_alike(sides: list[Side], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["percent", "days", "label", "signing", "total"]))
    value = data.draw(
        {
            "percent": st.one_of(user_decimals(), user_texts(), user_ints()),
            "days": user_ints(),
            "label": user_texts(),
            "signing": st.one_of(user_dates(), user_instants()),
            "total": user_amounts(),
        }[field]
    )
    document_id = uuid.uuid4()

    def call(side: Side, value: Any) -> tuple[type[Any], uuid.UUID]:
        line: dict[str, Any] = {"label": "on signing", "percent": "100", "days": 30}
        if field in line:
            line[field] = value
        document = DocumentRef(
            document_type="contract",
            document_id=document_id,
            customer_id=side.customer_id,
            owner_id=side.actor.user_id,
            total=value if field == "total" else Money("1000.00", "CNY"),
        )
        milestones = {"signing": value if field == "signing" else date(2026, 1, 5)}
        terms = [TermLine(line.pop("label"), **line)]
        view = create_plan(side.crm, side.actor, document, terms=terms, milestones=milestones)
        return Plan, view.plan.id

    _same_everywhere(sides, call, value)


@BOUNDARY_SETTINGS
@given(data=st.data())
def test_record_receipt_accepts_and_refuses_alike(sides: list[Side], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["amount", "received_on", "reference", "idempotency_key"]))
    value = data.draw(
        {
            "amount": user_amounts(),
            "received_on": st.one_of(user_dates(), user_instants()),
            "reference": user_texts(),
            "idempotency_key": user_texts(),
        }[field]
    )
    key = str(uuid.uuid4())

    def call(side: Side, value: Any) -> tuple[type[Any], uuid.UUID]:
        fields: dict[str, Any] = {
            "amount": Money("100.00", "CNY"),
            "received_on": date(2026, 3, 1),
            "reference": "",
            "idempotency_key": key,
        }
        fields[field] = value
        receipt = record_receipt(side.crm, side.actor, customer_id=side.customer_id, **fields)
        return Receipt, receipt.id

    _same_everywhere(sides, call, value)
