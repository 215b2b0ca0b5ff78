"""Targets vs actuals with department rollups, pipeline coverage, the customer pyramid,
and commission statements (on won deals or on collections, with rates per category).

Actuals come from the pipeline analytics (aggregates in SQL on a database), per
owner; a department's figures add up everyone in its subtree. Periods are read
in UTC day boundaries: ``2026-03`` is [2026-03-01 00:00, 2026-04-01 00:00) UTC.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.limits import to_member
from crmkit.kernel.money import Money, round_figure, to_decimal
from crmkit.kernel.periods import Period
from crmkit.kernel.query import TRUE, Expr, F, Query
from crmkit.kernel.report import ReportTable
from crmkit.pipeline.model.opportunities import Opportunity, OpportunityStatus
from crmkit.pipeline.model.orders import OrderStatus, SalesOrder
from crmkit.pipeline.model.resources import COMMISSIONS, TARGETS
from crmkit.pipeline.model.targets import (
    DEFAULT_PYRAMID,
    CommissionBasis,
    CommissionPlan,
    CommissionStatement,
    Metric,
    RevenueTier,
    Target,
    UnitKind,
    check_pyramid,
    commission_statement,
)
from crmkit.pipeline.queries.analytics import PipelineAnalytics, closed_in
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import (
    Department,
    Grants,
    Member,
    grants_for,
    guarded,
)
from crmkit.rules.permissions.reader import aggregate

__all__ = [
    "COVERAGE_COLUMNS",
    "TARGET_COLUMNS",
    "commission_for",
    "coverage_report",
    "customer_pyramid",
    "target_report",
]


TARGET_COLUMNS = ("unit", "unit_id", "name", "target", "actual", "attainment")


COVERAGE_COLUMNS = (
    "unit",
    "unit_id",
    "name",
    "target",
    "won",
    "gap",
    "pipeline",
    "weighted",
    "coverage",
    "weighted_coverage",
)


# The deal fields the report columns are computed from (see ``aggregate``).
_AMOUNT = ("amount",)


_COVERAGE_SOURCES = {
    "won": _AMOUNT,
    "gap": _AMOUNT,
    "pipeline": _AMOUNT,
    "weighted": ("amount", "probability"),
    "coverage": _AMOUNT,
    "weighted_coverage": ("amount", "probability"),
}


_PYRAMID_SOURCES = {"tier": _AMOUNT, "currency": _AMOUNT, "revenue": _AMOUNT}


# Won amounts sum deal amounts; counts of deals, customers and calls read no hidden field.
_TARGET_SOURCES = {
    Metric.WON_AMOUNT: {"actual": _AMOUNT, "attainment": _AMOUNT},
}


def _bounds(label: str) -> tuple[Period, datetime, datetime]:
    period = Period.parse(label)
    since = datetime.combine(period.start, time(), tzinfo=UTC)
    until = datetime.combine(period.end + timedelta(days=1), time(), tzinfo=UTC)
    return period, since, until


def _actuals(
    uow: UnitOfWork,
    actor: Actor,
    metric: Metric,
    since: datetime,
    until: datetime,
    currency: str | None,
) -> dict[str, Decimal]:
    analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
    grants = grants_for(uow, actor)
    per_owner: dict[str, Decimal] = defaultdict(Decimal)
    if metric is Metric.NEW_CUSTOMERS:
        table = analytics.new_customers_by_owner(since, until, grants.scope("view", "customer"))
        for owner, count in table:
            per_owner[owner] += count
        return per_owner
    if metric is Metric.CALLS:
        table = analytics.calls_by_owner(since, until, grants.scope("view", "activity"))
        for owner, count in table:
            per_owner[owner] += count
        return per_owner
    table = analytics.won_by_owner(since, until, grants.scope("view", "opportunity"))
    for owner, deal_currency, deals, amount in table:
        if metric is Metric.WON_DEALS:
            per_owner[owner] += deals
        elif deal_currency == currency:
            per_owner[owner] += amount
    return per_owner


def _load_org(
    uow: UnitOfWork, period: str, metric: Metric, currency: str | None = None
) -> tuple[list[Member], list[Department], dict[tuple[UnitKind, uuid.UUID], Decimal]]:
    members = uow.repository(Member).query()
    departments = uow.repository(Department).query()
    where = F("period").eq(period) & F("metric").eq(metric)
    if currency is not None:
        where = where & F("currency").eq(currency)
    targets = {
        (t.unit_kind, t.unit_id): t.value for t in uow.repository(Target).query(Query(where=where))
    }
    return members, departments, targets


def _units_seen(
    actor: Actor,
    grants: Grants,
    members: list[Member],
    departments: list[Department],
    resource: str,
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The members and departments whose figures ``actor`` may see under ``resource``.

    A member's own figures, their team's (everyone reporting to them down the manager
    chain), and whoever a ``view`` grant on ``resource`` reaches. A department shows when
    every member of its subtree shows (its row is then a sum of figures the reader sees
    anyway) and it has members, or a grant reaches the department itself.

    Raises:
        PermissionDenied: the actor is not an active member of the tenant.
    """
    if grants.is_tenant_admin:
        return {m.id for m in members}, {d.id for d in departments}
    me = next((m for m in members if m.id == actor.user_id and m.active), None)
    if me is None:
        raise PermissionDenied(actor=grants.label, operation="view", resource=resource)
    reports: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for member in members:
        if member.manager_id is not None:
            reports[member.manager_id].append(member.id)
    users: set[uuid.UUID] = {me.id}
    todo: list[uuid.UUID] = [me.id]
    while todo:
        for report in reports.get(todo.pop(), ()):
            if report not in users:
                users.add(report)
                todo.append(report)
    tenant = actor.tenant_id
    if grants.holds("view", resource):
        users |= {
            m.id
            for m in members
            if grants.can(
                "view",
                {
                    "tenant_id": tenant,
                    "id": m.id,
                    "owner_id": m.id,
                    "department_id": m.department_id,
                },
                resource,
            )
        }
    children: dict[uuid.UUID | None, list[uuid.UUID]] = defaultdict(list)
    for department in departments:
        children[department.parent_id].append(department.id)
    staff: dict[uuid.UUID | None, list[uuid.UUID]] = defaultdict(list)
    for member in members:
        staff[member.department_id].append(member.id)
    seen: set[uuid.UUID] = set()
    for department in departments:
        subtree: set[uuid.UUID] = {department.id}
        below: list[uuid.UUID] = [department.id]
        while below:
            for child in children.get(below.pop(), ()):
                if child not in subtree:
                    subtree.add(child)
                    below.append(child)
        people = [u for d in subtree for u in staff.get(d, ())]
        reached = grants.holds("view", resource) and grants.can(
            "view",
            {
                "tenant_id": tenant,
                "id": department.id,
                "owner_id": None,
                "department_id": department.id,
            },
            resource,
        )
        if (people and all(u in users for u in people)) or reached:
            seen.add(department.id)
    return users, seen


