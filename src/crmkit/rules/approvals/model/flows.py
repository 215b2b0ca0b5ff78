"""Approval flows: who must say yes before a document takes effect.

In a Chinese CRM almost every document with money on it — a contract, a quote, a
purchase order, an expense claim, a discount, a refund — goes through review
(审核) before it counts. A company writes down *how* once, as an
:class:`ApprovalFlow`: ordered stages, each naming its approvers (a person, a
role, the submitter's manager or the manager's manager, the department head) and
its rule (any one approves, all must approve, N of M). Conditions route a
document through the stages that apply to it: contracts over CNY 100,000 add a
finance stage, discounts over 15 % need the sales director.

A flow is pure data and is stored per tenant. When a document is submitted, the
flow's conditions are read against a snapshot of the document's fields
(:class:`Facts`) and its selectors are resolved to people; the result, the
*route*, is frozen into the :class:`~crmkit.rules.approvals.model.request.ApprovalRequest`
so editing the flow later never reroutes documents already in review.

Conditions are :mod:`crmkit.kernel.query` expressions over the facts::

    FlowStage("finance", (Approvers.of_role("finance"),),
              when=F("amount").gt(Money("100000", "CNY")))
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, NewType
from uuid import UUID

import attrs

from crmkit.kernel.converter import converter, to_instant
from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, And, Cond, Const, Expr, Not, Or, to_predicate
from crmkit.rules.approvals.model.calendar import BusinessCalendar, Deadline

__all__ = [
    "ApprovalFlow",
    "ApprovalFlowId",
    "ApproverKind",
    "Approvers",
    "Condition",
    "Facts",
    "FlowStage",
    "Outcome",
    "Rule",
]

ApprovalFlowId = NewType("ApprovalFlowId", UUID)
_FLOW = N_("approval flow")
_STAGE = N_("approval stage")


def _uuids(values: Iterable[UUID]) -> tuple[UUID, ...]:
    return tuple(values)


def _selectors(values: Iterable[Approvers]) -> tuple[Approvers, ...]:
    return tuple(values)


def _flow_stages(values: Iterable[FlowStage]) -> tuple[FlowStage, ...]:
    return tuple(values)


# -- approver selectors ----------------------------------------------------------------


class ApproverKind(enum.Enum):
    """How a stage names its approvers."""

    USER = "user"
    ROLE = "role"
    MANAGER = "manager"
    MANAGERS_MANAGER = "managers_manager"
    DEPARTMENT_HEAD = "department_head"


@attrs.frozen
class Approvers:
    """A selector naming approvers, resolved to people when a document is submitted.

    Build with the constructors: ``Approvers.named(user_id)``,
    ``Approvers.of_role("finance")``, ``Approvers.manager()``,
    ``Approvers.managers_manager()``, ``Approvers.department_head()``.

    Attributes:
        kind: which kind of selector.
        user_ids: the named users (``USER`` only).
        role: the role name (``ROLE`` only).
    """

    kind: ApproverKind
    user_ids: tuple[UUID, ...] = attrs.field(default=(), converter=_uuids)
    role: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind is ApproverKind.USER and not self.user_ids:
            raise invalid(_STAGE, "approvers", N_("names no user"))
        if self.kind is ApproverKind.ROLE and not self.role:
            raise invalid(_STAGE, "approvers", N_("names no role"))

    @classmethod
    def named(cls, *user_ids: UUID) -> Approvers:
        """These users."""
        return cls(ApproverKind.USER, user_ids=user_ids)

    @classmethod
    def of_role(cls, role: str) -> Approvers:
        """Every member of ``role``."""
        return cls(ApproverKind.ROLE, role=role)

    @classmethod
    def manager(cls) -> Approvers:
        """The submitter's direct manager."""
        return cls(ApproverKind.MANAGER)

    @classmethod
    def managers_manager(cls) -> Approvers:
        """The manager of the submitter's manager."""
        return cls(ApproverKind.MANAGERS_MANAGER)

    @classmethod
    def department_head(cls) -> Approvers:
        """The head of the submitter's department."""
        return cls(ApproverKind.DEPARTMENT_HEAD)


