"""The one permission evaluator: compile a member's grants once, then answer fast.

:func:`compile_grants` turns the tenant's :class:`Policy` into an immutable
:class:`Grants` object for one user: for every (resource, operation) the user
holds, a *reach* made of precomputed sets (owners whose records it reaches,
departments, ids of records shared with the user) plus the few custom
conditions that cannot be sets (custom-scope filters, sharing rules). Everything
else is derived from that one object, so the answers cannot drift apart:

- :meth:`Grants.can` — one record, a dict lookup and a few set probes (no I/O);
- :meth:`Grants.scope` — the same reach as a :mod:`crmkit.kernel.query`
  expression over record fields, which the memory adapter runs as a predicate
  and the SQL adapter compiles into the ``WHERE`` clause of lists, searches,
  counts, analytics and exports;
- :meth:`Grants.explain` — the decision with its reasons (which grant, scope,
  share or rule allowed it; or what was missing).

The scope expression uses only ``in`` comparisons combined with ``or`` — no
negation — so the two-valued logic of both interpreters agrees trivially with
``can`` (a record whose owner is ``NULL`` is reached only by the tenant scope, a
custom filter or a share). A differential hypothesis test holds them to it.

Shares are compiled into the reach as an ``id IN (...)`` set. That is right at
CRM scale (a user is rarely shared more than a few thousand records
individually); for bulk visibility use a sharing rule, which compiles to a
condition instead of a list.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.errors import LazyText, PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import (
    FALSE,
    TRUE,
    And,
    Cond,
    Expr,
    F,
    Not,
    Or,
    Query,
    and_,
    field_value,
    fields_of,
    or_,
    to_predicate,
)
from crmkit.rules.permissions.model import (
    AdminLevel,
    Department,
    FieldAccess,
    GranteeKind,
    Member,
    RecordShare,
    Registry,
    ResourceSpec,
    Role,
    Scope,
    SharingRule,
    registry,
)

__all__ = ["Decision", "Grants", "Policy", "Reason", "compile_grants"]


@attrs.frozen
class Reason:
    """One line of an explanation.

    Attributes:
        kind: ``admin``, ``grant``, ``owner``, ``share``, ``sharing_rule`` (allowing) or
            ``no_grant``, ``out_of_scope``, ``field``, ``tenant``, ``inactive`` (denying).
        text: the translatable sentence.
        role: the role the reason comes from, when it comes from one.
    """

    kind: str
    text: LazyText
    role: str | None = None

    def __str__(self) -> str:
        return str(self.text)


@attrs.frozen
class Decision:
    """The answer to "may this user do this?", with the reasons behind it."""

    allowed: bool
    user_id: UUID
    operation: str
    resource: str
    record_id: UUID | None = None
    field: str | None = None
    reasons: tuple[Reason, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        return f"{verdict}: " + "; ".join(str(r) for r in self.reasons)


class Policy:
    """A tenant's whole permission configuration, as loaded from storage.

    Args:
        tenant_id: the tenant.
        departments, members, roles, sharing_rules: the tenant's policy objects.
        shares: record shares (all of the tenant's, or just those a user can receive).
        super_admins: user ids of platform super-administrators.
        epoch: the tenant's policy token the snapshot was read at.
    """

    def __init__(
        self,
        tenant_id: TenantId,
        *,
        departments: Iterable[Department] = (),
        members: Iterable[Member] = (),
        roles: Iterable[Role] = (),
        sharing_rules: Iterable[SharingRule] = (),
        shares: Iterable[RecordShare] = (),
        super_admins: Iterable[UUID] = (),
        epoch: UUID | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.departments = {d.id: d for d in departments}
        self.members: dict[UUID, Member] = {m.id: m for m in members}
        self.roles = {r.code: r for r in roles}
        self.sharing_rules = tuple(sharing_rules)
        self.shares = tuple(shares)
        self.super_admins = frozenset(super_admins)
        self.epoch = epoch
        self._children: dict[UUID, list[UUID]] = defaultdict(list)
        for dept in self.departments.values():
            if dept.parent_id is not None:
                self._children[dept.parent_id].append(dept.id)
        self._reports: dict[UUID, list[UUID]] = defaultdict(list)
        for member in self.members.values():
            if member.manager_id is not None:
                self._reports[member.manager_id].append(member.id)

    def subtree(self, department_id: UUID) -> frozenset[UUID]:
        """A department and every department below it."""
        return _closure(department_id, self._children)

    def ancestors(self, department_id: UUID) -> list[UUID]:
        """A department and every department above it, nearest first."""
        chain: list[UUID] = []
        current: UUID | None = department_id
        while current is not None and current not in chain:
            chain.append(current)
            dept = self.departments.get(current)
            current = None if dept is None else dept.parent_id
        return chain

    def team(self, user_id: UUID) -> frozenset[UUID]:
        """A user and everyone reporting to them, directly or down the manager chain."""
        return _closure(user_id, self._reports)

    def managers(self, user_id: UUID) -> list[UUID]:
        """The manager chain above a user, nearest first."""
        chain: list[UUID] = []
        member = self.members.get(user_id)
        while member is not None and member.manager_id is not None:
            if member.manager_id in chain or member.manager_id == user_id:
                break
            chain.append(member.manager_id)
            member = self.members.get(member.manager_id)
        return chain


def _closure(start: UUID, edges: Mapping[UUID, list[UUID]]) -> frozenset[UUID]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in edges.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)


# -- compiled reach -----------------------------------------------------------------------


@attrs.frozen
class _Source:
    """One thing that reaches records: a grant's scope, a share set or a sharing rule."""

    kind: str
    text: LazyText
    role: str | None
    everything: bool = False
    owners: frozenset[UUID] = frozenset()
    departments: frozenset[UUID] = frozenset()
    ids: frozenset[UUID] = frozenset()
    condition: Expr | None = None


class _Reach:
    """Everything that reaches records for one (resource, operation), merged for speed."""

    __slots__ = (
        "conditions",
        "department_field",
        "departments",
        "everything",
        "expr",
        "ids",
        "owner_field",
        "owners",
        "predicates",
        "sources",
    )

    def __init__(self, spec: ResourceSpec, sources: list[_Source]) -> None:
        self.sources = tuple(sources)
        self.owner_field = spec.owner_field
        self.department_field = spec.department_field
        self.everything = any(s.everything for s in sources)
        self.owners = frozenset().union(*(s.owners for s in sources))
        self.departments = frozenset().union(*(s.departments for s in sources))
        self.ids = frozenset().union(*(s.ids for s in sources))
        self.conditions = tuple(s.condition for s in sources if s.condition is not None)
        self.predicates = tuple(to_predicate(c) for c in self.conditions)
        self.expr = self._expr()

    def _expr(self) -> Expr:
        if self.everything:
            return TRUE
        terms: list[Expr] = []
        if self.owners:
            terms.append(_member_of(self.owner_field, self.owners))
        if self.departments:
            terms.append(_member_of(self.department_field, self.departments))
        if self.ids:
            terms.append(_member_of("id", self.ids))
        terms.extend(self.conditions)
        return or_(*terms)

    def test(self, obj: Any) -> bool:
        if self.everything:
            return True
        if isinstance(obj, Mapping):
            owner = obj.get(self.owner_field)
            dept = obj.get(self.department_field)
            ident = obj.get("id")
        else:
            owner = getattr(obj, self.owner_field, None)
            dept = getattr(obj, self.department_field, None)
            ident = getattr(obj, "id", None)
        # The sets never hold None, so a record without an owner is not reached by them.
        if owner in self.owners or dept in self.departments or ident in self.ids:
            return True
        return any(p(obj) for p in self.predicates)


def _member_of(field: str, values: frozenset[UUID]) -> Cond:
    # Sorted so the same grants always produce the same expression (and SQL text).
    ordered = sorted(values)
    return F(field).eq(ordered[0]) if len(ordered) == 1 else F(field).is_in(ordered)


def _source_test(source: _Source, spec: ResourceSpec, obj: Any) -> bool:
    if source.everything:
        return True
    owner = field_value(obj, spec.owner_field)
    dept = field_value(obj, spec.department_field)
    ident = field_value(obj, "id")
    if owner is not None and owner in source.owners:
        return True
    if dept is not None and dept in source.departments:
        return True
    if ident is not None and ident in source.ids:
        return True
    return source.condition is not None and to_predicate(source.condition)(obj)


# -- substitution of placeholders ---------------------------------------------------------


def _substitute(expr: Expr, values: Mapping[str, tuple[Any, ...]]) -> Expr:
    """Replace ``$me``-style placeholders with the actor's values."""
    if isinstance(expr, Cond):
        raw = expr.value if isinstance(expr.value, tuple) else (expr.value,)
        if not any(isinstance(v, str) and v in values for v in raw):
            return expr
        flat: list[Any] = []
        for value in raw:
            flat.extend(values[value] if isinstance(value, str) and value in values else (value,))
        if expr.op in ("eq", "in"):
            return Cond(expr.field, "in", tuple(flat))
        if expr.op in ("ne", "not_in"):
            return Cond(expr.field, "not_in", tuple(flat))
        return Cond(expr.field, expr.op, flat[0]) if len(flat) == 1 else FALSE
    if isinstance(expr, And):
        return and_(*(_substitute(i, values) for i in expr.items))
    if isinstance(expr, Or):
        return or_(*(_substitute(i, values) for i in expr.items))
    if isinstance(expr, Not):
        return Not(_substitute(expr.item, values))
    return expr


# -- the compiled grants of one user ------------------------------------------------------


_ALL_FIELDS: Mapping[str, FieldAccess] = {}


class Grants:
    """Everything one user may do in one tenant, compiled once (see :func:`compile_grants`).

    Instances are immutable and safe to share between threads; cache them under the
    tenant's policy epoch and drop them when it moves.
    """

    __slots__ = (
        "_effective",
        "_fields",
        "_reach",
        "_registry",
        "_why_not",
        "admin",
        "epoch",
        "label",
        "roles",
        "tenant_id",
        "user_id",
    )

    def __init__(
        self,
        *,
        tenant_id: TenantId,
        user_id: UUID,
        label: str,
        admin: AdminLevel,
        roles: tuple[str, ...],
        epoch: UUID | None,
        reach: dict[tuple[str, str], _Reach],
        fields: dict[str, dict[str, FieldAccess]],
        why_not: tuple[Reason, ...],
        reg: Registry,
    ) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.label = label
        self.admin = admin
        self.roles = roles
        self.epoch = epoch
        self._reach = reach
        self._fields = fields
        self._why_not = why_not
        self._registry = reg
        # Field rules with the derived fields of each resource folded in, made on first use
        # per resource (and again if the resource is registered anew); see _rules_of.
        self._effective: dict[
            str, tuple[ResourceSpec | None, dict[str, FieldAccess], frozenset[str]]
        ] = {}

    @property
    def is_tenant_admin(self) -> bool:
        """Whether this user administers the tenant (and so reaches all of its data)."""
        return self.admin is AdminLevel.TENANT

    @property
    def may_administer(self) -> bool:
        """Whether this user may change the tenant's permission policy."""
        return self.admin in (AdminLevel.TENANT, AdminLevel.SUPER)

    def _resource_of(self, obj: Any, resource: str | None) -> str:
        return resource if resource is not None else self._registry.of(obj).name

    # -- decisions ---------------------------------------------------------------------
    def holds(self, operation: str, resource: str) -> bool:
        """Whether the user holds ``operation`` on ``resource`` for at least some records."""
        return self.is_tenant_admin or (resource, operation) in self._reach

    def can(self, operation: str, obj: Any, resource: str | None = None) -> bool:
        """Whether the user may do ``operation`` to the record ``obj``.

        Args:
            operation: the operation code.
            obj: a registered aggregate, or a mapping of its fields (then pass ``resource``).
            resource: the resource code, when ``obj`` is not a registered aggregate.
        """
        tenant = obj.get("tenant_id") if isinstance(obj, Mapping) else obj.tenant_id
        if tenant != self.tenant_id:
            return False
        if self.admin is AdminLevel.TENANT:
            return True
        reach = self._reach.get((self._resource_of(obj, resource), operation))
        return reach is not None and reach.test(obj)

    def scope(self, operation: str, resource: str) -> Expr:
        """The records the user may do ``operation`` to, as a filter over record fields.

        The tenant itself is not part of the expression: repositories add it.
        """
        if self.admin is AdminLevel.TENANT:
            return TRUE
        reach = self._reach.get((resource, operation))
        return FALSE if reach is None else reach.expr

    def unowned_scope(self, operation: str, resource: str) -> Expr:
        """The records *without an owner* the user may do ``operation`` to, as a filter.

        Owner and department scopes cannot place a record nobody owns (a customer in the
        public pool), so a grant with such a scope reaches every unowned record, as the
        source products open the pool to whoever may claim. A grant whose scope is a
        custom condition (only region 华东) reaches the unowned records meeting it, and
        records shared by id stay reached.
        """
        if self.admin is AdminLevel.TENANT:
            return TRUE
        reach = self._reach.get((resource, operation))
        if reach is None:
            return FALSE
        terms: list[Expr] = []
        for source in reach.sources:
            if source.everything or (source.kind == "grant" and source.condition is None):
                return TRUE
            if source.condition is not None:
                terms.append(source.condition)
            if source.ids:
                terms.append(_member_of("id", source.ids))
        return or_(*terms)

    def restrict(self, query: Query | None, operation: str, resource: str) -> Query:
        """``query`` narrowed to the records the scope reaches (for lists, counts, exports)."""
        query = query or Query()
        return attrs.evolve(query, where=and_(self.scope(operation, resource), query.where))

    def explain(self, operation: str, obj: Any, resource: str | None = None) -> Decision:
        """The decision :meth:`can` makes, with every reason that led to it."""
        name = self._resource_of(obj, resource)
        record_id = field_value(obj, "id")

        def decide(allowed: bool, reasons: Iterable[Reason]) -> Decision:
            return Decision(allowed, self.user_id, operation, name, record_id, None, tuple(reasons))

        tenant = field_value(obj, "tenant_id")
        if tenant != self.tenant_id:
            text = LazyText(N_("the record belongs to another tenant"))
            return decide(False, [Reason("tenant", text)])
        if self.admin is AdminLevel.TENANT:
            return decide(True, [Reason("admin", LazyText(N_("tenant administrator")))])
        reach = self._reach.get((name, operation))
        if reach is None:
            missing = Reason(
                "no_grant",
                LazyText(
                    N_("no role grants {operation} on {resource}"),
                    operation=operation,
                    resource=name,
                ),
            )
            return decide(False, [*self._why_not, missing])
        spec = self._registry.find(name) or ResourceSpec(name, frozenset())
        allowing = [
            Reason(s.kind, s.text, s.role) for s in reach.sources if _source_test(s, spec, obj)
        ]
        if allowing:
            return decide(True, allowing)
        return decide(
            False,
            [
                Reason(
                    "out_of_scope",
                    LazyText(N_("outside the reach of: {source}"), source=s.text),
                    s.role,
                )
                for s in reach.sources
            ],
        )

    def require(self, operation: str, obj: Any, resource: str | None = None) -> None:
        """Like :meth:`can`, but raise when denied.

        Raises:
            PermissionDenied: with the :class:`Decision` explaining why.
        """
        if not self.can(operation, obj, resource):
            decision = self.explain(operation, obj, resource)
            raise PermissionDenied(
                actor=self.label,
                operation=operation,
                resource=decision.resource,
                decision=decision,
            )

    def require_operation(self, operation: str, resource: str) -> None:
        """Raise unless the user holds ``operation`` on ``resource`` for some records.

        Raises:
            PermissionDenied: no role grants it.
        """
        if not self.holds(operation, resource):
            reason = Reason(
                "no_grant",
                LazyText(
                    N_("no role grants {operation} on {resource}"),
                    operation=operation,
                    resource=resource,
                ),
            )
            decision = Decision(
                False, self.user_id, operation, resource, None, None, (*self._why_not, reason)
            )
            raise PermissionDenied(
                actor=self.label, operation=operation, resource=resource, decision=decision
            )

    # -- fields ------------------------------------------------------------------------
    def _rules_of(self, resource: str) -> Mapping[str, FieldAccess]:
        """The field rules of ``resource`` with its derived fields folded in.

        A derived field (``phone_key``) shows no more than the least visible of the fields
        it is derived from (``phone``), so every answer below — redaction, export columns,
        filters, sorts, searches, history — treats it like its source without any service
        having to know it exists. Derivations chain: a key computed from a derived field
        follows the original source too.
        """
        return self._folded(resource)[0]

    def _folded(self, resource: str) -> tuple[Mapping[str, FieldAccess], frozenset[str]]:
        """The folded rules of ``resource`` and its hidden fields, computed once."""
        rules = self._fields.get(resource, _ALL_FIELDS)
        if not self._fields:
            return rules, frozenset()  # no field rule at all: nothing to fold (the fast path)
        spec = self._registry.find(resource)
        cached = self._effective.get(resource)
        if cached is not None and cached[0] is spec:
            return cached[1], cached[2]
        effective = dict(rules)
        derived = () if spec is None else spec.derived
        changed = True
        # A fixed point over the (small) derivation graph; accesses only ever go down, so
        # it ends even if a declaration loops.
        while changed:
            changed = False
            for name, sources in derived:
                access = min(
                    (self._source_access(resource, effective, s) for s in sources),
                    default=FieldAccess.EDITABLE,
                )
                if access < effective.get(name, FieldAccess.EDITABLE):
                    effective[name] = access
                    changed = True
        hidden = frozenset(f for f, a in effective.items() if a is FieldAccess.HIDDEN)
        self._effective[resource] = (spec, effective, hidden)
        return effective, hidden

    def _source_access(
        self, resource: str, effective: Mapping[str, FieldAccess], source: str
    ) -> FieldAccess:
        # ``customer:credit_limit`` is a field of another resource copied onto this one
        # (an order keeps the credit limit it was checked against).
        other, colon, field = source.partition(":")
        if colon and other != resource:
            return self._access_in(self._fields.get(other, _ALL_FIELDS), field)
        return self._access_in(effective, field if colon else source)

    @staticmethod
    def _access_in(rules: Mapping[str, FieldAccess], path: str) -> FieldAccess:
        # A path shows no more than any field it lies under: ``custom.budget.amount`` is
        # governed by rules on ``custom``, ``custom.budget`` and itself.
        access = FieldAccess.EDITABLE
        head = ""
        for part in path.split("."):
            head = f"{head}.{part}" if head else part
            access = min(access, rules.get(head, FieldAccess.EDITABLE))
        return access

    def field_access(self, resource: str, field: str) -> FieldAccess:
        """How ``field`` of ``resource`` shows to this user (editable unless a rule says less).

        A field derived from others (``phone_key`` from ``phone``) shows no more than they
        do, and an entry of a mapping field (``custom.budget``) no more than the field.
        """
        if self.admin is AdminLevel.TENANT:
            return FieldAccess.EDITABLE
        return self._access_in(self._rules_of(resource), field)

    def is_hidden(self, resource: str, field: str) -> bool:
        """Whether ``field`` (or a path into it, ``custom.budget.amount``) is hidden."""
        return self.field_access(resource, field) is FieldAccess.HIDDEN

    def hidden_fields(self, resource: str) -> frozenset[str]:
        """Fields of ``resource`` removed from everything this user reads.

        Includes the fields derived from a hidden field (``phone_key`` when ``phone`` is
        hidden); paths below a hidden field are hidden too (see :meth:`is_hidden`).
        """
        if self.admin is AdminLevel.TENANT:
            return frozenset()
        return self._folded(resource)[1]

    def redact(self, obj: Any, resource: str | None = None) -> Any:
        """A copy of ``obj`` with the fields hidden from this user set to ``None``.

        The copy keeps the aggregate's type so existing signatures keep working; it
        is for reading only — services always write from a freshly loaded record, so a
        redacted copy can never wipe the hidden values. Returns ``obj`` itself when
        nothing is hidden.
        """
        name = self._resource_of(obj, resource)
        hidden = self.hidden_fields(name)
        if not hidden:
            return obj
        if isinstance(obj, Mapping):
            return {k: v for k, v in obj.items() if not self.is_hidden(name, k)}
        masked = _shallow_copy(obj)
        for field in hidden:
            head, dot, key = field.partition(".")
            if dot:
                # An entry of a mapping field (``custom.budget``): the copy lacks the key.
                entries = getattr(masked, head, None)
                if isinstance(entries, Mapping) and key in entries:
                    kept = {k: v for k, v in entries.items() if k != key}
                    rebuild: Any = type(entries)
                    object.__setattr__(masked, head, rebuild(kept))
                continue
            # Bypass attrs validators: None here means "not shown to you", not a new value.
            object.__setattr__(masked, field, None)
        return masked

    def visible_row(self, row: Mapping[str, Any], resource: str) -> dict[str, Any]:
        """An export row without the columns hidden from this user (derived ones included)."""
        if not self.hidden_fields(resource):
            return dict(row)
        return {k: v for k, v in row.items() if not self.is_hidden(resource, k)}

    def check_writable(self, resource: str, fields: Iterable[str]) -> None:
        """Raise unless every field in ``fields`` is editable for this user.

        Raises:
            PermissionDenied: naming the first read-only or hidden field (nothing is dropped
                silently).
        """
        for name in fields:
            access = self.field_access(resource, name)
            if access is not FieldAccess.EDITABLE:
                text = (
                    N_("field {field} is hidden from this user")
                    if access is FieldAccess.HIDDEN
                    else N_("field {field} is read-only for this user")
                )
                decision = Decision(
                    False,
                    self.user_id,
                    "edit",
                    resource,
                    None,
                    name,
                    (Reason("field", LazyText(text, field=name)),),
                )
                raise PermissionDenied(
                    actor=self.label,
                    operation="edit",
                    resource=resource,
                    field=name,
                    decision=decision,
                )

    def check_readable(self, resource: str, expr: Expr, order_fields: Iterable[str] = ()) -> None:
        """Refuse filters or sort keys on hidden fields (they would leak the hidden values).

        A field derived from a hidden one (``phone_key`` from ``phone``) is refused too:
        filtering on it finds records by the hidden value.

        Raises:
            PermissionDenied: naming the hidden field.
        """
        name = self.first_hidden(resource, (*fields_of(expr), *order_fields))
        if name is None:
            return
        decision = Decision(
            False,
            self.user_id,
            "view",
            resource,
            None,
            name,
            (Reason("field", LazyText(N_("field {field} is hidden"), field=name)),),
        )
        raise PermissionDenied(
            actor=self.label,
            operation="view",
            resource=resource,
            field=name,
            decision=decision,
        )

    def first_hidden(self, resource: str, paths: Iterable[str]) -> str | None:
        """The first of ``paths`` that reads a field hidden from this user, or ``None``.

        Returns the field as rules name it: the path itself, or the hidden field it lies
        under (``custom.budget`` for ``custom.budget.amount``).
        """
        if not self.hidden_fields(resource):
            return None
        rules = self._rules_of(resource)
        for path in paths:
            head = ""
            for part in path.split("."):
                head = f"{head}.{part}" if head else part
                if rules.get(head) is FieldAccess.HIDDEN:
                    return head
        return None

    def can_filter(self, resource: str, expr: Expr, order_fields: Iterable[str] = ()) -> bool:
        """Whether a filter (and sort) reads only fields this user may see.

        For searches that try several routes: a route through a hidden field is skipped
        rather than refused, so the others still answer.
        """
        return self.first_hidden(resource, (*fields_of(expr), *order_fields)) is None


def _shallow_copy(obj: Any) -> Any:
    cls: Any = type(obj)
    clone = cls.__new__(cls)
    for field in attrs.fields(cls):
        object.__setattr__(clone, field.name, getattr(obj, field.name))
    return clone


def compile_grants(
    policy: Policy, user_id: UUID, *, reg: Registry | None = None, label: str | None = None
) -> Grants:
    """Compile what ``user_id`` may do in ``policy``'s tenant.

    Cost is proportional to the user's grants, the tenant's org chart and the shares
    the user receives — never to the number of records.

    Args:
        policy: the tenant's policy snapshot.
        user_id: the acting user.
        reg: the resource registry (default: the shared one).
        label: how errors name the actor (default: the member's name or the id).
    """
    reg = reg or registry
    member = policy.members.get(user_id)
    tenant = policy.tenant_id
    name = label or (member.name if member is not None and member.name else str(user_id))

    def empty(admin: AdminLevel, why: Reason) -> Grants:
        return Grants(
            tenant_id=tenant,
            user_id=user_id,
            label=name,
            admin=admin,
            roles=(),
            epoch=policy.epoch,
            reach={},
            fields={},
            why_not=(why,),
            reg=reg,
        )

    super_admin = AdminLevel.SUPER if user_id in policy.super_admins else AdminLevel.NONE
    if member is None:
        return empty(super_admin, Reason("inactive", LazyText(N_("not a member of this tenant"))))
    if not member.active:
        return empty(super_admin, Reason("inactive", LazyText(N_("the member is deactivated"))))
    if member.admin is AdminLevel.TENANT:
        return Grants(
            tenant_id=tenant,
            user_id=user_id,
            label=name,
            admin=AdminLevel.TENANT,
            roles=member.roles,
            epoch=policy.epoch,
            reach={},
            fields={},
            why_not=(),
            reg=reg,
        )

    me = frozenset({user_id})
    own_dept = member.department_id
    dept_tree = policy.subtree(own_dept) if own_dept is not None else frozenset()
    team = policy.team(user_id)
    placeholders: dict[str, tuple[Any, ...]] = {
        "$me": (user_id,),
        "$my_department": () if own_dept is None else (own_dept,),
        "$my_departments": tuple(sorted(dept_tree)),
        "$my_team": tuple(sorted(team)),
    }
    roles = [policy.roles[code] for code in member.roles if code in policy.roles]
    role_codes = frozenset(r.code for r in roles)
    above = frozenset(policy.ancestors(own_dept)) if own_dept is not None else frozenset()

    sources: dict[tuple[str, str], list[_Source]] = defaultdict(list)
    for role in roles:
        for grant in role.grants:
            sources[(grant.resource, grant.operation)].append(
                _grant_source(
                    grant.scope,
                    grant.filter_expr,
                    role.code,
                    grant.operation,
                    me,
                    team,
                    own_dept,
                    dept_tree,
                    placeholders,
                )
            )

    def receives(kind: GranteeKind, grantee: str) -> bool:
        if kind is GranteeKind.USER:
            return grantee == str(user_id)
        if kind is GranteeKind.ROLE:
            return grantee in role_codes
        return any(grantee == str(d) for d in above)

    shared: dict[tuple[str, str], set[UUID]] = defaultdict(set)
    for share in policy.shares:
        if receives(share.grantee_kind, share.grantee):
            for operation in share.access.operations:
                shared[(share.resource, operation)].add(share.record_id)
    for key, ids in shared.items():
        if key in sources:
            sources[key].append(
                _Source(
                    "share",
                    LazyText(N_("shared with the user ({count} record(s))"), count=len(ids)),
                    None,
                    ids=frozenset(ids),
                )
            )
    for rule in policy.sharing_rules:
        if not receives(rule.grantee_kind, rule.grantee):
            continue
        condition = _substitute(rule.condition_expr, placeholders)
        for operation in rule.access.operations:
            key = (rule.resource, operation)
            if key in sources:
                sources[key].append(
                    _Source(
                        "sharing_rule",
                        LazyText(N_("sharing rule {name}"), name=rule.name),
                        None,
                        condition=condition,
                    )
                )

    reach: dict[tuple[str, str], _Reach] = {}
    for key, found in sources.items():
        spec = reg.find(key[0]) or ResourceSpec(key[0], frozenset())
        reach[key] = _Reach(spec, found)

    fields: dict[str, dict[str, FieldAccess]] = defaultdict(dict)
    ruled: dict[tuple[str, str], list[FieldAccess]] = defaultdict(list)
    for role in roles:
        for field_rule in role.field_rules:
            ruled[(field_rule.resource, field_rule.field)].append(field_rule.access)
    for (resource, field), accesses in ruled.items():
        # A role without a rule for a field shows it editable and roles only ever add, so
        # a field stays restricted only when every role of the member restricts it.
        best = FieldAccess.EDITABLE if len(accesses) < len(roles) else max(accesses)
        if best is not FieldAccess.EDITABLE:
            fields[resource][field] = best
    why_not: tuple[Reason, ...] = ()
    if not roles:
        why_not = (Reason("no_grant", LazyText(N_("the member holds no role"))),)
    return Grants(
        tenant_id=tenant,
        user_id=user_id,
        label=name,
        admin=super_admin,
        roles=tuple(sorted(role_codes)),
        epoch=policy.epoch,
        reach=reach,
        fields=dict(fields),
        why_not=why_not,
        reg=reg,
    )


def _grant_source(
    scope: Scope,
    custom: Expr | None,
    role: str,
    operation: str,
    me: frozenset[UUID],
    team: frozenset[UUID],
    own_dept: UUID | None,
    dept_tree: frozenset[UUID],
    placeholders: Mapping[str, tuple[Any, ...]],
) -> _Source:
    text = LazyText(
        N_("role {role} grants {operation} within scope {scope}"),
        role=role,
        operation=operation,
        scope=scope.value,
    )
    if scope is Scope.TENANT:
        return _Source("grant", text, role, everything=True)
    if scope is Scope.SUBORDINATES:
        return _Source("grant", text, role, owners=team)
    if scope is Scope.DEPARTMENT:
        depts = frozenset() if own_dept is None else frozenset({own_dept})
        return _Source("grant", text, role, owners=me, departments=depts)
    if scope is Scope.DEPARTMENT_TREE:
        return _Source("grant", text, role, owners=me, departments=dept_tree)
    if scope is Scope.CUSTOM and custom is not None:
        return _Source("grant", text, role, owners=me, condition=_substitute(custom, placeholders))
    return _Source("grant", text, role, owners=me)
