"""Invoices: request, issue, send, void by red letter; per-document totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import attrs

from crmkit.billing.errors import RedLetterNotVoidable
from crmkit.billing.model.flows import INVOICE_FLOW
from crmkit.billing.model.invoices import (
    Invoice,
    InvoicedPart,
    InvoiceId,
    InvoiceLine,
    TaxRounding,
    price_lines,
)
from crmkit.billing.model.plans import (
    Direction,
    DocumentRef,
    Plan,
    plan_id_for,
)
from crmkit.billing.services._frame import (
    INVOICE,
    Post,
    _money_command,
    _require,
    _viewable_customer,
)
from crmkit.billing.services.plans import _installments
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_member
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.numbering import NumberingRule, Reset, next_number, numbering_rule_id
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.access import load_through

__all__ = [
    "INVOICE_NUMBER_PATTERN",
    "DocumentSummary",
    "cancel_invoice",
    "document_summary",
    "invoice_number",
    "issue_invoice",
    "request_invoice",
    "send_invoice",
    "void_invoice",
]


# -- invoices ---------------------------------------------------------------------------------

_CUSTOMER = "customer"  # the customers area's permission resource: invoices follow it


def _invoice(uow: UnitOfWork, actor: Actor, invoice_id: UUID, operation: str) -> Invoice:
    """The invoice an invoice service acts on, once the actor may reach it.

    An invoice has no owner of its own: it belongs to its customer. The actor needs the
    invoice ``operation`` (who may issue, send, void invoices at all) and ``view`` on the
    customer (whose invoices), the way receipts follow their customer. Both are checked
    before the invoice's state, so a refusal says nothing about it.

    Raises:
        NotFound: no such invoice in the actor's tenant.
        PermissionDenied: the actor lacks the operation or cannot view the customer.
    """
    return load_through(
        uow,
        grants_for(uow, actor),
        Invoice,
        invoice_id,
        operation,
        INVOICE,
        parent=Customer,
        parent_of=lambda invoice: invoice.customer_id,
        parent_resource=_CUSTOMER,
    )


def request_invoice(
    crm: Crm,
    actor: Actor,
    *,
    customer_id: UUID,
    lines: Sequence[InvoiceLine],
    documents: Sequence[tuple[str, UUID, Money | None]],
    rounding: TaxRounding = TaxRounding.PER_LINE,
    direction: Direction = Direction.RECEIVABLE,
) -> Invoice:
    """Request an invoice over one or more documents of one customer.

    Args:
        customer_id: the customer invoiced.
        lines: the lines with their tax rates (taxes are computed here).
        documents: ``(document_type, document_id, amount)`` per document covered; one
            document may leave its amount ``None`` to take the whole invoice.
        rounding: tax rounded per line or once per invoice.
        direction: receivable (sales invoice) or payable (purchase invoice).

    Raises:
        ValidationError: no lines or documents, mixed currencies, or the document
            amounts not adding up to the invoice's gross.
        NotFound: no such customer.
        PermissionDenied: the actor may not create invoices or view the customer.
    """
    priced = price_lines(lines, rounding)
    currency = priced[0].net.currency
    net = sum((line.net for line in priced), Money.zero(currency))
    tax = sum((line.tax or Money.zero(currency) for line in priced), Money.zero(currency))
    gross = net + tax
    if not documents:
        raise invalid("invoice", "parts", N_("an invoice covers at least one document"))
    if len(documents) == 1 and documents[0][2] is None:
        parts = [InvoicedPart(documents[0][0], documents[0][1], gross)]
    else:
        if any(amount is None for _, _, amount in documents):
            raise invalid("invoice", "parts", N_("give the amount of every document"))
        parts = [InvoicedPart(kind, doc, amount) for kind, doc, amount in documents if amount]
        covered = sum((p.amount for p in parts), Money.zero(currency))
        if covered != gross:
            raise invalid(
                "invoice",
                "parts",
                N_("the documents' amounts add up to {covered}, not {gross}"),
                covered=str(covered),
                gross=str(gross),
            )
    now = crm.now()
    invoice = Invoice(
        id=InvoiceId(crm.ids.new(now)),
        tenant_id=actor.tenant_id,
        direction=direction,
        customer_id=customer_id,
        lines=priced,
        parts=parts,
        rounding=rounding,
        net=net,
        tax=tax,
        gross=gross,
        requested_at=now,
    )

    def work(uow: UnitOfWork) -> Invoice:
        _viewable_customer(uow, _require(uow, actor, "create", INVOICE), customer_id)
        return uow.repository(Invoice).add(invoice)

    return guarded(crm, actor, work)


def _replay_invoice(uow: UnitOfWork, ids: tuple[UUID, ...]) -> Invoice:
    return uow.repository(Invoice).get(ids[0])


INVOICE_NUMBER_PATTERN = "FP-{yyyy}-{seq:6}"
"""The invoice numbering rule a tenant gets when it defined none (yearly reset)."""


def invoice_number(uow: UnitOfWork, at: datetime) -> str:
    """The next invoice number from the tenant's ``"invoice"`` numbering rule, taken in
    the caller's transaction (a rollback gives it back).

    A tenant without a rule gets ``FP-2026-000001`` style numbers: the first use stores
    that default rule, which an administrator may replace.
    """
    uow.repository(NumberingRule).add_if_absent(
        NumberingRule(
            id=numbering_rule_id(uow.tenant_id, "invoice"),
            tenant_id=uow.tenant_id,
            doc_type="invoice",
            reset=Reset.YEARLY,
            pattern=INVOICE_NUMBER_PATTERN,
        )
    )
    return next_number(uow, "invoice", at)


def issue_invoice(
    crm: Crm,
    actor: Actor,
    invoice_id: UUID,
    *,
    issued_on: date,
    idempotency_key: str,
    number: str | None = None,
) -> Invoice:
    """Issue a requested invoice under ``number``, or the next number of the tenant's
    ``"invoice"`` numbering rule (see :func:`invoice_number`) when none is given.

    Raises:
        NotFound: no such invoice in the actor's tenant.
        PermissionDenied: the actor lacks the operation or may not view the invoice's
            customer (checked before the invoice's state).
        InvalidTransition: the invoice is not requested.
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"invoice_id": invoice_id, "number": number, "issued_on": issued_on}

    def body(uow: UnitOfWork, post: Post) -> tuple[Invoice, list[UUID]]:
        repo = uow.repository(Invoice)
        invoice = _invoice(uow, actor, invoice_id, "issue")
        now = crm.now()
        # A refused issue rolls the whole transaction back, the number with it.
        given = number if number is not None else invoice_number(uow, now)
        event = INVOICE_FLOW.fire(
            invoice, "issue", now=now, payload={"number": given, "gross": invoice.gross}
        )
        invoice.number, invoice.issued_on = given, issued_on
        repo.save(invoice)
        uow.outbox.add(event)
        return invoice, [invoice.id]

    return _money_command(
        crm,
        actor,
        "issue_invoice",
        idempotency_key,
        payload,
        body,
        _replay_invoice,
        access=("issue", INVOICE),
    )


