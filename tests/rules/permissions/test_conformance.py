"""The permission conformance suite, generated from the catalog of public services.

For every registered service and every probe actor (see ``conformance_world``), on
memory, SQLite and PostgreSQL: call the service with rep A's records and assert

- scope probes (another rep, another department, another team's manager, another
  tenant, a non-member): a read of one record or a write naming rep A's record is
  refused (``PermissionDenied`` or ``NotFound``); a list, search or report shows
  nothing of rep A's (no id, name or value of theirs); a write that names no record
  is refused for another tenant's user and a non-member;
- field probes (the finance clerk and the analyst): nothing their role hides appears
  anywhere in the result (deep scan of attrs objects, mappings, sequences, str/repr);
  they hold only ``view``, so every write is refused;
- a refused write leaves every record of rep A's unchanged.

Arguments are filled generically: parameters the catalog maps to a record get rep
A's record of that kind; other required parameters get a sample by name or type.
Adding a service to the catalog adds its probes here, with no new test code; a
service the world cannot fill (a record kind no step of ``STEPS`` builds, a parameter
with no sample) fails rather than skips, so none goes unproven.
"""

from __future__ import annotations

import enum
import typing
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from crmkit import Crm, connect
from crmkit.adapters.tabular import Table
from crmkit.billing import DocumentRef, TermLine
from crmkit.customers import caller_id_query
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import CrmError, NotFound, PermissionDenied, ValidationError
from crmkit.kernel.ids import RandomIdGenerator
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline import DealLine
from crmkit.rules.notifications import Template
from crmkit.rules.permissions.catalog import ServiceKind, ServiceSpec, registered_services
from tests.conftest import BACKENDS, ENGINE_FIXTURES
from tests.rules.permissions.areas import import_areas
from tests.rules.permissions.conformance_world import (
    CREDIT_LIMIT,
    FIELD_PROBES,
    HIDDEN,
    NOW,
    OWN_SECRETS,
    PHONE,
    PROBES,
    SCOPE_PROBES,
    STEPS,
    TODAY,
    World,
    build_world,
)

# Areas register their services when imported: import every one (found in the source
# tree, so a new area is among them) before enumerating.
import_areas()
SERVICES = registered_services()
REFUSED = (PermissionDenied, NotFound)

# Known leaks of issue 14, being fixed on the perm-fields and perm-records branches.
# Each entry is one (service, probe) that fails today; strict, so a fix shows as XPASS
# and the entry must go. Keep it short and say what leaks.
# Breaks the suite found beyond issue 14's list are marked "found, not in issue 14".
SCOPE = ("peer", "other_dept", "other_manager")
_BREAKS: list[tuple[str, tuple[str, ...], str]] = [
    # issue 14's breaks are fixed, and so is what the suite found beyond them
]
KNOWN_BREAKS: dict[tuple[str, str], str] = {
    (f"crmkit.{service}", probe): why for service, probes, why in _BREAKS for probe in probes
}


def _probe_params() -> Iterator[Any]:
    for spec in SERVICES:
        for probe in PROBES:
            reason = KNOWN_BREAKS.get((spec.name, probe))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(spec, probe, id=f"{spec.name}-{probe}", marks=marks)


# -- one world per backend --------------------------------------------------------------


class Worlds:
    """Builds each backend's world once, and again after a probe changed rep A's records."""

    def __init__(self, request: pytest.FixtureRequest, backend: str) -> None:
        self.request = request
        self.backend = backend
        self.world: World | None = None
        self.failed: dict[str, str] = {}
        self.baseline: dict[str, str] = {}

    def _crm(self) -> Crm:
        clock = FixedClock("2026-03-02T09:00:00Z")
        if self.backend == "memory":
            from crmkit.adapters.memory import MemoryStorage

            return Crm(MemoryStorage(), clock=clock, ids=RandomIdGenerator(), sleep=lambda _: None)
        engine = self.request.getfixturevalue(ENGINE_FIXTURES[self.backend])
        return connect(engine, clock=clock, ids=RandomIdGenerator(), migrate=False)

    def get(self) -> World:
        if self.world is None or self.world.dirty:
            self.world, self.failed = build_world(self._crm(), STEPS)
            # Rep A's records as built; every write probe compares against it, and any
            # change makes the next test start from a fresh world.
            self.baseline = self.world.snapshot()
        return self.world


