"""Numbers through the services on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid

import pendulum
import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import NotFound, PermissionDenied, ValidationError
from crmkit.kernel.ids import UserId
from crmkit.ports import UnitOfWork
from crmkit.rules.numbering import (
    NumberCounter,
    Reset,
    counter_id,
    define_numbering_rule,
    get_numbering_rule,
    list_numbering_rules,
    next_number,
    next_numbers,
)
from tests.rules.numbering.documents import NumberedDoc, ensure_table, numbers_in


def _create(crm: Crm, actor: Actor, doc_type: str = "contract") -> str:
    def work(uow: UnitOfWork) -> str:
        number = next_number(uow, doc_type, crm.now())
        uow.repository(NumberedDoc).add(
            NumberedDoc(id=crm.new_id(), tenant_id=actor.tenant_id, number=number)
        )
        return number

    return crm.run(actor.tenant_id, work)


def test_documents_get_consecutive_numbers_that_reset_monthly(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    ensure_table(crm)
    define_numbering_rule(crm, actor, "contract", "HT-{yyyy}{mm}-{seq:4}", Reset.MONTHLY)
    first = [_create(crm, actor) for _ in range(3)]
    clock.set(pendulum.datetime(2026, 4, 1, 0, 0, tz="UTC"))
    second = [_create(crm, actor) for _ in range(2)]
    assert first == ["HT-202603-0001", "HT-202603-0002", "HT-202603-0003"]
    assert second == ["HT-202604-0001", "HT-202604-0002"]


def test_a_rolled_back_document_gives_its_number_back(crm: Crm, actor: Actor) -> None:
    ensure_table(crm)
    define_numbering_rule(crm, actor, "customer", "KH{seq:6}")
    assert _create(crm, actor, "customer") == "KH000001"

    def fails(uow: UnitOfWork) -> None:
        next_number(uow, "customer", crm.now())
        raise RuntimeError("the document broke a rule")

    with pytest.raises(RuntimeError):
        crm.run(actor.tenant_id, fails)
    assert _create(crm, actor, "customer") == "KH000002"
    assert numbers_in(crm, actor.tenant_id) == ["KH000001", "KH000002"]


def test_a_batch_takes_a_run_of_numbers_in_one_call(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "invoice", "FP{yyyy}{seq:5}", "yearly")
    run = crm.run(actor.tenant_id, lambda uow: next_numbers(uow, "invoice", crm.now(), 3))
    after = crm.run(actor.tenant_id, lambda uow: next_number(uow, "invoice", crm.now()))
    assert run == ["FP202600001", "FP202600002", "FP202600003"]
    assert after == "FP202600004"


def test_a_batch_continues_an_existing_counter_by_its_whole_size(crm: Crm, actor: Actor) -> None:
    # The counter row exists after the first number, so the batch goes through the
    # update branch of the SQL upsert: it must add the batch size, not 1.
    define_numbering_rule(crm, actor, "invoice", "FP{seq:5}")
    take = lambda n: crm.run(  # noqa: E731
        actor.tenant_id, lambda uow: next_numbers(uow, "invoice", crm.now(), n)
    )
    assert take(1) == ["FP00001"]
    assert take(3) == ["FP00002", "FP00003", "FP00004"]
    assert take(2) == ["FP00005", "FP00006"]
    assert take(1) == ["FP00007"]


@pytest.mark.parametrize(
    ("zone", "midnight"),
    [
        # 00:00 on 3 March in Shanghai (UTC+8) is 16:00 UTC on 2 March.
        ("Asia/Shanghai", pendulum.datetime(2026, 3, 2, 16, 0, tz="UTC")),
        # 00:00 on 3 March in New York (UTC-5 in winter) is 05:00 UTC on 3 March.
        ("America/New_York", pendulum.datetime(2026, 3, 3, 5, 0, tz="UTC")),
    ],
)
def test_a_daily_counter_resets_at_local_midnight_of_the_rule_time_zone(
    crm: Crm, actor: Actor, clock: FixedClock, zone: str, midnight: pendulum.DateTime
) -> None:
    define_numbering_rule(
        crm, actor, "receipt", "SK{yyyy}{mm}{dd}-{seq:3}", Reset.DAILY, timezone=zone
    )
    take = lambda: crm.run(  # noqa: E731
        actor.tenant_id, lambda uow: next_number(uow, "receipt", crm.now())
    )
    clock.set(midnight.subtract(hours=1))
    first = take()
    clock.set(midnight.subtract(microseconds=1))
    last_of_day = take()
    clock.set(midnight)
    first_of_next = take()
    clock.set(midnight.add(hours=23, minutes=59))
    still_next = take()
    assert [first, last_of_day] == ["SK20260302-001", "SK20260302-002"]
    assert [first_of_next, still_next] == ["SK20260303-001", "SK20260303-002"]


def test_a_batch_needs_at_least_one_number(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "invoice", "FP{seq:5}")
    with pytest.raises(ValidationError, match="count"):
        crm.run(actor.tenant_id, lambda uow: next_numbers(uow, "invoice", crm.now(), 0))


def test_tenants_and_document_types_count_separately(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "contract", "HT{seq:3}")
    define_numbering_rule(crm, actor, "quote", "BJ{seq:3}")
    other = Actor(tenant_id=crm.new_id(), user_id=UserId(uuid.uuid4()), name="Li Na")  # type: ignore[arg-type]
    from crmkit.rules.permissions import bootstrap_tenant

    bootstrap_tenant(crm, other.tenant_id, other.user_id, other.name)
    define_numbering_rule(crm, other, "contract", "HT{seq:3}")
    take = lambda who, doc: crm.run(  # noqa: E731
        who.tenant_id, lambda uow: next_number(uow, doc, crm.now())
    )
    assert [take(actor, "contract"), take(actor, "quote"), take(other, "contract")] == [
        "HT001",
        "BJ001",
        "HT001",
    ]


def test_each_tenant_counter_is_stored_under_its_documented_id(crm: Crm, actor: Actor) -> None:
    # counter_id(tenant, doc_type, period) is public: a host reads a counter by it.
    define_numbering_rule(crm, actor, "contract", "HT{seq:3}")
    for _ in range(2):
        crm.run(actor.tenant_id, lambda uow: next_number(uow, "contract", crm.now()))
    key = counter_id(actor.tenant_id, "contract", "never")
    counter = crm.run(actor.tenant_id, lambda uow: uow.repository(NumberCounter).find(key))
    assert counter is not None
    assert (counter.tenant_id, counter.doc_type, counter.period, counter.value) == (
        actor.tenant_id,
        "contract",
        "never",
        2,
    )


def test_numbers_need_a_rule_for_the_document_type(crm: Crm, actor: Actor) -> None:
    with pytest.raises(NotFound, match="numbering_rule"):
        crm.run(actor.tenant_id, lambda uow: next_number(uow, "refund", crm.now()))


def test_redefining_a_rule_keeps_its_counter_within_the_same_period(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "contract", "HT{yyyy}{seq:4}", "yearly")
    crm.run(actor.tenant_id, lambda uow: next_number(uow, "contract", crm.now()))
    rule = define_numbering_rule(crm, actor, "contract", "HT-{yyyy}-{seq:5}", "yearly")
    assert rule.version == 2
    assert crm.run(actor.tenant_id, lambda uow: next_number(uow, "contract", crm.now())) == (
        "HT-2026-00002"
    )
    assert get_numbering_rule(crm, actor, "contract").pattern == "HT-{yyyy}-{seq:5}"
    assert [r.doc_type for r in list_numbering_rules(crm, actor)] == ["contract"]


def test_only_tenant_administrators_define_rules(crm: Crm, actor: Actor) -> None:
    clerk = Actor(tenant_id=actor.tenant_id, user_id=UserId(uuid.uuid4()), name="Wang Fang")
    with pytest.raises(PermissionDenied):
        define_numbering_rule(crm, clerk, "contract", "HT{seq:4}")


def test_an_invalid_rule_stores_nothing(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError):
        define_numbering_rule(crm, actor, "customer", "KH{seq:6}", "yearly")
    assert list_numbering_rules(crm, actor) == []


def test_refusals_name_what_was_refused(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "invoice", "FP{seq:5}")
    with pytest.raises(ValidationError) as too_few:
        crm.run(actor.tenant_id, lambda uow: next_numbers(uow, "invoice", crm.now(), 0))
    assert too_few.value.to_dict()["message"] == "numbering_rule.count: must be at least 1"
    with pytest.raises(NotFound) as missing:
        crm.run(actor.tenant_id, lambda uow: next_number(uow, "refund", crm.now()))
    assert (missing.value.fields["entity"], missing.value.fields["id"]) == (
        "numbering_rule",
        "refund",
    )
    clerk = Actor(tenant_id=actor.tenant_id, user_id=UserId(uuid.uuid4()), name="Clerk Liu")
    with pytest.raises(PermissionDenied) as denied:
        define_numbering_rule(crm, clerk, "quote", "BJ{seq}")
    fields = denied.value.fields
    assert (fields["operation"], fields["resource"]) == ("administer", "numbering_rule")
    assert fields["actor"]


def test_an_unknown_reset_is_refused_naming_the_field_and_the_choices(
    crm: Crm, actor: Actor
) -> None:
    with pytest.raises(ValidationError) as refused:
        define_numbering_rule(crm, actor, "contract", "HT{seq}", "weekly")
    why = "'weekly' is not one of never, yearly, monthly, daily"
    assert refused.value.to_dict() == {
        "code": "validation_error",
        "message": f"numbering_rule.reset: {why}",
        "entity": "numbering_rule",
        "field": "reset",
        "reason": why,
        "row": None,
    }


def test_a_rule_defined_without_a_time_zone_is_stored_in_utc(crm: Crm, actor: Actor) -> None:
    define_numbering_rule(crm, actor, "contract", "HT{seq}")
    assert get_numbering_rule(crm, actor, "contract").timezone == "UTC"


def test_rules_are_listed_by_document_type(crm: Crm, actor: Actor) -> None:
    # Rule ids derive from the (random) tenant id: with eight types, listing by id instead
    # comes out in document-type order once in 40,320 runs, not once in six as with three.
    types = ["quote", "contract", "invoice", "receipt", "refund", "order", "claim", "ticket"]
    for doc_type in types:
        define_numbering_rule(crm, actor, doc_type, "X{seq}")
    assert [r.doc_type for r in list_numbering_rules(crm, actor)] == sorted(types)


@pytest.mark.parametrize("doc_type", ["in\ud800voice", "in\x00voice"])
def test_a_document_type_no_backend_can_store_is_refused_naming_it(
    crm: Crm, actor: Actor, doc_type: str
) -> None:
    # The rule's id is derived from the type, so such text must be refused before that
    # derivation, not escape from it as a raw UnicodeEncodeError.
    for attempt in (
        lambda: define_numbering_rule(crm, actor, doc_type, "FP{seq:5}"),
        lambda: get_numbering_rule(crm, actor, doc_type),
        lambda: crm.run(actor.tenant_id, lambda uow: next_number(uow, doc_type, crm.now())),
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.to_dict()["message"].startswith("numbering_rule.doc_type: contains")
    assert list_numbering_rules(crm, actor) == []


def test_a_document_type_that_is_not_text_is_a_type_error_naming_it(crm: Crm, actor: Actor) -> None:
    # next_number is called by the areas' services inside their unit of work, not through
    # the catalog's type check at a service's door, so it checks its own argument.
    with pytest.raises(TypeError, match=r"^doc_type must be str, not int$"):
        crm.run(actor.tenant_id, lambda uow: next_number(uow, 7, crm.now()))  # type: ignore[arg-type]