def _move(crm: Crm, actor: Actor, invoice_id: UUID, trigger: str) -> Invoice:
    # A move with no money and no number in it (send, cancel): the trigger is also the
    # permission operation it needs.
    def work(uow: UnitOfWork) -> Invoice:
        invoice = _invoice(uow, actor, invoice_id, trigger)
        INVOICE_FLOW.fire(invoice, trigger)
        return uow.repository(Invoice).save(invoice)

    return guarded(crm, actor, work)


def send_invoice(crm: Crm, actor: Actor, invoice_id: UUID) -> Invoice:
    """Mark an issued invoice as sent to the customer.

    Raises:
        NotFound: no such invoice in the actor's tenant.
        PermissionDenied: the actor lacks the operation or may not view the invoice's
            customer (checked before the invoice's state).
        InvalidTransition: the invoice is not issued.
    """
    return _move(crm, actor, invoice_id, "send")


def cancel_invoice(crm: Crm, actor: Actor, invoice_id: UUID) -> Invoice:
    """Cancel a requested invoice that was never issued (no red letter is needed).

    Raises:
        NotFound: no such invoice in the actor's tenant.
        PermissionDenied: the actor lacks the operation or may not view the invoice's
            customer (checked before the invoice's state).
        InvalidTransition: the invoice was already issued (void it instead).
    """
    return _move(crm, actor, invoice_id, "cancel")


