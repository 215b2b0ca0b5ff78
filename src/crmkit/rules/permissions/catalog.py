"""The catalog of public services: what each one reads or writes, declared once.

Every public use case (a function taking ``(crm, actor, ...)`` exported from an
area package) is declared here by its area, in that area's ``registrations``
module: which permission *resource* it touches, with which *operation*, which of
its parameters name a stored record (``customer_id`` names a customer,
``deal_id`` an opportunity) and what *kind* of service it is:

- ``READ``: one record and what hangs off it (``get_customer``, ``customer_360``);
- ``LIST``: many records, lists and searches (``list_customers``, ``global_search``);
- ``REPORT``: aggregates and exports over the reader's scope (``pipeline_report``);
- ``WRITE``: anything that changes stored data.

Registering also puts the service behind the type check at the door
(:func:`crmkit.kernel.boundary.checked_types`): each argument is compared with the
parameter's annotation before the body runs, and a value of a type the annotation rules
out is a ``TypeError`` naming the parameter, not an ``AttributeError`` from deep inside.
The checked service replaces the function under its name in every crmkit module that
holds it (the module defining it, the packages re-exporting it), so what a host imports
is the checked one and a new service is covered by being registered; code inside crmkit
that imported the function before its area registered it calls it unchecked, with
arguments mypy has checked. The check reads the annotations once per service and costs
under a microsecond for a typical call (see docs/kernel.md).

The conformance suite (``tests/rules/permissions/test_conformance.py``) enumerates
the catalog and probes every service as other reps, other departments, readers
whose roles hide fields, another tenant and a non-member; a completeness test
fails, naming the service, when an exported ``(crm, actor, ...)`` function is not
in the catalog, so a new service cannot escape the probes.

Declaring, in an area's ``registrations`` module::

    register_service(
        get_customer, ServiceKind.READ, "customer", records={"customer_id": "customer"}
    )
"""

from __future__ import annotations

import enum
import inspect
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from crmkit.kernel.boundary import checked_types, is_checked

__all__ = [
    "Declaration",
    "ServiceKind",
    "ServiceSpec",
    "exempt_service",
    "exemption",
    "is_registered",
    "register_service",
    "registered_services",
    "service_spec",
    "takes_crm_and_actor",
]

F = TypeVar("F", bound=Callable[..., Any])


class ServiceKind(enum.Enum):
    """What a public service does with the records it touches."""

    READ = "read"  # one record (and its parts)
    LIST = "list"  # many records: lists, searches, lookups
    REPORT = "report"  # aggregates and exports over the reader's scope
    WRITE = "write"  # changes stored data

    @property
    def is_read(self) -> bool:
        """Whether the service only reads."""
        return self is not ServiceKind.WRITE


# One row of an area's registrations table: (service, kind, resource, operation, records).
Declaration = tuple[Callable[..., Any], ServiceKind, str, str, dict[str, str]]


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class ServiceSpec:
    """One public service as its area declared it.

    Attributes:
        function: the service hosts call: the declared function behind the type check.
        name: ``module.function`` of the public package exporting it.
        kind: read of one record, list/search, report/export, or write.
        resource: the permission resource it reads or writes.
        operation: the operation it needs on that resource (``view``, ``edit``, ...).
        records: parameter name -> resource of the stored record it names
            (a parameter holding a list of ids names a record of that resource each).
        personal: it acts only on the actor's own items (their inbox, reminders,
            submissions), so any caller may use it and sees only their own.
        note: why the declaration is what it is, when that is not obvious.
    """

    function: Callable[..., Any] = attrs.field(eq=False)
    name: str
    kind: ServiceKind
    resource: str
    operation: str
    records: Mapping[str, str] = attrs.field(converter=_frozen_mapping, eq=False)
    personal: bool = False
    note: str = ""

    @property
    def parameters(self) -> Mapping[str, inspect.Parameter]:
        """The service's parameters after ``crm`` and ``actor``."""
        params = list(inspect.signature(self.function).parameters.values())
        return {p.name: p for p in params[2:]}


def _parameter_names(function: Callable[..., Any]) -> tuple[str, ...]:
    # Read from the code object: registering runs at import, where inspect.signature
    # costs a tenth of a millisecond per service. A functools.wraps decorator (a host's
    # tracing, mutmut's trampoline) takes (*args, **kwargs): read the function it wraps,
    # as inspect.signature would.
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None:
        try:
            return tuple(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            return ()
    return tuple(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])


