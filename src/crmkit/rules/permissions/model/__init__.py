"""Permissions: who may do what to which records, and see which of their fields.

A serious CRM answers four questions for every read and write, and crmkit keeps
the answers as data (the tenant's *policy*), evaluated by pure functions in
:mod:`crmkit.rules.permissions.model.grants`:

1. **Who is this?** A *member* of a tenant: a user placed in a *department*
   (departments form a tree of any depth), with a *manager* (the reporting
   chain, which need not follow the tree), holding *roles*. Roles are per tenant:
   the same person can be a rep in one tenant and an administrator in another.
2. **May they do this kind of thing at all?** A role holds *grants*: for a
   *resource* type (``customer``, ``opportunity``, ...) and an *operation*
   (``view``, ``edit``, ``export``, ...), a *data scope* that says which records
   the grant reaches: their own, their own and their reports' (the manager chain),
   their department, their department and its sub-departments, the whole tenant,
   or a custom filter over record fields. The owner of a record always reaches it
   when they hold the operation at all.
3. **Which records beyond that?** *Shares*: one record shared with a user, a role
   or a department (read or edit), and *sharing rules* ("customers in region East
   are visible to the East sales team") that share every record matching a
   condition. Shares widen the records an operation reaches; they never grant an
   operation the actor's roles lack (the object permission comes first, as in
   every CRM that gets this right).
4. **Which fields?** *Field rules* per role, resource and field: hidden,
   read-only or editable (the default). With several roles the most permissive
   rule wins, like grants: roles only ever add.

Resources and their operations and fields are declared in a :class:`Registry`
(each area registers its aggregates), so a grant naming an unknown resource,
operation or field is refused when it is defined, not when it is checked.

Two administrator levels have fixed limits: a *tenant administrator* manages the
policy of their own tenant and reaches every record and field in it; a
*super-administrator* (a member of the platform tenant) may administer any
tenant's policy but sees no business data unless also a member of that tenant.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.query import FALSE, TRUE, And, Cond, Const, Expr, Not, Or, fields_of

__all__ = [
    "DEFAULT_OPERATIONS",
    "EDIT_OPERATIONS",
    "PLACEHOLDERS",
    "PLATFORM_TENANT",
    "READ_OPERATIONS",
    "Access",
    "AdminLevel",
    "Denial",
    "Department",
    "FieldAccess",
    "FieldRule",
    "Grant",
    "GranteeKind",
    "Member",
    "OwnershipTransfer",
    "PolicyEpoch",
    "RecordShare",
    "Registry",
    "ResourceSpec",
    "Role",
    "Scope",
    "SharingRule",
    "derived_from",
    "expr_from_data",
    "expr_to_data",
    "register_resource",
    "registry",
]

# Super-administrators are members of this reserved tenant; no customer tenant uses it.
PLATFORM_TENANT = TenantId(UUID(int=0))

DEFAULT_OPERATIONS = frozenset(
    {
        "view",
        "create",
        "edit",
        "delete",
        "export",
        "import",
        "assign",
        "claim",
        "approve",
        "unapprove",
        "print",
        "share",
        "transfer",
    }
)
# What a read share reaches, and what an edit share adds.
READ_OPERATIONS = frozenset({"view", "print", "export"})
EDIT_OPERATIONS = READ_OPERATIONS | {"edit"}

# Values a custom filter or sharing rule may use in place of a literal; they are
# replaced per actor when grants are compiled.
PLACEHOLDERS = frozenset({"$me", "$my_department", "$my_departments", "$my_team"})

# Field names no field rule may hide: without them a record cannot be addressed.
_STRUCTURAL_FIELDS = frozenset({"id", "tenant_id", "version"})
_OPEN_KEY = re.compile(r"[a-z][a-z0-9_]*")

LABELS = (
    N_("view"),
    N_("create"),
    N_("edit"),
    N_("delete"),
    N_("export"),
    N_("import"),
    N_("assign"),
    N_("claim"),
    N_("approve"),
    N_("unapprove"),
    N_("print"),
    N_("share"),
    N_("transfer"),
    N_("administer"),
)


class Scope(enum.Enum):
    """Which records a grant reaches (the owner always reaches their own)."""

    OWN = "own"
    SUBORDINATES = "subordinates"
    DEPARTMENT = "department"
    DEPARTMENT_TREE = "department_tree"
    TENANT = "tenant"
    CUSTOM = "custom"


class FieldAccess(enum.IntEnum):
    """How much of a field a role shows; ordered so ``max`` is the most permissive."""

    HIDDEN = 0
    READ_ONLY = 1
    EDITABLE = 2


class Access(enum.Enum):
    """What a share allows: reading, or reading and editing."""

    READ = "read"
    EDIT = "edit"

    @property
    def operations(self) -> frozenset[str]:
        """The operations this access level reaches."""
        return READ_OPERATIONS if self is Access.READ else EDIT_OPERATIONS


class GranteeKind(enum.Enum):
    """Whom a share or sharing rule is for."""

    USER = "user"
    ROLE = "role"
    DEPARTMENT = "department"  # members of it and of its sub-departments


class AdminLevel(enum.Enum):
    """Administrator powers of a member (see the module docstring for their limits)."""

    NONE = "none"
    TENANT = "tenant"
    SUPER = "super"


# -- registry ---------------------------------------------------------------------------

#: The attrs metadata key under which an entity field names the fields it is derived from.
DERIVED_FROM = "crmkit.derived_from"


def derived_from(*sources: str) -> dict[str, tuple[str, ...]]:
    """The attrs ``metadata`` of a stored field derived from other fields of its entity.

    A derived field (a search key, a caller-ID key, a pinyin column) carries the values
    of its sources in another form, so whatever hides a source must hide it too.
    Declaring it on the field, where it is defined, is what lets the permission
    evaluator do that for every read path (see :attr:`ResourceSpec.derived`)::

        phone_key: str | None = attrs.field(
            init=False, default=None, metadata=derived_from("phone")
        )

    Args:
        sources: the fields whose values the derived field carries (at least one); a
            field of another resource copied onto this one is named
            ``"<resource>:<field>"`` (``"customer:credit_limit"``).
    """
    if not sources:
        raise TypeError("a derived field needs at least one source field")
    return {DERIVED_FROM: tuple(sources)}


@attrs.frozen
class ResourceSpec:
    """A resource type permissions can be granted on.

    Attributes:
        name: the resource code (``customer``).
        fields: the field names field rules and filters may name.
        operations: the operations grants may name.
        owner_field: the record field holding the owning user.
        department_field: the record field holding the owner's department at write time.
        entity: the aggregate class, so ``can(actor, op, obj)`` finds the resource of ``obj``.
        open_fields: mapping fields whose entries field rules and filters may name as
            ``<field>.<key>`` (custom fields: ``custom.budget``); the keys are tenant data,
            so any ascii snake_case key is accepted.
        derived: ``(field, sources)`` pairs: stored fields computed from other fields of
            the record (``("phone_key", ("phone",))``). A field rule on a source applies
            to the derived field too (see :meth:`derived_of`). Paths below a field
            (``custom.budget.amount`` below ``custom.budget``) follow it without being
            listed.
    """

    name: str
    fields: frozenset[str]
    operations: frozenset[str] = DEFAULT_OPERATIONS
    owner_field: str = "owner_id"
    department_field: str = "department_id"
    entity: type[Any] | None = None
    open_fields: frozenset[str] = frozenset()
    derived: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def derived_of(self, fields: Iterable[str]) -> frozenset[str]:
        """The derived fields carrying a value of any of ``fields`` (themselves excluded).

        Only direct derivations of this resource's own fields; the evaluator follows
        chains and sources in other resources (see ``Grants.field_access``).
        """
        wanted = frozenset(fields)
        return frozenset(
            name
            for name, sources in self.derived
            if any(s in wanted or s.partition(".")[0] in wanted for s in sources)
        )

    def has_field(self, name: str) -> bool:
        """Whether field rules and filters may name ``name``."""
        if name in self.fields:
            return True
        head, _, key = name.partition(".")
        return head in self.open_fields and _OPEN_KEY.fullmatch(key) is not None


class Registry:
    """Resource types by name and by entity class (areas register theirs on import)."""

    def __init__(self) -> None:
        self._by_name: dict[str, ResourceSpec] = {}
        self._by_type: dict[type[Any], ResourceSpec] = {}

    def register(self, spec: ResourceSpec) -> ResourceSpec:
        """Add or replace a resource type."""
        self._by_name[spec.name] = spec
        if spec.entity is not None:
            self._by_type[spec.entity] = spec
        return spec

    def names(self) -> list[str]:
        """Registered resource names, sorted."""
        return sorted(self._by_name)

    def get(self, name: str) -> ResourceSpec:
        """The resource called ``name``.

        Raises:
            ValidationError: no such resource is registered.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise ValidationError(
                entity="grant",
                field="resource",
                reason=reason(N_("unknown resource {name}"), name=name),
            ) from None

    def find(self, name: str) -> ResourceSpec | None:
        """The resource called ``name``, or ``None``."""
        return self._by_name.get(name)

    def of(self, obj: Any) -> ResourceSpec:
        """The resource an aggregate instance belongs to.

        Raises:
            LookupError: its class was never registered.
        """
        spec = self._by_type.get(type(obj))
        if spec is None:
            raise LookupError(f"{type(obj).__name__} is not a registered permission resource")
        return spec

    def check_operation(self, resource: str, operation: str) -> ResourceSpec:
        """The resource, after checking it offers ``operation``.

        Raises:
            ValidationError: unknown resource or operation.
        """
        spec = self.get(resource)
        if operation not in spec.operations:
            raise ValidationError(
                entity="grant",
                field="operation",
                reason=reason(
                    N_("{resource} has no operation {operation}"),
                    resource=resource,
                    operation=operation,
                ),
            )
        return spec

    def check_fields(self, resource: str, fields: Iterable[str], *, entity: str) -> None:
        """Check every name in ``fields`` is a field of ``resource``.

        Raises:
            ValidationError: unknown resource or field.
        """
        spec = self.get(resource)
        for name in fields:
            if not spec.has_field(name):
                raise ValidationError(
                    entity=entity,
                    field="field",
                    reason=reason(
                        N_("{resource} has no field {name}"), resource=resource, name=name
                    ),
                )