class Rule(enum.Enum):
    """When a stage is approved.

    ``ANY`` (或签): the first approver to decide decides the stage, either way.
    ``ALL`` (会签): every approver must approve; one rejection rejects.
    ``N_OF_M``: ``quorum`` approvals approve; the stage is rejected as soon as so
    many have rejected that the quorum can no longer be reached.
    """

    ANY = "any"
    ALL = "all"
    N_OF_M = "n_of_m"


class Outcome(enum.Enum):
    """An approver's vote."""

    APPROVE = "approve"
    REJECT = "reject"


# -- conditions and facts --------------------------------------------------------------
#
# Conditions and facts are stored as JSON. Their values may be Money, Decimal, dates and
# ids, which plain JSON would return as strings and dicts (a Decimal "0.15" would then
# compare as text), so both use a small tagged encoding that gives back the same types.


def encode_value(value: Any) -> Any:
    """A fact or condition value as tagged JSON-ready data."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return encode_value(value.value)
    if isinstance(value, Money):
        return {"$money": [str(value.amount), value.currency]}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$instant": to_instant(value).isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": str(value)}
    if isinstance(value, tuple | list | frozenset | set):
        return {"$tuple": [encode_value(v) for v in value]}
    raise invalid(
        _FLOW, "facts", N_("cannot hold a value of type {type}"), type=type(value).__name__
    )


def decode_value(data: Any) -> Any:
    """The value :func:`encode_value` encoded."""
    if not isinstance(data, dict):
        return data
    ((tag, raw),) = data.items()
    if tag == "$money":
        return Money(raw[0], raw[1])
    if tag == "$decimal":
        return Decimal(raw)
    if tag == "$instant":
        return to_instant(raw)
    if tag == "$date":
        return date.fromisoformat(raw)
    if tag == "$uuid":
        return UUID(raw)
    if tag == "$tuple":
        return tuple(decode_value(v) for v in raw)
    raise ValueError(f"unknown tagged value {tag!r}")


def _encode_expr(expr: Expr) -> Any:
    if isinstance(expr, Cond):
        return {"cond": [expr.field, expr.op, encode_value(expr.value)]}
    if isinstance(expr, And):
        return {"and": [_encode_expr(e) for e in expr.items]}
    if isinstance(expr, Or):
        return {"or": [_encode_expr(e) for e in expr.items]}
    if isinstance(expr, Not):
        return {"not": _encode_expr(expr.item)}
    return {"const": expr.value}


def _decode_expr(data: Any) -> Expr:
    ((tag, raw),) = data.items()
    if tag == "cond":
        return Cond(raw[0], raw[1], decode_value(raw[2]))
    if tag == "and":
        return And(tuple(_decode_expr(e) for e in raw))
    if tag == "or":
        return Or(tuple(_decode_expr(e) for e in raw))
    if tag == "not":
        return Not(_decode_expr(raw))
    return Const(bool(raw))


@attrs.frozen
class Facts:
    """A snapshot of the document fields a flow's conditions read.

    ``Facts(amount=Money("120000", "CNY"), discount=Decimal("0.18"), department="east")``.
    Values may be text, numbers, Decimal, Money, dates, instants and ids.
    """

    values: Mapping[str, Any] = attrs.field(factory=dict)

    def __init__(self, values: Mapping[str, Any] | None = None, /, **fields: Any) -> None:
        merged = {**(values or {}), **fields}
        for value in merged.values():
            encode_value(value)  # refuse values that could not be stored, now
        self.__attrs_init__(merged)  # type: ignore[attr-defined]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The fact ``name``, or ``default``."""
        return self.values.get(name, default)


@attrs.frozen
class Condition:
    """When a stage applies: a :mod:`crmkit.kernel.query` expression over the facts.

    A comparison on a missing fact is false, so ``F("amount").gt(...)`` does not
    apply to a document that reported no amount. Comparing Money of another
    currency raises ``CurrencyMismatch`` rather than guessing a rate.
    """

    expr: Expr = TRUE

    def holds(self, facts: Facts) -> bool:
        """Whether the condition is true for ``facts``."""
        return bool(to_predicate(self.expr)(facts.values))


def _to_condition(value: Condition | Expr) -> Condition:
    return value if isinstance(value, Condition) else Condition(value)


