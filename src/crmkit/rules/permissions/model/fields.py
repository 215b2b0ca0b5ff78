"""Field rules at read and write time: access per field, derived fields, redaction.

The field half of a member's compiled grants. A field shows as editable unless every
role of the member restricts it; a field derived from others (``phone_key`` from
``phone``) shows no more than they do, and an entry of a mapping field
(``custom.budget``) no more than the field. Redaction, export columns, filters, sorts
and searches all ask here, so no service has to know a derived field exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn
from uuid import UUID

import attrs

from crmkit.kernel.errors import LazyText, PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import Expr, fields_of
from crmkit.rules.permissions.model.decisions import Decision, Reason
from crmkit.rules.permissions.model.org import AdminLevel
from crmkit.rules.permissions.model.resources import Registry, ResourceSpec
from crmkit.rules.permissions.model.roles import FieldAccess

__all__ = ["FieldGrants"]

_ALL_FIELDS: Mapping[str, FieldAccess] = {}


class FieldGrants:
    """The field rules of one member's compiled grants (the base of :class:`Grants`).

    Holds no state of its own: :class:`Grants` keeps the slots, and inheriting the
    methods keeps every call as direct as when they were written in one class.
    """

    __slots__ = ()

    admin: AdminLevel
    user_id: UUID
    label: str
    _fields: dict[str, dict[str, FieldAccess]]
    _registry: Registry
    _effective: dict[str, tuple[ResourceSpec | None, dict[str, FieldAccess], frozenset[str]]]

    def _resource_of(self, obj: Any, resource: str | None) -> str:
        # Here rather than in Grants: redaction and the record decisions both name the
        # resource of a mapping by hand and of an aggregate by its class.
        return resource if resource is not None else self._registry.of(obj).name

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
                self._refuse_field("edit", resource, name, text)

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
        self._refuse_field("view", resource, name, N_("field {field} is hidden"))

    def _refuse_field(self, operation: str, resource: str, name: str, text: str) -> NoReturn:
        # Writes and reads refuse a field alike, so the audit log reads them alike.
        decision = Decision(
            False,
            self.user_id,
            operation,
            resource,
            None,
            name,
            (Reason("field", LazyText(text, field=name)),),
        )
        raise PermissionDenied(
            actor=self.label,
            operation=operation,
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