registry = Registry()


def register_resource(
    name: str,
    *,
    entity: type[Any] | None = None,
    fields: Iterable[str] | None = None,
    operations: Iterable[str] = DEFAULT_OPERATIONS,
    owner_field: str = "owner_id",
    department_field: str = "department_id",
    open_fields: Iterable[str] = (),
    derived: Mapping[str, Iterable[str]] | None = None,
) -> ResourceSpec:
    """Declare a resource type in the shared registry.

    Args:
        name: the resource code grants use.
        entity: its attrs aggregate class; its field names are used when ``fields`` is omitted.
        fields: field names (default: the attrs fields of ``entity``).
        operations: the operations it offers.
        owner_field, department_field: where records keep their owner and department.
        open_fields: mapping fields whose entries rules may name as ``<field>.<key>``.
        derived: derived fields and their sources, besides those ``entity`` declares
            with :func:`derived_from` on its fields.

    Raises:
        TypeError: ``entity`` has a field computed by the record itself (``init=False``)
            that does not say what it is derived from: field rules could not follow it.
    """
    if fields is None:
        if entity is None:
            raise TypeError("give the entity class or the field names")
        fields = (f.name for f in attrs.fields(entity))
    found: dict[str, tuple[str, ...]] = {}
    if entity is not None:
        for attribute in attrs.fields(entity):
            sources = attribute.metadata.get(DERIVED_FROM)
            if sources is not None:
                found[attribute.name] = tuple(sources)
            elif not attribute.init:
                # Computed fields are where hidden values hide in another form; one that
                # says nothing of its sources would escape every field rule.
                raise TypeError(
                    f"{entity.__name__}.{attribute.name} is computed (init=False): declare "
                    "its sources with metadata=derived_from(...)"
                )
    found.update((k, tuple(v)) for k, v in (derived or {}).items())
    return registry.register(
        ResourceSpec(
            name=name,
            fields=frozenset(fields),
            operations=frozenset(operations),
            owner_field=owner_field,
            department_field=department_field,
            entity=entity,
            open_fields=frozenset(open_fields),
            derived=tuple(sorted(found.items())),
        )
    )


