"""The one permission evaluator: compile a member's grants once, then answer fast.

:func:`~crmkit.rules.permissions.model.compile.compile_grants` turns the tenant's
:class:`~crmkit.rules.permissions.model.policy.Policy` into an immutable
:class:`Grants` object for one user: for every (resource, operation) the user holds,
a *reach* (see :mod:`crmkit.rules.permissions.model.reach`). Everything else is
derived from that one object, so the answers cannot drift apart:

- :meth:`Grants.can` — one record, a dict lookup and a few set probes (no I/O);
- :meth:`Grants.scope` — the same reach as a :mod:`crmkit.kernel.query`
  expression over record fields, which the memory adapter runs as a predicate
  and the SQL adapter compiles into the ``WHERE`` clause of lists, searches,
  counts, analytics and exports;
- :meth:`Grants.explain` — the decision with its reasons (which grant, scope,
  share or rule allowed it; or what was missing);
- the field answers (:meth:`~FieldGrants.redact`, :meth:`~FieldGrants.check_writable`,
  ...), inherited from :class:`~crmkit.rules.permissions.model.fields.FieldGrants`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.errors import LazyText, PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import FALSE, TRUE, Expr, Query, and_, field_value, or_
from crmkit.rules.permissions.model.decisions import Decision, Reason
from crmkit.rules.permissions.model.fields import FieldGrants
from crmkit.rules.permissions.model.org import AdminLevel
from crmkit.rules.permissions.model.reach import _member_of, _Reach, _source_test
from crmkit.rules.permissions.model.resources import Registry, ResourceSpec
from crmkit.rules.permissions.model.roles import FieldAccess

__all__ = ["Grants"]


class Grants(FieldGrants):
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
            return decide(False, [*self._why_not, _no_grant(operation, name)])
        allowing = [
            Reason(s.kind, s.text, s.role) for s in reach.sources if _source_test(s, reach, obj)
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
            reasons = (*self._why_not, _no_grant(operation, resource))
            decision = Decision(False, self.user_id, operation, resource, None, None, reasons)
            raise PermissionDenied(
                actor=self.label, operation=operation, resource=resource, decision=decision
            )


def _no_grant(operation: str, resource: str) -> Reason:
    # The one wording of a missing grant, whether explained or raised.
    return Reason(
        "no_grant",
        LazyText(
            N_("no role grants {operation} on {resource}"), operation=operation, resource=resource
        ),
    )