@pytest.fixture(scope="module", params=BACKENDS)
def worlds(request: pytest.FixtureRequest) -> Worlds:
    return Worlds(request, str(request.param))


# -- filling arguments ----------------------------------------------------------------------


class MissingRecord(Exception):
    """The world has no record of a kind a service names."""


def _unbuilt(kind: str, failed: dict[str, str]) -> str:
    if failed:
        return f"no {kind} record of rep A's; steps of the world failed: {failed}"
    return (
        f"no {kind} record of rep A's: add a step building one to STEPS in "
        "tests/rules/permissions/conformance_world.py"
    )


def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve: fall back to names
        return {}


def _origin_types(hint: Any) -> list[Any]:
    args = typing.get_args(hint)
    return [a for a in args if a is not type(None)] if args else [hint]


# Samples by parameter name, for required parameters that name no record of rep A's.
# They are plausible inputs, never the answer to a particular service.
def _by_name(world: World, actor: Actor) -> dict[str, Any]:
    return {
        "to_user": actor.user_id,
        "to": actor.user_id,
        "cosigner": actor.user_id,
        "user_id": actor.user_id,
        "unit_id": actor.user_id,
        "rep_id": actor.user_id,
        "members": [actor.user_id],
        "process_id": world.process_id,
        "currency": "CNY",
        "resource": "customer",
        "operation": "view",
        "document_type": "quote",
        "period": "2026-03",
        "on": TODAY,
        "since": date(2026, 1, 1),
        "until": date(2026, 12, 31),
        "start": date(2026, 1, 1),
        "end": date(2026, 12, 31),
        "forecast_from": date(2026, 1, 1),
        "forecast_to": date(2026, 12, 31),
        "stage": "qualify",
        "trigger": "follow_up",
        "milestone": "signing",
        "key": "probe_field",
        "pattern": "P-{seq:4}",
        "doc_type": "probe",
        "idempotency_key": f"probe-{uuid.uuid4()}",
        "grantee_kind": "user",
        "grantee": str(actor.user_id),
        "condition": {"field": "level", "op": "eq", "value": "A"},
        "active": True,
        "parent_id": None,
        "department_id": None,
        "lines": [],
        "stages": [],
        "steps": [],
        "tiers": [("0", "0.01")],
        "items": [],
        "limits": [],
        "rows": [],
        "table": Table(headers=("名称",), rows=(("probe",),), row_numbers=(2,)),
        "quantities": {},
        "recipients": [],
        "by": "category",
        "others": [world.record_id("other_customer")],
        "line_no": 1,
        # A document of the caller's own, as the pipeline would describe it to billing.
        "document": DocumentRef(
            "contract", uuid.uuid4(), uuid.uuid4(), actor.user_id, Money("1.00", "CNY")
        ),
        "documents": [],
        "terms": (TermLine("all", percent="100"),),
        "milestones": {},
        "line": DealLine("SENSOR", Decimal(1)),
        "template": Template(subject="probe", body="probe"),
        # Tenant configuration the world defined (not records anyone owns).
        "campaign_id": world.config_id("campaign"),
        "field_id": world.config_id("custom_field"),
        "rule_id": world.config_id("sharing_rule"),
        "template_id": world.config_id("sequence_template"),
        "plan_id": world.config_id("commission_plan"),
    }


