"""Resources: the record types permissions are granted on, their operations and fields.

Each area registers its aggregates (``customer``, ``opportunity``, ...) in the shared
:data:`registry`, with the operations grants may name and the fields field rules and
filters may name, so a grant naming an unknown resource, operation or field is refused
when it is defined, not when it is checked. A stored field computed from others (a
search key, a pinyin column) declares its sources with :func:`derived_from`, so a rule
hiding a source hides it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = [
    "DEFAULT_OPERATIONS",
    "EDIT_OPERATIONS",
    "READ_OPERATIONS",
    "Registry",
    "ResourceSpec",
    "derived_from",
    "register_resource",
    "registry",
]

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
            raise invalid("grant", "resource", N_("unknown resource {name}"), name=name) from None

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
            raise invalid(
                "grant",
                "operation",
                N_("{resource} has no operation {operation}"),
                resource=resource,
                operation=operation,
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
                raise invalid(
                    entity,
                    "field",
                    N_("{resource} has no field {name}"),
                    resource=resource,
                    name=name,
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
