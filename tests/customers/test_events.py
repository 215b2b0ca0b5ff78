"""The customer and custom field events each share one base that names the aggregate once.

The outbox stores every event under its ``event_type`` and ``aggregate_type``; the
bases change neither, and a base is never what the pool machine records.
"""

from __future__ import annotations

import crmkit.customers.model
from crmkit.customers.model import POOL, CustomerEvent, CustomFieldEvent
from crmkit.kernel.events import DomainEvent
from tests.declared_events import events_declared_in

# What the outbox has stored for each event since before the bases existed.
STORED = {
    "CustomFieldChanged": "custom_field",
    "CustomFieldDefined": "custom_field",
    "CustomerAssigned": "customer",
    "CustomerChanged": "customer",
    "CustomerClaimed": "customer",
    "CustomerMergeUndone": "customer",
    "CustomerRegistered": "customer",
    "CustomerReturnedToPool": "customer",
    "CustomerStageChanged": "customer",
    "CustomerTransferred": "customer",
    "CustomersMerged": "customer",
}


def _customer_events() -> dict[str, type[DomainEvent]]:
    bases = (CustomerEvent, CustomFieldEvent)
    events = events_declared_in(crmkit.customers.model)
    return {name: cls for name, cls in events.items() if cls not in bases}


def test_every_customer_event_keeps_the_aggregate_type_the_outbox_stored() -> None:
    events = _customer_events()
    assert {name: cls.aggregate_type for name, cls in events.items()} == STORED
    assert all(cls.event_type == name for name, cls in events.items())
    assert all(issubclass(cls, CustomerEvent | CustomFieldEvent) for cls in events.values())


def test_the_pool_machine_records_customer_events_and_never_the_base() -> None:
    recorded = {t.event for t in POOL.transitions if t.event is not None}
    assert recorded
    assert all(
        issubclass(event, CustomerEvent) and event is not CustomerEvent for event in recorded
    )