def void_invoice(
    crm: Crm,
    actor: Actor,
    invoice_id: UUID,
    *,
    on: date,
    idempotency_key: str,
    number: str | None = None,
) -> Invoice:
    """Void an issued invoice by issuing its linked red-letter (negative) invoice.

    Args:
        on: the day the red letter is issued.
        number: the red-letter invoice's number; when ``None`` the next number of the
            tenant's ``"invoice"`` numbering rule (see :func:`invoice_number`), taken in
            the same transaction, so a refused void gives the number back.

    Returns:
        The red-letter invoice.

    Raises:
        NotFound: no such invoice in the actor's tenant.
        PermissionDenied: the actor lacks the operation or may not view the invoice's
            customer (checked before the invoice's state).
        RedLetterNotVoidable: the invoice is itself a red letter (nothing changes; issue
            a new invoice to bill the amount again).
        InvalidTransition: the invoice is not issued or sent (a requested one is
            cancelled with no red letter; a voided one cannot be voided again).
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"invoice_id": invoice_id, "number": number, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[Invoice, list[UUID]]:
        repo = uow.repository(Invoice)
        invoice = _invoice(uow, actor, invoice_id, "void")
        if invoice.reverses is not None:
            voided = repo.find(invoice.reverses)
            raise RedLetterNotVoidable(
                number=invoice.number,
                voids=voided.number if voided is not None else str(invoice.reverses),
                state=invoice.state.value,
            )
        now = crm.now()
        # A red letter is an invoice in its own right: it draws from the same sequence.
        given = number if number is not None else invoice_number(uow, now)
        red = invoice.red_letter(InvoiceId(crm.ids.new(now)), now=now, number=given, on=on)
        event = INVOICE_FLOW.fire(invoice, "void", now=now, payload={"red_letter_id": red.id})
        invoice.reversed_by = red.id
        repo.save(invoice)
        repo.add(red)
        uow.outbox.add(event)
        return red, [red.id]

    return _money_command(
        crm,
        actor,
        "void_invoice",
        idempotency_key,
        payload,
        body,
        _replay_invoice,
        access=("void", INVOICE),
    )


@attrs.frozen
class DocumentSummary:
    """Contracted vs invoiced vs received for one document (in the document's currency)."""

    contracted: Money
    invoiced: Money
    received: Money

    @property
    def to_invoice(self) -> Money:
        """What is still to be invoiced."""
        return self.contracted - self.invoiced


def document_summary(
    crm: Crm,
    actor: Actor,
    document: DocumentRef,
    *,
    direction: Direction = Direction.RECEIVABLE,
) -> DocumentSummary:
    """What a document is worth, how much of it was invoiced and how much was received.

    Invoiced counts every issued invoice's part for the document (red-letter invoices
    count negative, so a voided invoice nets to zero); received is the confirmed money
    allocated to the document's installments.

    Raises:
        NotFound: the document's customer does not exist.
        PermissionDenied: the actor may not view invoices, or the document's customer.
    """
    direction = to_member(Direction, direction, entity="document summary", field="direction")

    def work(uow: UnitOfWork) -> DocumentSummary:
        _viewable_customer(uow, _require(uow, actor, "view", INVOICE), document.customer_id)
        currency = document.total.currency
        zero = Money.zero(currency)
        invoices = uow.repository(Invoice).query(
            Query(where=F("customer_id").eq(document.customer_id) & F("issued_on").not_null())
        )
        invoiced = sum(
            (
                part.amount
                for invoice in invoices
                for part in invoice.parts
                if part.document_id == document.document_id
                and part.document_type == document.document_type
            ),
            zero,
        )
        plan = uow.repository(Plan).find(plan_id_for(actor.tenant_id, direction, document))
        received = zero
        if plan is not None:
            received = sum((i.paid for i in _installments(uow, plan.id)), zero)
        return DocumentSummary(document.total, invoiced, received)

    return guarded(crm, actor, work)
