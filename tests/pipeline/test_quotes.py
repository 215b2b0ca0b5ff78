"""Quotes: priced from the customer's list, approval over the threshold, versions, conversion."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from crmkit import ConcurrencyConflict, Crm, ValidationError
from crmkit.customers import register_customer
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import GuardFailed, InvalidTransition, PermissionDenied
from crmkit.kernel.ids import UserId
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline import define_sales_process, move_opportunity, open_opportunity
from crmkit.pipeline.model.opportunities import Opportunity, default_process
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.pricing import DiscountRate, PriceListItem, VolumeTier
from crmkit.pipeline.model.quotes import QUOTE, Quote, QuoteStatus
from crmkit.pipeline.services import (
    LineRequest,
    approve_quote,
    configure_sales_documents,
    convert_quote_to_order,
    create_quote,
    decline_quote,
    define_price_list,
    quote_versions,
    reject_quote,
    revise_quote,
    submit_quote,
)
from tests.billing.builders import second_admin


def price_book(crm: Crm, actor: Actor, *, start: date = date(2026, 1, 1)) -> None:
    """A general CNY list and a cheaper one for level-A customers."""
    define_price_list(
        crm,
        actor,
        name="2026 标准价",
        currency="CNY",
        valid_from=start,
        items=[
            PriceListItem(
                "SENSOR",
                "工业传感器",
                Money("1200.00", "CNY"),
                tiers=[VolumeTier(Decimal(50), Money("1100.00", "CNY"))],
            ),
            PriceListItem("GATEWAY", "边缘网关", Money("5800.00", "CNY")),
        ],
    )
    define_price_list(
        crm,
        actor,
        name="2026 A 类客户价",
        currency="CNY",
        valid_from=start,
        customer_level="A",
        items=[
            PriceListItem("SENSOR", "工业传感器", Money("1000.00", "CNY")),
            PriceListItem("GATEWAY", "边缘网关", Money("5000.00", "CNY")),
        ],
    )


def customer(crm: Crm, actor: Actor, **fields: Any) -> Customer:
    return register_customer(crm, actor, name=f"苏州精密机械 {uuid.uuid4().hex[:6]}", **fields)


def approved_quote(crm: Crm, actor: Actor, **fields: Any) -> Quote:
    """A quote within the threshold, submitted (so approved at once)."""
    price_book(crm, actor)
    buyer = fields.pop("buyer", None) or customer(crm, actor)
    quote = create_quote(
        crm,
        actor,
        customer_id=buyer.id,
        currency="CNY",
        lines=fields.pop("lines", [LineRequest("SENSOR", "10"), LineRequest("GATEWAY", "2")]),
        **fields,
    )
    return submit_quote(crm, actor, quote.id)


def test_a_quote_is_priced_from_the_list_for_the_customers_level(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    plain, gold = customer(crm, actor), customer(crm, actor, level="A")
    lines = [LineRequest("SENSOR", "60"), LineRequest("GATEWAY", "1")]
    for_plain = create_quote(crm, actor, customer_id=plain.id, currency="CNY", lines=lines)
    for_gold = create_quote(crm, actor, customer_id=gold.id, currency="CNY", lines=lines)
    assert [line.unit_price for line in for_plain.lines] == [
        Money("1100.00", "CNY"),  # the 50+ tier
        Money("5800.00", "CNY"),
    ]
    assert for_gold.total == Money("65000.00", "CNY")
    assert for_plain.total == Money("71800.00", "CNY")
    assert (for_plain.number, for_gold.number) == ("QT-2026-00001", "QT-2026-00002")
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Quote).get(for_gold.id))
    assert stored.lines == for_gold.lines
    assert stored.total == for_gold.total


def test_a_quote_for_a_deal_opens_its_proposal_gate(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    price_book(crm, actor)
    buyer = customer(crm, actor)
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deal = open_opportunity(
        crm,
        actor,
        customer_id=buyer.id,
        name="产线改造",
        amount=Money("200000", "CNY"),
        process_id=process.id,
        expected_close=clock.now().date(),
        stage="needs",
    )
    with pytest.raises(ValidationError, match="document:quote"):
        move_opportunity(crm, actor, deal.id, "proposal")
    create_quote(
        crm,
        actor,
        customer_id=buyer.id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "3")],
        opportunity_id=deal.id,
    )
    assert move_opportunity(crm, actor, deal.id, "proposal").stage == "proposal"


def test_a_quote_cannot_belong_to_another_customers_deal(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deal = open_opportunity(
        crm,
        actor,
        customer_id=customer(crm, actor).id,
        name="x",
        amount=Money("1", "CNY"),
        process_id=process.id,
    )
    with pytest.raises(ValidationError, match="another customer"):
        create_quote(
            crm,
            actor,
            customer_id=customer(crm, actor).id,
            currency="CNY",
            lines=[LineRequest("GATEWAY", "1")],
            opportunity_id=deal.id,
        )
    assert crm.run(actor.tenant_id, lambda uow: uow.repository(Quote).count()) == 0


def test_a_discount_over_the_threshold_needs_approval(crm: Crm, actor: Actor) -> None:
    configure_sales_documents(crm, actor, discount_threshold=DiscountRate("0.10"))
    price_book(crm, actor)
    buyer = customer(crm, actor)
    quote = create_quote(
        crm,
        actor,
        customer_id=buyer.id,
        currency="CNY",
        lines=[LineRequest("SENSOR", "10", DiscountRate("0.05"))],
        total_discount=DiscountRate("0.08"),  # 1 - 0.95 x 0.92 = 12.6% in all
    )
    assert quote.approval_required
    assert quote.approval_reasons == ("total: 12.6% > 10%",)
    manager = second_admin(crm, actor)  # another administrator: nobody approves their own
    with pytest.raises(GuardFailed):
        approve_quote(crm, manager, quote.id)  # a draft over the line skips no approval
    assert submit_quote(crm, actor, quote.id).status is QuoteStatus.IN_APPROVAL
    rejected = reject_quote(crm, manager, quote.id, "too deep")
    assert rejected.status is QuoteStatus.DRAFT
    submit_quote(crm, actor, quote.id)
    approved = approve_quote(crm, manager, quote.id)
    assert approved.status is QuoteStatus.APPROVED
    assert approved.decided_by == manager.user_id


def test_a_single_deep_line_needs_approval_even_in_a_large_quote(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    quote = create_quote(
        crm,
        actor,
        customer_id=customer(crm, actor).id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "100"), LineRequest("SENSOR", "1", DiscountRate("0.3"))],
    )
    assert quote.approval_reasons == ("line 2: 30% > 10%",)


def test_a_quote_within_the_threshold_is_approved_on_submission(crm: Crm, actor: Actor) -> None:
    quote = approved_quote(crm, actor)
    assert not quote.approval_required
    assert quote.status is QuoteStatus.APPROVED


def test_a_revision_is_a_new_linked_version_and_only_the_latest_lives(
    crm: Crm, actor: Actor
) -> None:
    first = approved_quote(crm, actor)
    second = revise_quote(crm, actor, first.id, lines=[LineRequest("GATEWAY", "5")])
    assert (second.number, second.revision, second.previous_id) == (first.number, 2, first.id)
    assert second.root_id == first.id
    assert second.status is QuoteStatus.DRAFT
    assert second.total == Money("29000.00", "CNY")
    third = revise_quote(crm, actor, second.id, total_discount=DiscountRate("0.02"))
    assert third.lines == second.lines
    assert third.total == Money("28420.00", "CNY")
    with pytest.raises(InvalidTransition):
        revise_quote(crm, actor, first.id)
    family = quote_versions(crm, actor, third.id)
    assert [(q.revision, q.status) for q in family] == [
        (1, QuoteStatus.SUPERSEDED),
        (2, QuoteStatus.SUPERSEDED),
        (3, QuoteStatus.DRAFT),
    ]
    with pytest.raises(InvalidTransition):
        convert_quote_to_order(crm, actor, first.id)


def test_a_stale_revision_is_refused(crm: Crm, actor: Actor) -> None:
    first = approved_quote(crm, actor)
    with pytest.raises(ConcurrencyConflict):
        revise_quote(crm, actor, first.id, expected_version=first.version - 1)


def test_an_approved_quote_converts_to_an_order_once(crm: Crm, actor: Actor) -> None:
    quote = approved_quote(crm, actor)
    order = convert_quote_to_order(crm, actor, quote.id)
    assert order.lines == quote.lines
    assert order.total == quote.total
    assert order.number == "SO-2026-00001"
    assert order.quote_id == quote.id
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Quote).get(quote.id))
    assert stored.status is QuoteStatus.CONVERTED
    assert stored.converted_id == order.id
    with pytest.raises(InvalidTransition):
        convert_quote_to_order(crm, actor, quote.id)


def test_a_draft_declined_or_expired_quote_does_not_convert(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    price_book(crm, actor)
    draft = create_quote(
        crm,
        actor,
        customer_id=customer(crm, actor).id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "1")],
    )
    with pytest.raises(InvalidTransition):
        convert_quote_to_order(crm, actor, draft.id)
    declined = decline_quote(crm, actor, submit_quote(crm, actor, draft.id).id, "price")
    assert declined.status is QuoteStatus.DECLINED
    old = approved_quote(crm, actor, valid_days=7)
    clock.advance(days=8)
    with pytest.raises(ValidationError, match="expired"):
        convert_quote_to_order(crm, actor, old.id)


def test_every_quote_state_reaches_an_end() -> None:
    assert_every_state_reaches_final(QUOTE)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_a_quote_converted_twice_at_once_converts_exactly_once(
    make_crm: Callable[[], Crm], actor: Actor
) -> None:
    setup = make_crm()
    quote = approved_quote(setup, actor)
    reps = [make_crm(), make_crm()]
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def rep(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = convert_quote_to_order(reps[n], actor, quote.id)
        except (ConcurrencyConflict, InvalidTransition) as error:
            outcomes[n] = error

    threads = [threading.Thread(target=rep, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    orders = [o for o in outcomes if isinstance(o, SalesOrder)]
    assert len(orders) == 1, outcomes
    stored = setup.run(
        actor.tenant_id,
        lambda uow: uow.repository(SalesOrder).query(Query(where=F("quote_id").eq(quote.id))),
    )
    assert [o.id for o in stored] == [orders[0].id]


def test_the_deal_keeps_a_record_of_its_order(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    buyer = customer(crm, actor)
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deal = open_opportunity(
        crm,
        actor,
        customer_id=buyer.id,
        name="x",
        amount=Money("1", "CNY"),
        process_id=process.id,
    )
    quote = approved_quote(crm, actor, buyer=buyer, opportunity_id=deal.id)
    convert_quote_to_order(crm, actor, quote.id)
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Opportunity).get(deal.id))
    assert stored.documents == ("quote", "sales_order")


def test_only_someone_allowed_to_approve_approves_or_converts(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    quote = create_quote(
        crm,
        actor,
        customer_id=customer(crm, actor).id,
        currency="CNY",
        lines=[LineRequest("SENSOR", "1", DiscountRate("0.5"))],
    )
    submit_quote(crm, actor, quote.id)
    stranger = Actor(actor.tenant_id, UserId(uuid.uuid4()), "路人")
    with pytest.raises(PermissionDenied):
        approve_quote(crm, stranger, quote.id)
    with pytest.raises(PermissionDenied):
        convert_quote_to_order(crm, stranger, quote.id)
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Quote).get(quote.id))
    assert stored.status is QuoteStatus.IN_APPROVAL