def takes_crm_and_actor(function: Callable[..., Any]) -> bool:
    """Whether ``function`` is shaped like a use case: ``(crm, actor, ...)``.

    The acting user may go by another name (``approver``) when the parameter is
    annotated ``Actor``: what makes a use case is who it acts for, not the spelling.
    """
    names = _parameter_names(function)
    if len(names) < 2 or names[0] != "crm":
        return False
    annotation = getattr(function, "__annotations__", {}).get(names[1])
    named = getattr(annotation, "__name__", annotation)
    return names[1] == "actor" or named == "Actor"


_BY_FUNCTION: dict[Callable[..., Any], ServiceSpec] = {}


def register_service(
    function: F,
    kind: ServiceKind,
    resource: str,
    operation: str | None = None,
    *,
    records: Mapping[str, str] | None = None,
    package: str | None = None,
    personal: bool = False,
    note: str = "",
) -> F:
    """Declare a public service in the catalog and return it unchanged.

    Args:
        function: the service; it must take ``(crm, actor, ...)``.
        kind: what it does with records.
        resource: the permission resource it reads or writes.
        operation: the operation it needs (default ``view`` for reads, ``edit`` for writes).
        records: parameter name -> resource of each parameter naming a stored record.
        package: the public package exporting it (default: the function's module).
        personal: it acts only on the actor's own items (inbox, reminders, submissions).
        note: why the declaration is what it is, when that is not obvious.

    Returns:
        The service behind the type check (:func:`~crmkit.kernel.boundary.checked_types`),
        which has also replaced ``function`` in every loaded crmkit module holding it.

    Raises:
        TypeError: the function does not take ``(crm, actor, ...)``, or ``records``
            names a parameter it does not have.
    """
    params = _parameter_names(function)
    if not takes_crm_and_actor(function):
        raise TypeError(f"{function.__qualname__} does not take (crm, actor, ...)")
    records = dict(records or {})
    unknown = set(records) - set(params[2:])
    if unknown:
        raise TypeError(f"{function.__qualname__} has no parameter {sorted(unknown)}")
    declared = function
    checked = function if is_checked(function) else checked_types(function)
    spec = ServiceSpec(
        function=checked,
        name=f"{package or function.__module__}.{function.__name__}",
        kind=kind,
        resource=resource,
        operation=operation or ("view" if kind.is_read else "edit"),
        records=records,
        personal=personal,
        note=note,
    )
    _BY_FUNCTION[checked] = spec
    _BY_FUNCTION[declared] = spec
    _install(declared, checked)
    return typing.cast(F, checked)


def _install(declared: Callable[..., Any], checked: Callable[..., Any]) -> None:
    """Put ``checked`` in place of ``declared`` wherever a crmkit module holds it by name.

    The area's ``registrations`` runs when the area package is imported, after its
    services modules and before the package re-exports them, so the package, the
    services modules and every module loaded by then end up holding the checked
    service, and modules loaded later import it from them.
    """
    if checked is declared:
        return
    name = declared.__name__
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("crmkit"):
            continue
        namespace = getattr(module, "__dict__", None)
        if namespace is not None and namespace.get(name) is declared:
            namespace[name] = checked


def registered_services(kinds: Iterable[ServiceKind] | None = None) -> tuple[ServiceSpec, ...]:
    """Every registered service (of the given kinds), sorted by name.

    Only areas that were imported have registered theirs: import the area packages
    (``crmkit.customers``, ``crmkit.pipeline``, ``crmkit.billing``, ``crmkit.rules.*``)
    before enumerating.
    """
    wanted = frozenset(kinds) if kinds is not None else frozenset(ServiceKind)
    specs = {id(s): s for s in _BY_FUNCTION.values() if s.kind in wanted}
    return tuple(sorted(specs.values(), key=lambda s: s.name))


def service_spec(function: Callable[..., Any]) -> ServiceSpec | None:
    """The declaration of ``function``, or ``None`` when it was never registered."""
    return _BY_FUNCTION.get(function)


def is_registered(function: Callable[..., Any]) -> bool:
    """Whether ``function`` is in the catalog."""
    return function in _BY_FUNCTION


_EXEMPT: dict[Callable[..., Any], str] = {}


def exempt_service(function: F, why: str) -> F:
    """Mark a ``(crm, actor, ...)`` function as machinery rather than a use case.

    Only for building blocks areas call inside their own services (``guarded``,
    ``record_denial``): they touch no record of their own, so there is nothing to
    probe. The completeness test accepts them; the conformance suite skips them.

    Returns:
        ``function`` itself.
    """
    _EXEMPT[function] = why
    return function


def exemption(function: Callable[..., Any]) -> str | None:
    """Why ``function`` is exempt from the catalog, or ``None``."""
    return _EXEMPT.get(function)
