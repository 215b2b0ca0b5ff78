"""Every public service is in the catalog: a new one cannot escape the conformance suite."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from crmkit.rules.permissions.catalog import (
    ServiceKind,
    exemption,
    is_registered,
    register_service,
    registered_services,
    service_spec,
    takes_crm_and_actor,
)
from crmkit.rules.permissions.model import registry
from tests.rules.permissions.areas import NOT_AREAS, area_packages, public_modules

# The area packages, found in the source tree: every public module below them is scanned.
AREAS = area_packages()


def exported_services() -> dict[Callable[..., Any], str]:
    """Every ``(crm, actor, ...)`` callable a public module lists in ``__all__``."""
    found: dict[Callable[..., Any], str] = {}
    for module in public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and takes_crm_and_actor(obj):
                found.setdefault(obj, f"{module.__name__}.{name}")
    return found


def test_every_exported_service_is_registered() -> None:
    missing = sorted(
        where
        for obj, where in exported_services().items()
        if not is_registered(obj) and exemption(obj) is None
    )
    assert not missing, f"public services missing from the catalog: {missing}"


def test_the_areas_are_found_in_the_source_tree() -> None:
    # Every package of crmkit but the kernel and the adapters; rules holds five of them.
    assert {"crmkit.customers", "crmkit.pipeline", "crmkit.billing", "crmkit.rules"} <= set(AREAS)
    assert not set(AREAS) & set(NOT_AREAS)


def test_every_area_that_declares_itself_registers_its_services() -> None:
    # An area's registrations module is where its services enter the catalog; one that
    # registers none leaves the area unprobed by the conformance and boundary suites.
    declaring = {
        module.__name__.removesuffix(".registrations")
        for module in public_modules()
        if module.__name__.endswith(".registrations")
    }
    registered = {spec.name for spec in registered_services()}
    silent = sorted(
        area for area in declaring if not any(name.startswith(f"{area}.") for name in registered)
    )
    assert declaring, "no area has a registrations module"
    assert not silent, f"areas that register no service: {silent}"


def test_the_catalog_holds_only_exported_services() -> None:
    exported = exported_services()
    stray = [s.name for s in registered_services() if s.function not in exported]
    assert not stray, f"registered but not exported by any public module: {stray}"


def test_record_parameters_name_registered_resources_or_world_records() -> None:
    # Record kinds that are not permission resources but are stored records of their own.
    stored = {
        "member",
        "relation",
        "merge",
        "sequence_step",
        "ledger_entry",
        "approval_request",
        "share",
        "reminder_firing",
        "inbox_item",
    }
    known = set(registry.names()) | stored
    for spec in registered_services():
        assert set(spec.records.values()) <= known, spec.name
        if spec.kind is not ServiceKind.WRITE:
            assert spec.operation, spec.name


def test_registering_returns_the_service_itself() -> None:
    # The catalog is data beside the service, never a wrapper: a call costs what it did.
    from crmkit.customers import get_customer

    spec = service_spec(get_customer)
    assert spec is not None
    assert spec.function is get_customer
    assert spec.name == "crmkit.customers.get_customer"
    assert spec.records == {"customer_id": "customer"}


def test_a_service_behind_a_signature_keeping_decorator_is_read_through_it() -> None:
    # A host's tracing decorator (or mutmut's trampoline) made with functools.wraps takes
    # (*args, **kwargs) itself; the service it wraps is what the catalog must judge.
    def find_thing(crm: object, actor: object, thing_id: object) -> None:
        """A service for the test."""

    @functools.wraps(find_thing)
    def traced(*args: Any, **kwargs: Any) -> None:
        return find_thing(*args, **kwargs)

    def use_case(uow: object, actor: object) -> None:
        """Not a service: it takes a unit of work, not the Crm."""

    @functools.wraps(use_case)
    def traced_use_case(*args: Any, **kwargs: Any) -> None:
        return use_case(*args, **kwargs)

    assert takes_crm_and_actor(traced)
    assert not takes_crm_and_actor(traced_use_case)


def test_a_declaration_naming_an_unknown_parameter_is_refused() -> None:
    def find_thing(crm: object, actor: object, thing_id: object) -> None:
        """A service for the test."""

    with pytest.raises(TypeError, match="no parameter"):
        register_service(find_thing, ServiceKind.READ, "customer", records={"customer_id": "x"})
    with pytest.raises(TypeError, match=r"\(crm, actor"):
        register_service(lambda uow, actor: None, ServiceKind.READ, "customer")
    assert not is_registered(find_thing)