# -- filters as stored data -------------------------------------------------------------


def expr_to_data(expr: Expr) -> dict[str, Any]:
    """A JSON-ready form of a filter (values must be JSON scalars or placeholders)."""
    if isinstance(expr, Const):
        return {"const": expr.value}
    if isinstance(expr, Cond):
        value = list(expr.value) if isinstance(expr.value, tuple) else expr.value
        return {"field": expr.field, "op": expr.op, "value": value}
    if isinstance(expr, Not):
        return {"not": expr_to_data(expr.item)}
    key = "and" if isinstance(expr, And) else "or"
    return {key: [expr_to_data(item) for item in expr.items]}


def expr_from_data(data: Any) -> Expr:
    """Rebuild a filter stored with :func:`expr_to_data`.

    Raises:
        ValidationError: the data is not a filter.
    """
    if isinstance(data, bool):
        return TRUE if data else FALSE
    if isinstance(data, Mapping):
        if "field" in data:
            try:
                return Cond(str(data["field"]), data["op"], data.get("value"))
            except (KeyError, ValueError, TypeError):
                pass
        elif "const" in data:
            return TRUE if data["const"] else FALSE
        elif "not" in data:
            return Not(expr_from_data(data["not"]))
        elif "and" in data:
            return And(tuple(expr_from_data(item) for item in data["and"]))
        elif "or" in data:
            return Or(tuple(expr_from_data(item) for item in data["or"]))
    raise ValidationError(
        entity="grant", field="filter", reason=reason(N_("is not a valid filter"))
    )


