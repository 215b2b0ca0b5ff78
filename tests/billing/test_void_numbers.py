"""A red-letter invoice takes its number from the tenant's numbering rule unless one is given."""

from __future__ import annotations

from datetime import date

import pytest

from crmkit import Crm
from crmkit.billing import (
    Invoice,
    InvoiceLine,
    InvoiceState,
    RedLetterNotVoidable,
    issue_invoice,
    request_invoice,
    send_invoice,
    void_invoice,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import CrmError, InvalidTransition
from crmkit.kernel.money import Money
from crmkit.rules.numbering import define_numbering_rule
from tests.billing.builders import make_customer, make_document


def issued_invoice(crm: Crm, actor: Actor, key: str, number: str | None = None) -> Invoice:
    document = make_document(total="1130.00", customer_id=make_customer(crm, actor).id)
    invoice = request_invoice(
        crm,
        actor,
        customer_id=document.customer_id,
        lines=[InvoiceLine("goods", Money("1000", "CNY"), "0.13")],
        documents=[("contract", document.document_id, None)],
    )
    return issue_invoice(
        crm, actor, invoice.id, issued_on=date(2026, 3, 2), idempotency_key=key, number=number
    )


def test_a_void_without_a_number_takes_the_next_one_of_the_invoice_rule(
    crm: Crm, actor: Actor
) -> None:
    define_numbering_rule(crm, actor, "invoice", "INV-{seq:4}")
    original = issued_invoice(crm, actor, "i1")
    assert original.number == "INV-0001"
    red = void_invoice(crm, actor, original.id, on=date(2026, 3, 3), idempotency_key="v1")
    assert (red.number, red.reverses, red.state) == ("INV-0002", original.id, InvoiceState.ISSUED)
    # The same key replays the first red letter and draws no new number.
    again = void_invoice(crm, actor, original.id, on=date(2026, 3, 3), idempotency_key="v1")
    assert (again.id, again.number) == (red.id, "INV-0002")
    assert issued_invoice(crm, actor, "i2").number == "INV-0003"


def test_a_tenant_without_a_rule_gets_default_numbers_for_red_letters(
    crm: Crm, actor: Actor
) -> None:
    original = issued_invoice(crm, actor, "i1", number="PAPER-7")
    red = void_invoice(crm, actor, original.id, on=date(2026, 3, 3), idempotency_key="v1")
    assert red.number == "FP-2026-000001"


def test_a_given_number_is_kept_and_draws_nothing_from_the_rule(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "invoice", "INV-{seq:4}")
    original = issued_invoice(crm, actor, "i1")
    red = void_invoice(
        crm, actor, original.id, number="INV-0001-R", on=date(2026, 3, 3), idempotency_key="v1"
    )
    assert red.number == "INV-0001-R"
    assert issued_invoice(crm, actor, "i2").number == "INV-0002"


def test_a_refused_void_gives_its_number_back(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "invoice", "INV-{seq:4}")
    original = issued_invoice(crm, actor, "i1")
    void_invoice(crm, actor, original.id, on=date(2026, 3, 3), idempotency_key="v1")
    with pytest.raises(InvalidTransition):
        void_invoice(crm, actor, original.id, on=date(2026, 3, 4), idempotency_key="v2")
    assert issued_invoice(crm, actor, "i2").number == "INV-0003"


def test_a_red_letter_invoice_cannot_be_voided(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "invoice", "INV-{seq:4}")
    original = issued_invoice(crm, actor, "i1")
    red = void_invoice(crm, actor, original.id, on=date(2026, 3, 3), idempotency_key="v1")
    before = crm.run(actor.tenant_id, lambda uow: uow.repository(Invoice).query())
    for attempt, key in ((red, "v2"), (send_invoice(crm, actor, red.id), "v3")):
        with pytest.raises(RedLetterNotVoidable) as refused:
            void_invoice(crm, actor, attempt.id, on=date(2026, 3, 4), idempotency_key=key)
        assert isinstance(refused.value, CrmError)
        assert refused.value.fields["number"] == "INV-0002"
        assert "INV-0001" in str(refused.value)  # it names the invoice the red letter voids
    after = crm.run(actor.tenant_id, lambda uow: uow.repository(Invoice).query())
    # Nothing was re-invoiced: still the voided original and its red letter, no third.
    assert sorted(i.number for i in after) == sorted(i.number for i in before)
    assert [i.state for i in after if i.id == original.id] == [InvoiceState.VOIDED]
    # The refused voids gave their numbers back.
    assert issued_invoice(crm, actor, "i2").number == "INV-0003"