_conv = converter()
_conv.register_unstructure_hook(Condition, lambda c: _encode_expr(c.expr))
_conv.register_structure_hook(Condition, lambda d, _: Condition(_decode_expr(d)))
_conv.register_unstructure_hook(Facts, lambda f: {k: encode_value(v) for k, v in f.values.items()})
_conv.register_structure_hook(
    Facts,
    lambda d, _: d if isinstance(d, Facts) else Facts({k: decode_value(v) for k, v in d.items()}),
)


# -- stages and flows ------------------------------------------------------------------


def _check_stage_name(_i: Any, _a: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise invalid(_STAGE, "name", N_("is required"))


def _check_approvers(_i: Any, _a: Any, value: tuple[Approvers, ...]) -> None:
    if not value:
        raise invalid(_STAGE, "approvers", N_("names nobody"))


@attrs.frozen
class FlowStage:
    """One stage of a flow.

    Attributes:
        name: shown to users ("部门经理审批", "finance").
        approvers: selectors; their union (in order, without repeats) approves.
        rule: any / all / N of M.
        quorum: the N of an ``N_OF_M`` stage.
        when: the stage applies only when this condition holds (default: always).
        remind_after: after this long the pending approvers are reminded.
        escalate_after: after this long (counted from the stage opening) the
            request is escalated.
        escalate_to: whom to escalate to; empty means each pending approver's manager.
    """

    name: str = attrs.field(validator=_check_stage_name)
    approvers: tuple[Approvers, ...] = attrs.field(converter=_selectors, validator=_check_approvers)
    rule: Rule = Rule.ANY
    quorum: int | None = None
    when: Condition = attrs.field(default=Condition(), converter=_to_condition)
    remind_after: Deadline | None = None
    escalate_after: Deadline | None = None
    escalate_to: tuple[Approvers, ...] = attrs.field(default=(), converter=_selectors)

    def __attrs_post_init__(self) -> None:
        if self.rule is Rule.N_OF_M:
            if not isinstance(self.quorum, int) or self.quorum < 1:
                raise invalid(_STAGE, "quorum", N_("must be at least 1 for an N-of-M stage"))
        elif self.quorum is not None:
            raise invalid(_STAGE, "quorum", N_("is only for N-of-M stages"))


def _check_stages(_i: Any, _a: Any, value: tuple[FlowStage, ...]) -> None:
    names = [s.name for s in value]
    if len(set(names)) != len(names):
        raise invalid(_FLOW, "stages", N_("have repeated names"))


def _check_interval(_i: Any, _a: Any, value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise invalid(_FLOW, "urge_interval_minutes", N_("must not be negative"))


@attrs.define(eq=False)
class ApprovalFlow(Entity):
    """How one kind of document is approved in one tenant.

    Attributes:
        id: the flow's id.
        tenant_id: the owning tenant.
        name: shown to users ("合同审批").
        document_type: the kind of document it approves ("contract", "expense", ...).
        stages: in order; a stage whose ``when`` is false for a document is skipped,
            and a document no stage applies to is approved on submission.
        allow_self_approval: whether a submitter may approve their own document;
            when false they are left out of every stage (a stage left empty goes to
            their manager).
        urge_interval_minutes: the submitter may urge (催办) at most once per interval.
        calendar: office hours and holidays for business-hour deadlines.
        unapprovers: who may unapprove (反审核) an approved document; empty means
            whoever approved its last stage.
        active: inactive flows are kept for history but not used for new submissions.
        version: optimistic-locking counter.
    """

    entity_name: ClassVar[str] = _FLOW

    id: ApprovalFlowId
    tenant_id: TenantId
    name: str
    document_type: str
    stages: tuple[FlowStage, ...] = attrs.field(converter=_flow_stages, validator=_check_stages)
    allow_self_approval: bool = False
    urge_interval_minutes: int = attrs.field(default=240, validator=_check_interval)
    calendar: BusinessCalendar = attrs.field(factory=BusinessCalendar)
    unapprovers: tuple[Approvers, ...] = attrs.field(default=(), converter=_selectors)
    active: bool = True
    version: int = 0

    def stages_for(self, facts: Facts) -> tuple[FlowStage, ...]:
        """The stages a document with these facts goes through, in order."""
        return tuple(stage for stage in self.stages if stage.when.holds(facts))