def _sample(name: str, hint: Any, world: World, actor: Actor) -> Any:
    named = _by_name(world, actor)
    kinds = _origin_types(hint)
    # A name's sample fits where the annotation admits it (None for an optional parent).
    if name in named and (named[name] is not None or type(None) in typing.get_args(hint)):
        value = named[name]
        # A day where the service takes an instant: the start of that day, in UTC.
        if type(value) is date and datetime in kinds and date not in kinds:
            return datetime(value.year, value.month, value.day, tzinfo=NOW.tzinfo)
        return value
    for kind in kinds:
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return next(iter(kind))
        if kind is bool:
            return False
        if kind is int:
            return 1
        if kind is str:
            return f"probe {name}"
        if kind is Decimal:
            return Decimal("1")
        if kind is Money:
            return Money("1.00", "CNY")
        if kind is datetime:
            return NOW
        if kind is date:
            return TODAY
        if kind is uuid.UUID:
            return uuid.uuid4()
    # Never a skip: a service the suite cannot call would go unproven.
    pytest.fail(f"no sample for parameter {name!r} ({hint!r}): add one to _by_name")


def arguments(spec: ServiceSpec, world: World, actor: Actor) -> tuple[dict[str, Any], set[Any]]:
    """Keyword arguments for one call, and the ids of rep A's that were passed in."""
    hints = _hints(spec.function)
    kwargs: dict[str, Any] = {}
    passed: set[Any] = set()
    for name, param in spec.parameters.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if name in spec.records:
            kind = spec.records[name]
            # A parameter taking a value object (a DocumentRef) finds it under its own name.
            value = world.records.get(name) or world.record_id(kind)
            if value is None:
                raise MissingRecord(kind)
            passed.add(getattr(value, "document_id", value))
            kwargs[name] = [value] if name.endswith("_ids") else value
        elif param.default is param.empty:
            kwargs[name] = _sample(name, hints.get(name), world, actor)
    return kwargs, passed


# -- deep scan --------------------------------------------------------------------------------


