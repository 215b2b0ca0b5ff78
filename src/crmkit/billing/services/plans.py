"""Plans from payment terms: one receivable or payable plan per document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

import attrs

from crmkit.billing.model.plans import (
    Direction,
    DocumentRef,
    Installment,
    InstallmentId,
    Plan,
    document_fields,
    plan_id_for,
)
from crmkit.billing.model.terms import (
    PaymentTerms,
    PaymentTermsId,
    TermLine,
    due_after,
    schedule,
)
from crmkit.billing.services._frame import (
    INSTALLMENT,
    PLAN,
    _require,
    _viewable_customer,
)
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_date, to_member
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import guarded
from crmkit.rules.permissions.model import Grants

__all__ = [
    "PlanView",
    "create_plan",
    "define_payment_terms",
    "get_plan",
    "set_milestone",
]


# -- plans ------------------------------------------------------------------------------------


# The fields each figure of a view reads, as (resource, field): a figure over a field
# hidden from the reader is omitted, as every report omits such a measure.
_FIGURES: dict[str, tuple[tuple[str, str], ...]] = {
    "paid": ((INSTALLMENT, "paid"),),
    "outstanding": ((PLAN, "total"), (INSTALLMENT, "paid")),
    "overdue": ((INSTALLMENT, "amount"), (INSTALLMENT, "paid"), (INSTALLMENT, "due_date")),
}


@attrs.frozen
class PlanView:
    """A plan with its installments, and the totals a clerk looks at.

    Built for one reader: the plan and its installments come without the fields the
    reader's role hides, and a figure computed from such a field is in ``omitted``
    and reads ``None`` (an analyst who may not see installment amounts sees the
    schedule's dates and count, not what is overdue).
    """

    plan: Plan
    installments: tuple[Installment, ...]
    omitted: frozenset[str] = frozenset()

    @property
    def paid(self) -> Money | None:
        """Confirmed money allocated to the plan's installments (``None`` if omitted)."""
        if "paid" in self.omitted:
            return None
        return sum((i.paid for i in self.installments), Money.zero(self.plan.total.currency))

    @property
    def outstanding(self) -> Money | None:
        """What is still owed on the plan (``None`` if omitted)."""
        paid = self.paid
        if "outstanding" in self.omitted or paid is None:
            return None
        return self.plan.total - paid

    def overdue(self, on: date) -> Money | None:
        """What was due before ``on`` and is still owed (``None`` if omitted)."""
        if "overdue" in self.omitted:
            return None
        return sum(
            (i.outstanding for i in self.installments if i.is_overdue(on)),
            Money.zero(self.plan.total.currency),
        )


def _view(grants: Grants, plan: Plan, installments: Sequence[Installment]) -> PlanView:
    """``plan`` as the reader may see it: records redacted, hidden figures omitted."""
    omitted = frozenset(
        figure
        for figure, sources in _FIGURES.items()
        if any(grants.is_hidden(resource, field) for resource, field in sources)
    )
    return PlanView(
        grants.redact(plan, PLAN),
        tuple(grants.redact(i, INSTALLMENT) for i in installments),
        omitted,
    )


def define_payment_terms(
    crm: Crm, actor: Actor, *, name: str, lines: Sequence[TermLine]
) -> PaymentTerms:
    """Store a payment-term template ("30% on signing, 60% on delivery, ...").

    Raises:
        ValidationError: the lines are inconsistent (percentages not adding up to 100, ...).
    """
    terms = PaymentTerms(
        id=PaymentTermsId(crm.new_id()), tenant_id=actor.tenant_id, name=name, lines=lines
    )

    def work(uow: UnitOfWork) -> PaymentTerms:
        _require(uow, actor, "create", PLAN)
        return uow.repository(PaymentTerms).add(terms)

    return guarded(crm, actor, work)


def create_plan(
    crm: Crm,
    actor: Actor,
    document: DocumentRef,
    *,
    terms: PaymentTerms | Sequence[TermLine],
    milestones: Mapping[str, date],
    direction: Direction = Direction.RECEIVABLE,
) -> PlanView:
    """Make the receivable (or payable) plan of a document from payment terms.

    Args:
        document: the contract or order, referenced generically.
        terms: a stored template or its lines.
        milestones: the dates known so far (``{"signing": ...}``); installments whose
            milestone is missing get their due date later through :func:`set_milestone`.
        direction: receivable for customers' documents, payable for purchases.

    Returns:
        The plan and its installments; their amounts add up to the total exactly.

    Raises:
        ValidationError: the terms do not fit the total, or the document already has a plan.
        NotFound: the document's customer does not exist.
        PermissionDenied: the actor may not create the plan or view the customer.
    """
    for day in milestones.values():
        to_date(day, entity="billing plan", field="milestones")
    direction = to_member(Direction, direction, entity="billing plan", field="direction")
    now = crm.now()
    lines = terms.lines if isinstance(terms, PaymentTerms) else tuple(terms)
    drafts = schedule(document.total, lines, milestones)
    fields = document_fields(direction, document)
    plan = Plan(
        id=plan_id_for(actor.tenant_id, direction, document),
        tenant_id=actor.tenant_id,
        **fields,
        number=document.number,
        total=document.total,
        terms_name=terms.name if isinstance(terms, PaymentTerms) else "",
        created_at=now,
    )
    prefix = document.number or document.document_type
    installments = tuple(
        Installment(
            id=InstallmentId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            plan_id=plan.id,
            **fields,
            seq=seq,
            label=f"{prefix} #{seq} {draft.label}",
            amount=draft.amount,
            due_date=draft.due_date,
            raised_on=now.date(),
            milestone=draft.milestone,
            days=draft.days,
        )
        for seq, draft in enumerate(drafts, start=1)
    )

    def work(uow: UnitOfWork) -> PlanView:
        grants = _require(uow, actor, "create", PLAN, plan)
        _viewable_customer(uow, grants, document.customer_id)
        repo = uow.repository(Plan)
        if repo.find(plan.id) is not None:
            raise invalid(
                "billing plan",
                "document_id",
                N_("{document} already has a plan"),
                document=document.number or str(document.document_id),
            )
        repo.add(plan)
        uow.repository(Installment).add_many(list(installments))
        return _view(grants, plan, installments)

    return guarded(crm, actor, work)


def _installments(uow: UnitOfWork, plan_id: UUID) -> tuple[Installment, ...]:
    query = Query(where=F("plan_id").eq(plan_id), order_by=(Order("seq"),))
    return tuple(uow.repository(Installment).query(query))


def get_plan(crm: Crm, actor: Actor, plan_id: UUID) -> PlanView:
    """A plan with its installments.

    Raises:
        NotFound: no such plan in the actor's tenant.
    """

    def work(uow: UnitOfWork) -> PlanView:
        plan = uow.repository(Plan).get(plan_id)
        grants = _require(uow, actor, "view", PLAN, plan)
        return _view(grants, plan, _installments(uow, plan_id))

    return guarded(crm, actor, work)


def set_milestone(crm: Crm, actor: Actor, plan_id: UUID, milestone: str, on: date) -> PlanView:
    """Record that a milestone (delivery, acceptance, ...) happened: date its installments.

    Raises:
        NotFound: no such plan.
    """

    on = to_date(on, entity="billing plan", field="milestones")

    def work(uow: UnitOfWork) -> PlanView:
        plan = uow.repository(Plan).get(plan_id)
        grants = _require(uow, actor, "edit", PLAN, plan)
        repo = uow.repository(Installment)
        items = _installments(uow, plan_id)
        for item in items:
            if item.milestone == milestone:
                item.reschedule(due_after(on, item.days))
                repo.save(item)
        return _view(grants, plan, items)

    return guarded(crm, actor, work)