def _check_filter_values(expr: Expr, entity: str) -> None:
    """Filters are stored as JSON: literals must be JSON scalars (or placeholders)."""
    if isinstance(expr, Cond):
        values = expr.value if isinstance(expr.value, tuple) else (expr.value,)
        for value in values:
            if isinstance(value, str) and value.startswith("$") and value not in PLACEHOLDERS:
                raise ValidationError(
                    entity=entity,
                    field="filter",
                    reason=reason(N_("unknown placeholder {value}"), value=value),
                )
            if not isinstance(value, str | int | float | bool | type(None)):
                raise ValidationError(
                    entity=entity,
                    field="filter",
                    reason=reason(N_("value {value} is not a plain value"), value=repr(value)),
                )
    elif isinstance(expr, And | Or):
        for item in expr.items:
            _check_filter_values(item, entity)
    elif isinstance(expr, Not):
        _check_filter_values(expr.item, entity)


def _filter_converter(value: Any) -> Any:
    # Accept an Expr for convenience; store the JSON form so every adapter can keep it.
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, bool):
        return {"const": value}
    if isinstance(value, Cond | And | Or | Not | Const):
        return expr_to_data(value)
    raise TypeError("filter must be a crmkit.kernel.query expression")


# -- grants and roles -------------------------------------------------------------------


