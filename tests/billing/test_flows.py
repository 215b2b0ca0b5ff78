"""The billing state machines: every state can reach an end, illegal moves are refused."""

from __future__ import annotations

import uuid

import pytest

from crmkit import Crm
from crmkit.billing import (
    EXPENSE_CLAIM_FLOW,
    INVOICE_FLOW,
    RECEIPT_FLOW,
    REFUND_FLOW,
    InvoiceLine,
    InvoiceState,
    cancel_invoice,
    request_invoice,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from tests.billing.builders import make_customer


@pytest.mark.parametrize("machine", [RECEIPT_FLOW, REFUND_FLOW, INVOICE_FLOW, EXPENSE_CLAIM_FLOW])
def test_every_billing_state_reaches_a_final_one(machine: object) -> None:
    assert_every_state_reaches_final(machine)  # type: ignore[arg-type]


def test_a_requested_invoice_is_cancelled_without_a_red_letter(crm: Crm, actor: Actor) -> None:
    invoice = request_invoice(
        crm,
        actor,
        customer_id=make_customer(crm, actor).id,
        lines=[InvoiceLine("goods", Money("100", "CNY"), "0.13")],
        documents=[("sales_order", uuid.uuid4(), None)],
    )
    assert cancel_invoice(crm, actor, invoice.id).state is InvoiceState.VOIDED
    with pytest.raises(InvalidTransition):
        cancel_invoice(crm, actor, invoice.id)
