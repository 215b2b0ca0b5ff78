"""An invoice has no owner of its own: it belongs to its customer, and follows its reach."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from crmkit import Crm, PermissionDenied
from crmkit.billing import (
    InvoiceLine,
    cancel_invoice,
    issue_invoice,
    request_invoice,
    send_invoice,
    void_invoice,
)
from crmkit.customers import register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import Grant, Scope, define_role, set_member

INVOICE_OPS = ("view", "create", "issue", "send", "cancel", "void")


def test_a_rep_acts_on_invoices_of_their_own_customers_only(crm: Crm, actor: Actor) -> None:
    define_role(
        crm,
        actor,
        "rep",
        grants=[
            *(Grant("invoice", op, Scope.TENANT) for op in INVOICE_OPS),
            *(Grant("customer", op, Scope.OWN) for op in ("view", "create")),
        ],
    )
    li, wang = (Actor(actor.tenant_id, UserId(uuid.uuid4()), n) for n in ("李", "王"))
    for rep in (li, wang):
        set_member(crm, actor, rep.user_id, name=rep.name, roles=["rep"])
    customer = register_customer(crm, li, name="李的客户")
    invoice = request_invoice(
        crm,
        li,
        customer_id=customer.id,
        lines=[InvoiceLine("goods", Money("100", "CNY"), "0.13")],
        documents=[("sales_order", uuid.uuid4(), None)],
    )
    on = date(2026, 3, 2)
    # Wang may issue invoices, but not Li's customer's: refused before the state is
    # looked at (a requested invoice cannot be sent or voided; Wang is not told so).
    refusals = (
        lambda: issue_invoice(crm, wang, invoice.id, issued_on=on, idempotency_key="w1"),
        lambda: send_invoice(crm, wang, invoice.id),
        lambda: void_invoice(crm, wang, invoice.id, on=on, idempotency_key="w2"),
        lambda: cancel_invoice(crm, wang, invoice.id),
    )
    for refused in refusals:
        with pytest.raises(PermissionDenied):
            refused()
    with pytest.raises(InvalidTransition):  # Li may see it, so is told its state
        send_invoice(crm, li, invoice.id)
    issued = issue_invoice(crm, li, invoice.id, issued_on=on, idempotency_key="l1")
    assert issued.number