def _nodes(value: Any, depth: int = 0, seen: set[int] | None = None) -> Iterator[Any]:
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 12:
        return
    seen.add(id(value))
    yield value
    children: list[Any] = []
    if attrs.has(type(value)):
        children = [getattr(value, f.name, None) for f in attrs.fields(type(value))]
    elif isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = list(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        children = list(vars(value).values())
    for child in children:
        yield from _nodes(child, depth + 1, seen)


def leaks(
    result: Any, secrets: tuple[str, ...], ids: set[Any], echoed: frozenset[str] = frozenset()
) -> list[str]:
    """What of ``secrets`` and ``ids`` appears anywhere in ``result``.

    ``echoed`` are the caller's own text arguments: a result repeating what it was asked
    (the search text) shows the caller nothing new.
    """
    found: set[str] = set()
    for node in _nodes(result):
        if isinstance(node, uuid.UUID):
            if node in ids:
                found.add(f"id {node}")
            continue
        if isinstance(node, str) and node in echoed:
            continue
        if isinstance(node, str | int | float | Decimal | Money | date | bytes):
            text = f"{node}|{node!r}"
        elif isinstance(node, list | tuple | set | frozenset | dict) or attrs.has(type(node)):
            continue  # their parts are scanned one by one
        else:
            text = f"{node}|{node!r}"
        found.update(secret for secret in secrets if secret in text)
    return sorted(found)


# -- the probes ---------------------------------------------------------------------------------

EXERCISED: set[str] = set()

# Lookups a field probe tries with what its role hides: the hidden phone as search text
# and caller number, a filter on it (through its derived key), a range on a hidden amount.
# A list or report answering them must not find rep A's records by them.
LOOKUPS: dict[str, dict[str, Any]] = {
    "clerk": {
        "text": PHONE,
        "number": PHONE,
        "query": Query(where=caller_id_query(PHONE)),
    },
    "analyst": {"query": Query(where=F("credit_limit.amount").ge(Decimal(CREDIT_LIMIT)))},
}


@pytest.mark.parametrize(("spec", "probe"), list(_probe_params()))
def test_service_obeys_the_policy(worlds: Worlds, spec: ServiceSpec, probe: str) -> None:
    world = worlds.get()
    actor = world.probes[probe]
    try:
        kwargs, passed = arguments(spec, world, actor)
    except MissingRecord as missing:
        # Never a skip: a service whose record the world lacks would go unproven.
        pytest.fail(f"{spec.name}: {_unbuilt(str(missing), worlds.failed)}")
    lookups = {
        name: value
        for name, value in LOOKUPS.get(probe, {}).items()
        if name in spec.parameters and spec.kind in (ServiceKind.LIST, ServiceKind.REPORT)
    }
    kwargs.update(lookups)
    before = worlds.baseline if spec.kind is ServiceKind.WRITE else None
    EXERCISED.add(spec.name)
    try:
        result = spec.function(world.crm, actor, **kwargs)
    except REFUSED:
        outcome: str = "refused"
        result = None
    except ValidationError as error:
        # The probe's own sample refused as input says nothing about rep A's records;
        # a refusal about anything else (the record's state) came before the check.
        field = error.fields.get("field")
        own_input = field in kwargs and field not in spec.records
        outcome = "refused" if own_input else f"error ValidationError ({field})"
        result = None
    except CrmError as error:  # refused for another reason (state): nothing shown
        outcome = f"error {type(error).__name__}"
        result = None
    else:
        outcome = "done"
    problems: list[str] = []
    names_a_record = bool(spec.records)
    # A batch (a parameter of ids) answers per item instead of raising; it passes when
    # it changed nothing and showed nothing of rep A's.
    batch = any(name.endswith("_ids") for name in spec.records)
    if probe in SCOPE_PROBES:
        if names_a_record and spec.kind in (ServiceKind.READ, ServiceKind.WRITE):
            if outcome != "refused" and not (batch and outcome == "done"):
                problems.append(f"not refused ({outcome})")
        elif (
            spec.kind is ServiceKind.WRITE
            and not spec.personal
            and probe == "non_member"
            and outcome == "done"
        ):
            # Another tenant's administrator acts in their own tenant; a stranger nowhere.
            problems.append("a write by a non-member went through")
        if outcome == "done":
            shown = leaks(result, OWN_SECRETS, world.own_ids() - passed)
            if shown:
                problems.append(f"shows rep A's {shown}")
    else:
        assert probe in FIELD_PROBES
        if spec.kind is ServiceKind.WRITE and not spec.personal and outcome == "done" and not batch:
            problems.append("a write by a view-only role went through")
        if outcome == "done":
            echoed = frozenset(v for v in kwargs.values() if isinstance(v, str))
            shown = leaks(result, HIDDEN[probe], set(), echoed)
            if shown:
                problems.append(f"shows hidden {shown}")
            found = leaks(result, (), world.own_ids()) if lookups else []
            if found:
                problems.append(f"finds rep A's records by {sorted(lookups)}, which it hides")
    if before is not None:
        after = world.snapshot()
        if after != before:
            world.dirty = True
            changed = sorted(k for k in before if before[k] != after.get(k))
            problems.append(f"changed rep A's {changed}")
    assert not problems, f"{spec.name} as {probe}: " + "; ".join(problems)


def test_the_world_holds_every_record_the_catalog_names() -> None:
    # Built once on memory: a new service naming a record no step builds, or a step
    # that stopped working, fails here by name instead of leaving services unprobed.
    from crmkit.adapters.memory import MemoryStorage

    crm = Crm(
        MemoryStorage(),
        clock=FixedClock("2026-03-02T09:00:00Z"),
        ids=RandomIdGenerator(),
        sleep=lambda _: None,
    )
    world, failed = build_world(crm, STEPS)
    assert not failed, f"steps of the conformance world failed: {failed}"
    missing: dict[str, list[str]] = {}
    for spec in SERVICES:
        for name, kind in spec.records.items():
            if world.records.get(name) is None and world.record_id(kind) is None:
                missing.setdefault(kind, []).append(spec.name)
    assert not missing, "records no step of STEPS builds, and the services naming them: " + (
        "; ".join(f"{kind}: {sorted(names)}" for kind, names in sorted(missing.items()))
    )


def test_every_registered_service_has_probes() -> None:
    # The parametrisation above is the catalog: nothing registered goes unprobed.
    probed = {p.values[0].name for p in _probe_params()}  # type: ignore[union-attr]
    assert probed == {s.name for s in SERVICES}
    assert len(SERVICES) > 150