def _grant_tuple(values: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(values)


def _rule_tuple(values: Iterable[FieldRule]) -> tuple[FieldRule, ...]:
    return tuple(values)


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _check_grant(instance: Grant, _attribute: Any, _value: Any) -> None:
    if (instance.scope is Scope.CUSTOM) != (instance.filter is not None):
        raise ValidationError(
            entity="grant",
            field="filter",
            reason=reason(N_("a custom scope needs a filter, and only a custom scope has one")),
        )


@attrs.frozen
class Grant:
    """Operation permission with its data scope: ``operation`` on ``resource`` within ``scope``.

    Attributes:
        resource: the resource code.
        operation: the operation code.
        scope: which records it reaches.
        filter: for ``Scope.CUSTOM``, the condition over record fields (stored as JSON;
            pass a ``crmkit.kernel.query`` expression).
    """

    resource: str
    operation: str
    scope: Scope = attrs.field(default=Scope.OWN, converter=Scope)
    filter: dict[str, Any] | None = attrs.field(
        default=None, converter=_filter_converter, validator=_check_grant
    )

    @property
    def filter_expr(self) -> Expr | None:
        """The custom filter as an expression."""
        return None if self.filter is None else expr_from_data(self.filter)

    def validate(self, reg: Registry) -> None:
        """Check the grant against the registry.

        Raises:
            ValidationError: unknown resource, operation or filter field, or a bad value.
        """
        reg.check_operation(self.resource, self.operation)
        expr = self.filter_expr
        if expr is not None:
            reg.check_fields(self.resource, fields_of(expr), entity="grant")
            _check_filter_values(expr, "grant")


@attrs.frozen
class FieldRule:
    """Field-level permission: how ``field`` of ``resource`` shows to a role."""

    resource: str
    field: str
    access: FieldAccess = attrs.field(converter=FieldAccess)

    def validate(self, reg: Registry) -> None:
        """Check the rule against the registry.

        Raises:
            ValidationError: unknown resource or field, or a structural field.
        """
        reg.check_fields(self.resource, (self.field,), entity="field_rule")
        if self.field in _STRUCTURAL_FIELDS:
            raise ValidationError(
                entity="field_rule",
                field="field",
                reason=reason(N_("{name} cannot be restricted"), name=self.field),
            )


def _check_code(_instance: Any, attribute: Any, value: str) -> None:
    if not value or not value.strip() or len(value) > 64:
        raise ValidationError(
            entity="role", field=attribute.name, reason=reason(N_("must be 1..64 characters"))
        )


@attrs.define(eq=False)
class Role:
    """A named bundle of grants and field rules, defined per tenant.

    Attributes:
        id: the role's id.
        code: the tenant-unique code members refer to (``sales_rep``).
        name: display name.
        grants: operation permissions with their scopes.
        field_rules: field-level permissions.
    """

    entity_name = N_("role")

    id: UUID
    tenant_id: TenantId
    code: str = attrs.field(validator=_check_code)
    name: str = ""
    grants: tuple[Grant, ...] = attrs.field(default=(), converter=_grant_tuple)
    field_rules: tuple[FieldRule, ...] = attrs.field(default=(), converter=_rule_tuple)
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Role) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def validate(self, reg: Registry) -> None:
        """Check every grant and field rule against the registry, and for duplicates.

        Raises:
            ValidationError: the first problem found.
        """
        seen: dict[tuple[str, str], Grant] = {}
        for grant in self.grants:
            grant.validate(reg)
            key = (grant.resource, grant.operation)
            if key in seen and seen[key] != grant:
                raise ValidationError(
                    entity="role",
                    field="grants",
                    reason=reason(
                        N_("{operation} on {resource} is granted twice with different scopes"),
                        operation=grant.operation,
                        resource=grant.resource,
                    ),
                )
            seen[key] = grant
        rules: set[tuple[str, str]] = set()
        for rule in self.field_rules:
            rule.validate(reg)
            if (rule.resource, rule.field) in rules:
                raise ValidationError(
                    entity="role",
                    field="field_rules",
                    reason=reason(N_("field {name} has two rules"), name=rule.field),
                )
            rules.add((rule.resource, rule.field))