def _shown(rows: list[Rolled], users: set[uuid.UUID], departments: set[uuid.UUID]) -> list[Rolled]:
    return [
        row
        for row in rows
        if uuid.UUID(row[1]) in (departments if row[0] == "department" else users)
    ]


def _check_amounts(grants: Grants, resource: str) -> None:
    """Refuse a commission statement paid on amounts the reader's role hides.

    A statement is nothing but those amounts (what was won or collected, the rate it
    reaches, what it pays), so unlike a report's column there is nothing left to show.

    Raises:
        PermissionDenied: naming the hidden ``amount`` field.
    """
    grants.check_readable(resource, TRUE, ("amount",))


Rolled = tuple[str, str, str, Decimal | None, tuple[Decimal, ...]]


def _rollup(
    members: list[Member],
    departments: list[Department],
    targets: dict[tuple[UnitKind, uuid.UUID], Decimal],
    per_user: Mapping[str, tuple[Decimal, ...]],
    width: int,
) -> list[Rolled]:
    """Every department (its figures summed over its subtree, listed above its children)
    then every person with a target or a non-zero figure: (unit, id, name, target, sums).

    A department without a target of its own takes the sum of its members' personal
    targets and its sub-departments' targets (their own, or rolled up the same way).
    """
    zero = tuple(Decimal(0) for _ in range(width))

    def add(a: tuple[Decimal, ...], b: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        return tuple(x + y for x, y in zip(a, b, strict=True))

    children: dict[uuid.UUID | None, list[Department]] = defaultdict(list)
    for department in departments:
        children[department.parent_id].append(department)
    staff: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for member in members:
        if member.department_id is not None:
            staff[member.department_id].append(member)

    def visit(department: Department) -> tuple[Decimal | None, tuple[Decimal, ...], list[Rolled]]:
        # Post-order sums, pre-order rows: a department is listed above its children.
        target = targets.get((UnitKind.DEPARTMENT, department.id))
        sums = zero
        child_targets: list[Decimal] = []
        for member in staff[department.id]:
            sums = add(sums, per_user.get(str(member.id), zero))
            personal = targets.get((UnitKind.USER, member.id))
            if personal is not None:
                child_targets.append(personal)
        below: list[Rolled] = []
        for child in sorted(children[department.id], key=lambda d: d.name):
            child_target, child_sums, child_rows = visit(child)
            sums = add(sums, child_sums)
            below += child_rows
            if child_target is not None:
                child_targets.append(child_target)
        if target is None and child_targets:
            target = sum(child_targets, Decimal(0))
        own: Rolled = ("department", str(department.id), department.name, target, sums)
        return target, sums, [own, *below]

    rows: list[Rolled] = []
    for top in sorted(children[None], key=lambda d: d.name):
        rows += visit(top)[2]
    for member in sorted(members, key=lambda m: m.name):
        target = targets.get((UnitKind.USER, member.id))
        sums = per_user.get(str(member.id), zero)
        if target is not None or any(sums):
            rows.append(("user", str(member.id), member.name, target, sums))
    return rows


def target_report(
    crm: Crm, actor: Actor, *, period: str, metric: Metric, currency: str | None = None
) -> ReportTable:
    """Every department (rolled up its tree) and person: target, actual, attainment %.

    Actuals count only what the actor may view. A department without a target of
    its own shows the sum of its members' personal targets and its sub-departments'
    targets (their own figure, or rolled up the same way).

    Rows are limited to the reader's own figures, their team's (a manager's reports),
    and the members and departments a ``view`` grant on ``target`` reaches; a department
    shows when all of its members do. In a won-amount report ``actual`` and
    ``attainment`` are omitted (``None``) for a reader whose role hides opportunity
    ``amount`` (see :func:`~crmkit.rules.permissions.reader.aggregate`).

    Raises:
        PermissionDenied: the actor is not a member of the tenant.
    """
    _, since, until = _bounds(period)

    def work(uow: UnitOfWork) -> ReportTable:
        grants = grants_for(uow, actor)
        members, departments, targets = _load_org(uow, period, metric)
        users, seen = _units_seen(actor, grants, members, departments, TARGETS)
        actual_by_user = _actuals(uow, actor, metric, since, until, currency)
        per_user = {user: (value,) for user, value in actual_by_user.items()}
        table = ReportTable.of(
            TARGET_COLUMNS,
            [
                (unit, unit_id, name, target, actual, _attainment(actual, target))
                for unit, unit_id, name, target, (actual,) in _shown(
                    _rollup(members, departments, targets, per_user, 1), users, seen
                )
            ],
        )
        return aggregate(grants, "opportunity", table, _TARGET_SOURCES.get(metric, {}))

    return guarded(crm, actor, work)


def coverage_report(crm: Crm, actor: Actor, *, period: str, currency: str) -> ReportTable:
    """Pipeline coverage of the won-amount targets, per department (rolled up) and person.

    ``gap`` is the target less what is already won in ``period``; ``pipeline`` and
    ``weighted`` are the open deals (in ``currency``) expected to close within the
    period; ``coverage`` = pipeline / gap and ``weighted_coverage`` = weighted / gap,
    two decimals (3.00 means three times the amount still to win is in the pipe).
    Coverage is ``None`` where there is no target or the target is already met.
    Every figure counts only the deals the actor may view, and rows are limited as in
    :func:`target_report`; figures over a hidden deal ``amount`` are omitted.

    Raises:
        PermissionDenied: the actor is not a member of the tenant.
    """
    span, since, until = _bounds(period)

    def work(uow: UnitOfWork) -> ReportTable:
        grants = grants_for(uow, actor)
        members, departments, targets = _load_org(uow, period, Metric.WON_AMOUNT, currency)
        users, seen = _units_seen(actor, grants, members, departments, TARGETS)
        won = _actuals(uow, actor, Metric.WON_AMOUNT, since, until, currency)
        analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
        scope = grants_for(uow, actor).scope("view", "opportunity")
        per_user: dict[str, tuple[Decimal, ...]] = defaultdict(
            lambda: (Decimal(0), Decimal(0), Decimal(0))
        )
        for owner, amount in won.items():
            per_user[owner] = (Decimal(amount), Decimal(0), Decimal(0))
        for owner, deal_currency, _, amount, weight in analytics.pipeline_by_owner(
            span.start, span.end, scope
        ):
            if deal_currency == currency:
                done, pipe, pipe_weighted = per_user[owner]
                per_user[owner] = (done, pipe + amount, pipe_weighted + weight)
        rows = []
        for unit, unit_id, name, target, (done, pipe, pipe_weighted) in _shown(
            _rollup(members, departments, targets, dict(per_user), 3), users, seen
        ):
            gap = None if target is None else target - done
            rows.append(
                (
                    unit,
                    unit_id,
                    name,
                    target,
                    done,
                    gap,
                    pipe,
                    pipe_weighted,
                    coverage_ratio(pipe, gap),
                    coverage_ratio(pipe_weighted, gap),
                )
            )
        table = ReportTable.of(COVERAGE_COLUMNS, rows)
        return aggregate(grants_for(uow, actor), "opportunity", table, _COVERAGE_SOURCES)

    return guarded(crm, actor, work)


def coverage_ratio(pipeline: Decimal, gap: Decimal | None) -> Decimal | None:
    """``pipeline / gap`` with two decimals; ``None`` when nothing is left to win."""
    if gap is None or gap <= 0:
        return None
    return round_figure(Decimal(pipeline) / gap, 2)


def customer_pyramid(
    crm: Crm,
    actor: Actor,
    *,
    period: str,
    tiers: Sequence[RevenueTier] = DEFAULT_PYRAMID,
) -> ReportTable:
    """The customer pyramid of ``period``: customers and revenue per tier and currency.

    Revenue is the won amount of the customer's deals closed in the period; a
    customer lands in the first tier whose minimum its revenue reaches (per currency),
    and the customers that bought nothing form the ``none`` row. Only the deals and
    customers the actor may view count.

    Raises:
        ValidationError: when the tiers do not fall strictly to 0 or the period is bad.
    """
    tiers = check_pyramid(tiers)
    _, since, until = _bounds(period)

    def work(uow: UnitOfWork) -> ReportTable:
        analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
        grants = grants_for(uow, actor)
        table = analytics.customer_pyramid(
            since,
            until,
            tiers,
            grants.scope("view", "opportunity"),
            grants.scope("view", "customer"),
        )
        # A tier is a range of won amounts: with the amount hidden the tiers merge and
        # only the number of customers shows.
        return aggregate(grants, "opportunity", table, _PYRAMID_SOURCES, counts=("customers",))

    return guarded(crm, actor, work)


def _attainment(actual: Decimal, target: Decimal | None) -> Decimal | None:
    if not target:
        return None
    return round_figure(Decimal(actual) * 100 / target, 1)


def commission_for(
    crm: Crm,
    actor: Actor,
    *,
    plan_id: uuid.UUID,
    rep_id: uuid.UUID,
    period: str,
    basis: CommissionBasis = CommissionBasis.WON_AMOUNT,
    category_rates: Mapping[str, Decimal | str] | None = None,
) -> CommissionStatement:
    """The rep's commission statement for ``period`` (the rep, or whoever may view
    the rep's deals, may ask).

    The plan's ``category_rates``, overridden here by ``category_rates``
    (``{"software": "0.08"}``), pay a rate of their own on the share of a source that
    sold products of that category. A won deal with product lines is split by the net
    of its lines per ``category``; one without lines by the net of its sales orders'
    lines (orders linked to it by ``opportunity_id``, cancelled ones left out). A
    collected installment is split by the lines of the sales order it bills. Other
    categories, uncategorised lines and sources with nothing to split by are paid the
    tier rate.

    With ``basis=CommissionBasis.RECEIPTS`` the statement pays on money collected in
    the period instead of deals won: per receivable installment the rep owns (and the
    actor may view), the receipt money allocated to it on the period's business days
    less allocations taken back. Attainment is the collected sum over the won-amount
    target. Only amounts in the plan's currency count.

    Who may ask: the rep, their managers (up the manager chain), and whoever a ``view``
    grant on ``commission`` reaches; a reader whose role hides the amounts the basis
    pays on (opportunity ``amount``, or installment ``amount`` for receipts) is refused.

    Raises:
        NotFound: no such plan.
        PermissionDenied: the actor may not see the rep's commission, or its amounts.
    """
    basis = to_member(CommissionBasis, basis, entity="commission", field="basis")
    span, since, until = _bounds(period)
    asked = {
        c: to_decimal(r, entity="commission", field="category_rates")
        for c, r in (category_rates or {}).items()
    }
    opportunity_of: dict[uuid.UUID, uuid.UUID] = {}

    def _category_mix(
        uow: UnitOfWork, orders: Expr
    ) -> dict[uuid.UUID, list[tuple[str | None, Decimal]]]:
        # Net per category of each live order, in line order of first appearance.
        found: dict[uuid.UUID, list[tuple[str | None, Decimal]]] = {}
        live = orders & ~F("status").eq(OrderStatus.CANCELLED)
        for order in uow.repository(SalesOrder).query(Query(where=live)):
            if order.opportunity_id is not None:
                opportunity_of[order.id] = order.opportunity_id
            net: dict[str | None, Decimal] = {}
            for line in order.lines:
                net[line.category] = net.get(line.category, Decimal(0)) + line.net.amount
            found[order.id] = list(net.items())
        return found

    def work(uow: UnitOfWork) -> CommissionStatement:
        grants = grants_for(uow, actor)
        members = uow.repository(Member).query()
        users, _ = _units_seen(actor, grants, members, [], COMMISSIONS)
        if rep_id not in users and not grants.is_tenant_admin:
            raise PermissionDenied(actor=grants.label, operation="view", resource=COMMISSIONS)
        _check_amounts(
            grants, "installment" if basis is CommissionBasis.RECEIPTS else "opportunity"
        )
        plan = uow.repository(CommissionPlan).get(plan_id)
        rates = {**plan.rates_by_category, **asked}
        target_row = uow.repository(Target).query(
            Query(
                where=F("unit_id").eq(rep_id)
                & F("period").eq(period)
                & F("metric").eq(Metric.WON_AMOUNT)
                & F("currency").eq(plan.currency)
            )
        )
        target = Money(target_row[0].value, plan.currency) if target_row else None
        if basis is CommissionBasis.RECEIPTS:
            analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
            scope = grants.scope("view", "installment") & F("owner_id").eq(rep_id)
            collected = [
                (uuid.UUID(item), uuid.UUID(document), Money(total, currency))
                for _, item, document, currency, total in analytics.collected_by_installment(
                    span.start, span.end, scope
                )
                if currency == plan.currency
            ]
            inputs = [(item, amount) for item, _, amount in collected]
            by_order = (
                _category_mix(uow, F("id").is_in([d for _, d, _ in collected]))
                if rates and collected
                else {}
            )
            mix = {item: by_order[doc] for item, doc, _ in collected if doc in by_order}
            return commission_statement(plan, period, rep_id, inputs, target, basis, rates, mix)
        won = closed_in(since, until, F("owner_id").eq(rep_id), OpportunityStatus.WON)
        deals = uow.repository(Opportunity).query(
            grants.restrict(Query(where=won), "view", "opportunity")
        )
        paid = [d for d in deals if d.amount.currency == plan.currency]
        won_inputs = [(d.id, d.amount) for d in paid]
        # A deal's own product lines say what it sold; orders speak for deals without.
        deal_mix: dict[uuid.UUID, list[tuple[str | None, Decimal]]] = (
            {d.id: d.category_mix() for d in paid if d.lines} if rates else {}
        )
        unlined = [d.id for d in paid if d.id not in deal_mix]
        if rates and unlined:
            by_order = _category_mix(uow, F("opportunity_id").is_in(unlined))
            for order_id, weights in by_order.items():
                deal_id = opportunity_of[order_id]
                merged = dict(deal_mix.get(deal_id, []))
                for category, weight in weights:
                    merged[category] = merged.get(category, Decimal(0)) + weight
                deal_mix[deal_id] = sorted(merged.items(), key=lambda cw: cw[0] or "")
        return commission_statement(
            plan, period, rep_id, won_inputs, target, basis, rates, deal_mix
        )

    return guarded(crm, actor, work)
