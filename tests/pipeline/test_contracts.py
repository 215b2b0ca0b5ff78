"""Contracts: from quotes or entered directly, approval, key-date reminders, expiry, renewal."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from crmkit import Crm, ValidationError
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import GuardFailed, InvalidTransition, PermissionDenied
from crmkit.kernel.ids import UserId
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from crmkit.pipeline.model.contracts import CONTRACT, Contract, ContractKind, ContractStatus
from crmkit.pipeline.services import (
    approve_contract,
    attach_to_contract,
    complete_contract,
    configure_sales_documents,
    convert_quote_to_contract,
    create_contract,
    expire_contracts,
    reject_contract,
    renew_contract,
    sign_contract,
    submit_contract,
    terminate_contract,
)
from crmkit.rules.permissions import Grant, Scope, define_role, set_member
from crmkit.rules.reminders import (
    Recipients,
    TriggerKind,
    define_reminder_rule,
    scan_due_reminders,
)
from tests.billing.builders import second_admin
from tests.pipeline.test_quotes import approved_quote, customer


def service_contract(crm: Crm, actor: Actor, *, end_date: date = date(2027, 2, 28)) -> Contract:
    return create_contract(
        crm,
        actor,
        kind=ContractKind.SERVICE,
        title="年度维保 Annual maintenance",
        customer_id=customer(crm, actor).id,
        amount=Money("36000", "CNY"),
        start_date=date(2026, 3, 1),
        end_date=end_date,
    )


def test_a_quote_becomes_a_contract_with_its_lines_and_total(crm: Crm, actor: Actor) -> None:
    quote = approved_quote(crm, actor)
    contract = convert_quote_to_contract(
        crm, actor, quote.id, start_date=date(2026, 3, 10), end_date=date(2027, 3, 9)
    )
    assert contract.amount == quote.total
    assert contract.lines == quote.lines
    assert (contract.number, contract.quote_id, contract.kind) == (
        "CT-2026-00001",
        quote.id,
        ContractKind.SALES,
    )
    assert contract.renewal_notice_on == date(2027, 2, 7)  # 30 days before the end
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Contract).get(contract.id))
    assert stored.lines == contract.lines
    assert stored.status is ContractStatus.DRAFT


def test_a_contract_needing_approval_takes_effect_only_once_approved(
    crm: Crm, actor: Actor
) -> None:
    contract = service_contract(crm, actor)
    assert contract.approval_required
    with pytest.raises(GuardFailed):
        sign_contract(crm, actor, contract.id)
    assert submit_contract(crm, actor, contract.id).status is ContractStatus.IN_APPROVAL
    manager = second_admin(crm, actor)  # another administrator: nobody approves their own
    assert reject_contract(crm, manager, contract.id, "fix terms").status is ContractStatus.DRAFT
    submit_contract(crm, actor, contract.id)
    active = approve_contract(crm, manager, contract.id, signed_on=date(2026, 3, 2))
    assert active.status is ContractStatus.ACTIVE
    assert (active.decided_by, active.signed_on) == (manager.user_id, date(2026, 3, 2))


def test_without_required_approval_signing_makes_it_active(crm: Crm, actor: Actor) -> None:
    configure_sales_documents(crm, actor, contracts_need_approval=False, notice_days=60)
    contract = service_contract(crm, actor)
    assert contract.renewal_notice_on == date(2026, 12, 30)
    signed = sign_contract(crm, actor, contract.id, signed_on=date(2026, 3, 1))
    assert signed.status is ContractStatus.ACTIVE
    assert signed.signed_on == date(2026, 3, 1)


def test_a_contract_refuses_bad_dates_and_negative_amounts(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError, match="end_date"):
        service_contract(crm, actor, end_date=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="amount"):
        create_contract(
            crm,
            actor,
            kind=ContractKind.PURCHASE,
            title="x",
            customer_id=customer(crm, actor).id,
            amount=Money("-1", "CNY"),
            start_date=date(2026, 1, 1),
        )


def active_contract(crm: Crm, actor: Actor) -> Contract:
    configure_sales_documents(crm, actor, contracts_need_approval=False)
    return sign_contract(crm, actor, service_contract(crm, actor).id)


def test_a_30_days_before_end_rule_reminds_the_owner(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    contract = active_contract(crm, actor)
    define_reminder_rule(
        crm,
        actor,
        name="contract ends in 30 days",
        trigger=TriggerKind.DATE_FIELD,
        resource="contract",
        field="end_date",
        offsets_days=(-30,),
        only_when=(("status", "active"),),
        subject="{title} ends {date}",
        recipients=(Recipients.owner(),),
    )
    clock.set("2027-01-28T02:00:00Z")  # 31 days before: not yet
    assert scan_due_reminders(crm, actor.tenant_id) == []
    clock.set("2027-01-29T02:00:00Z")
    (fired,) = scan_due_reminders(crm, actor.tenant_id)
    assert (fired.record_id, fired.recipient_id) == (contract.id, actor.user_id)
    assert fired.subject == f"{contract.number} ends 2027-01-29"
    assert scan_due_reminders(crm, actor.tenant_id) == []


def test_the_renewal_notice_date_feeds_reminders_too(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    contract = active_contract(crm, actor)
    define_reminder_rule(
        crm,
        actor,
        name="renewal notice",
        trigger=TriggerKind.DATE_FIELD,
        resource="contract",
        field="renewal_notice_on",
        subject="give notice on {title}",
    )
    clock.set("2027-01-29T02:00:00Z")
    (fired,) = scan_due_reminders(crm, actor.tenant_id)
    assert fired.record_id == contract.id


def test_contracts_past_their_end_expire(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    contract = active_contract(crm, actor)
    assert expire_contracts(crm, actor.tenant_id, today=date(2027, 2, 28)) == []
    (expired,) = expire_contracts(crm, actor.tenant_id, today=date(2027, 3, 1))
    assert expired.id == contract.id
    assert expired.status is ContractStatus.EXPIRED
    with pytest.raises(InvalidTransition):
        terminate_contract(crm, actor, contract.id, "late")


def test_completing_and_terminating_close_an_active_contract(crm: Crm, actor: Actor) -> None:
    done = complete_contract(crm, actor, active_contract(crm, actor).id)
    assert done.status is ContractStatus.COMPLETED
    assert done.closed_on is not None
    with pytest.raises(ValidationError):
        terminate_contract(crm, actor, active_contract(crm, actor).id, " ")
    ended = terminate_contract(crm, actor, active_contract(crm, actor).id, "customer bankrupt")
    assert (ended.status, ended.termination_reason) == (
        ContractStatus.TERMINATED,
        "customer bankrupt",
    )


def test_renewal_creates_a_linked_draft_starting_after_the_end(crm: Crm, actor: Actor) -> None:
    old = active_contract(crm, actor)
    new = renew_contract(crm, actor, old.id, amount=Money("38000", "CNY"))
    assert (new.start_date, new.end_date) == (date(2027, 3, 1), date(2028, 2, 29))
    assert new.renewed_from_id == old.id
    assert new.status is ContractStatus.DRAFT
    assert new.amount == Money("38000", "CNY")
    assert new.number != old.number
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Contract).get(old.id))
    assert stored.renewed_by_id == new.id
    with pytest.raises(ValidationError, match="renewed already"):
        renew_contract(crm, actor, old.id)


def test_a_draft_cannot_be_renewed(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError):
        renew_contract(crm, actor, service_contract(crm, actor).id)


def test_attachments_are_kept_as_metadata(crm: Crm, actor: Actor) -> None:
    contract = service_contract(crm, actor)
    attach_to_contract(
        crm,
        actor,
        contract.id,
        name="签字版.pdf",
        media_type="application/pdf",
        size_bytes=183_204,
        storage_key="contracts/2026/ct-1.pdf",
    )
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Contract).get(contract.id))
    (file,) = stored.attachments
    assert (file.name, file.size_bytes, file.added_by) == ("签字版.pdf", 183_204, actor.user_id)


def test_every_contract_state_reaches_an_end() -> None:
    assert_every_state_reaches_final(CONTRACT)


def test_renewing_needs_the_right_to_create_a_contract(crm: Crm, actor: Actor) -> None:
    # A renewal is a new contract: editing the old one is not enough.
    define_role(
        crm,
        actor,
        "keeper",
        grants=[Grant("contract", op, Scope.TENANT) for op in ("view", "edit")],
    )
    keeper = Actor(actor.tenant_id, UserId(uuid.uuid4()), "Keeper")
    set_member(crm, actor, keeper.user_id, name=keeper.name, roles=["keeper"])
    old = active_contract(crm, actor)
    with pytest.raises(PermissionDenied):
        renew_contract(crm, keeper, old.id)
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Contract).get(old.id))
    assert stored.renewed_by_id is None