# -- the organisation -------------------------------------------------------------------


@attrs.define(eq=False)
class Department:
    """A node of the tenant's department tree (``parent_id`` ``None`` at the top)."""

    entity_name = N_("department")

    id: UUID
    tenant_id: TenantId
    name: str
    parent_id: UUID | None = None
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Department) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.define(eq=False)
class Member:
    """A user's place in a tenant: department, manager, roles and admin level.

    The id is the user's id (the host's login identity), so one user has at most
    one member record per tenant.
    """

    entity_name = N_("member")

    id: UserId
    tenant_id: TenantId
    name: str = ""
    department_id: UUID | None = None
    manager_id: UserId | None = None
    roles: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    admin: AdminLevel = attrs.field(default=AdminLevel.NONE, converter=AdminLevel)
    active: bool = True
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Member) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


# -- sharing ----------------------------------------------------------------------------


@attrs.define(eq=False)
class RecordShare:
    """One record shared with a user, a role or a department."""

    entity_name = N_("share")

    id: UUID
    tenant_id: TenantId
    resource: str
    record_id: UUID
    grantee_kind: GranteeKind = attrs.field(converter=GranteeKind)
    grantee: str  # a user or department id as text, or a role code
    access: Access = attrs.field(default=Access.READ, converter=Access)
    shared_by: UserId | None = None
    shared_at: datetime | None = None
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordShare) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.define(eq=False)
class SharingRule:
    """Rule-based sharing: records of ``resource`` matching ``condition`` go to a grantee."""

    entity_name = N_("sharing_rule")

    id: UUID
    tenant_id: TenantId
    name: str
    resource: str
    condition: dict[str, Any] = attrs.field(converter=_filter_converter)
    grantee_kind: GranteeKind = attrs.field(converter=GranteeKind)
    grantee: str
    access: Access = attrs.field(default=Access.READ, converter=Access)
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SharingRule) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def condition_expr(self) -> Expr:
        """The condition as an expression."""
        return expr_from_data(self.condition)

    def validate(self, reg: Registry) -> None:
        """Check the condition's fields against the registry.

        Raises:
            ValidationError: unknown resource or field, or a bad value.
        """
        expr = self.condition_expr
        reg.check_fields(self.resource, fields_of(expr), entity="sharing_rule")
        _check_filter_values(expr, "sharing_rule")


# -- history, audit, cache invalidation --------------------------------------------------


@attrs.define(eq=False)
class OwnershipTransfer:
    """A change of a record's owner, kept as history."""

    entity_name = N_("ownership_transfer")

    id: UUID
    tenant_id: TenantId
    resource: str
    record_id: UUID
    from_owner: UserId | None
    to_owner: UserId
    transferred_by: UserId
    transferred_at: datetime
    note: str = ""
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OwnershipTransfer) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.define(eq=False)
class Denial:
    """An audit-log entry: an operation the evaluator refused, with its reasons."""

    entity_name = N_("denial")

    id: UUID
    tenant_id: TenantId
    user_id: UserId
    operation: str
    resource: str
    at: datetime
    record_id: UUID | None = None
    field: str | None = None
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Denial) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.define(eq=False)
class PolicyEpoch:
    """One row per tenant that changes on every policy change.

    Compiled grants are cached under its ``token``; any change to departments,
    members, roles, shares or sharing rules saves the epoch in the same
    transaction, which both invalidates every cache entry of the tenant and
    serialises concurrent policy edits. The token is a fresh id per change rather
    than a counter: a counter value reached inside a transaction that then rolled
    back would be reached again by the next change, and grants compiled in the
    rolled-back transaction could be served under it.
    """

    entity_name = N_("policy")

    id: UUID  # equal to the tenant id
    tenant_id: TenantId
    token: UUID | None = None
    changes: int = 0
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicyEpoch) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
