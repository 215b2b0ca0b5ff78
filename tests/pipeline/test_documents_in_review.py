"""Nothing changes a document while an approval flow decides it.

Every public service of the areas that takes an approvable document (found from the
areas' ``__all__`` by the parameter that names the document, so a new service is
tried without anyone adding it here) is called on a document in review: reads answer,
everything else raises ``DocumentLocked`` and leaves the document as it was. The
document types come from the approvals registry, so a new approvable type fails
``test_every_approvable_document_type_has_a_document_in_review`` until it gets a
builder below.
"""

from __future__ import annotations

import importlib
import inspect
import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import attrs
import pytest

from crmkit import Crm
from crmkit.billing import (
    ExpenseClaim,
    ExpenseLine,
    Refund,
    draft_expense_claim,
    resubmit_credit_override,
    submit_expense_claim,
)
from crmkit.billing.approvals import register_document_hooks as register_billing_hooks
from crmkit.billing.model.credit import CreditOverride
from crmkit.kernel.actor import Actor
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.quotes import Quote
from crmkit.pipeline.registrations import register_document_hooks as register_pipeline_hooks
from crmkit.pipeline.services import submit_contract, submit_quote
from crmkit.rules.approvals import (
    Approvers,
    DocumentLocked,
    FlowStage,
    RequestStatus,
    approvable_documents,
    approval_of,
    define_flow,
    reject_request,
    withdraw_request,
)
from tests.billing.test_approval_wiring import a_refund, cny
from tests.billing.test_credit_override import credit_flow, held_order, person, request_of
from tests.pipeline.test_contracts import service_contract
from tests.pipeline.test_document_approvals import discounted_quote

SERVICE_MODULES = (
    "crmkit.pipeline",
    "crmkit.pipeline.services",
    "crmkit.billing",
    "crmkit.billing.services",
)
READS = {"quote_versions", "credit_overrides"}
"""Services that only read: they answer for a document in review."""

# The held document of a credit override is named ``document_id`` (it may be any
# area's document on credit hold; sales orders are the one kind there is).
ALIASES: dict[str, type[Any]] = {"document_id": SalesOrder}

ARGUMENTS: dict[str, Any] = {
    "why": "客户要求",
    "reason": "客户已预付",
    "name": "盖章件.pdf",
    "media_type": "application/pdf",
    "size_bytes": 1024,
    "storage_key": "contracts/scan-1",
    "start_date": date(2026, 3, 10),
    "quantities": {1: "1"},
    "idempotency_key": "in-review",
    "paid_on": date(2026, 3, 3),
    "roles": ["rep"],
}
"""Values for the required parameters besides the document (a service with another
required parameter fails the test until it is named here)."""


@pytest.fixture(autouse=True)
def _hooks() -> None:
    """Other tests may register their own hooks for these document types: take ours back."""
    register_pipeline_hooks()
    register_billing_hooks()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _id_names(entity: type[Any]) -> set[str]:
    """``SalesOrder`` is named ``sales_order_id`` or ``order_id``."""
    snake = _snake(entity.__name__)
    names = {f"{snake}_id", f"{snake.rsplit('_', 1)[-1]}_id"}
    return names | {alias for alias, target in ALIASES.items() if target is entity}


def _services() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module_name in SERVICE_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) and list(inspect.signature(value).parameters)[:1] == [
                "crm"
            ]:
                found[name] = value
    return found


def services_of(entity: type[Any]) -> list[tuple[str, str]]:
    """(service name, parameter naming the document) of every service taking ``entity``."""
    names = _id_names(entity)
    pairs = []
    for name, service in sorted(_services().items()):
        for parameter in inspect.signature(service).parameters:
            if parameter in names:
                pairs.append((name, parameter))
    return pairs


# -- documents in review, one builder per approvable document type --------------------------


def _in_review(crm: Crm, actor: Actor, document_type: str, document_id: uuid.UUID) -> None:
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, document_type, document_id))
    assert request is not None
    assert request.status is RequestStatus.IN_REVIEW


def _flow(crm: Crm, actor: Actor, document_type: str) -> None:
    define_flow(
        crm, actor, name=f"{document_type} 审批", document_type=document_type,
        stages=[FlowStage("经理", [Approvers.named(person(actor, "王经理").user_id)])],
    )  # fmt: skip


def quote_in_review(crm: Crm, actor: Actor) -> tuple[type[Any], uuid.UUID]:
    _flow(crm, actor, "quote")
    quote = discounted_quote(crm, actor)
    submit_quote(crm, actor, quote.id)
    _in_review(crm, actor, "quote", quote.id)
    return Quote, quote.id


def contract_in_review(crm: Crm, actor: Actor) -> tuple[type[Any], uuid.UUID]:
    _flow(crm, actor, "contract")
    contract = service_contract(crm, actor)
    submit_contract(crm, actor, contract.id)
    _in_review(crm, actor, "contract", contract.id)
    return Contract, contract.id


def order_in_review(crm: Crm, actor: Actor) -> tuple[type[Any], uuid.UUID]:
    credit_flow(crm, actor, person(actor, "财务总监"))
    order = held_order(crm, actor)
    _in_review(crm, actor, "credit_override", order.id)
    return SalesOrder, order.id


def order_with_a_resubmission_in_review(crm: Crm, actor: Actor) -> tuple[type[Any], uuid.UUID]:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order = held_order(crm, actor)
    first = request_of(crm, actor, order.id)
    assert first is not None
    reject_request(crm, cfo, first.id, comment="先回款")
    again = resubmit_credit_override(crm, actor, order.id, reason="客户已预付 3,600")
    _in_review(crm, actor, "credit_override_resubmission", again.id)
    return SalesOrder, order.id


def refund_in_review(crm: Crm, actor: Actor) -> tuple[type[Any], uuid.UUID]:
    _flow(crm, actor, "refund")
    refund = a_refund(crm, actor)
    _in_review(crm, actor, "refund", refund.id)
    return Refund, refund.id


def claim_in_review(crm: Crm, actor: Actor) -> tuple[type[Any], uuid.UUID]:
    _flow(crm, actor, "expense_claim")
    line = ExpenseLine("meals", cny("80"), date(2026, 2, 10), "lunch")
    claim = draft_expense_claim(crm, actor, [line])
    submit_expense_claim(crm, actor, claim.id, roles=["rep"])
    _in_review(crm, actor, "expense_claim", claim.id)
    return ExpenseClaim, claim.id


BUILDERS: dict[str, Callable[[Crm, Actor], tuple[type[Any], uuid.UUID]]] = {
    "quote": quote_in_review,
    "contract": contract_in_review,
    "credit_override": order_in_review,
    "credit_override_resubmission": order_with_a_resubmission_in_review,
    "refund": refund_in_review,
    "expense_claim": claim_in_review,
}
ENTITIES = {
    "quote": Quote,
    "contract": Contract,
    "credit_override": SalesOrder,
    # The resubmitted override locks the held order; the override itself has no
    # service that changes it.
    "credit_override_resubmission": SalesOrder,
    "refund": Refund,
    "expense_claim": ExpenseClaim,
}


def test_every_approvable_document_type_has_a_document_in_review() -> None:
    registered = {t for t, entity in approvable_documents().items() if entity is not None}
    assert registered == set(BUILDERS)
    assert approvable_documents()["credit_override_resubmission"] is CreditOverride
    for document_type, entity in ENTITIES.items():
        assert services_of(entity), f"no service of {document_type} was found"


CASES = [
    pytest.param(document_type, service, parameter, id=f"{document_type}-{service}")
    for document_type, entity in ENTITIES.items()
    for service, parameter in services_of(entity)
]


def _call(
    service: Callable[..., Any], actor: Actor, crm: Crm, parameter: str, doc: uuid.UUID
) -> Any:
    arguments: dict[str, Any] = {parameter: doc}
    for name, spec in list(inspect.signature(service).parameters.items())[2:]:
        if name == parameter or spec.default is not inspect.Parameter.empty:
            continue
        assert name in ARGUMENTS, f"{service.__name__}: say what to pass as {name!r} in ARGUMENTS"
        arguments[name] = ARGUMENTS[name]
    return service(crm, actor, **arguments)


@pytest.mark.parametrize(("document_type", "service_name", "parameter"), CASES)
def test_no_service_changes_a_document_in_review(
    crm: Crm, actor: Actor, document_type: str, service_name: str, parameter: str
) -> None:
    entity, document_id = BUILDERS[document_type](crm, actor)
    load = lambda uow: uow.repository(entity).get(document_id)  # noqa: E731
    before = crm.run(actor.tenant_id, load)
    service = _services()[service_name]
    if service_name in READS:
        _call(service, actor, crm, parameter, document_id)
    else:
        with pytest.raises(DocumentLocked) as locked:
            _call(service, actor, crm, parameter, document_id)
        assert locked.value.fields["status"] == "in_review"
    after = crm.run(actor.tenant_id, load)
    assert after.version == before.version
    assert attrs.asdict(after, recurse=False) == attrs.asdict(before, recurse=False)


def test_a_contract_in_review_gets_no_attachment_until_the_request_is_withdrawn(
    crm: Crm, actor: Actor
) -> None:
    from crmkit.pipeline.services import attach_to_contract

    _entity, contract_id = contract_in_review(crm, actor)
    attach = lambda: attach_to_contract(  # noqa: E731
        crm, actor, contract_id, name="盖章件.pdf", media_type="application/pdf",
        size_bytes=1024, storage_key="contracts/scan-1",
    )  # fmt: skip
    with pytest.raises(DocumentLocked):
        attach()
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "contract", contract_id))
    assert request is not None
    withdraw_request(crm, actor, request.id)
    assert [a.name for a in attach().attachments] == ["盖章件.pdf"]


def test_replacing_the_callbacks_of_a_document_type_keeps_its_documents_locked(
    crm: Crm, actor: Actor
) -> None:
    from crmkit.pipeline.services import terminate_contract
    from crmkit.rules.approvals import register_approvable

    _entity, contract_id = contract_in_review(crm, actor)
    register_approvable("contract")  # a host's own callbacks, naming no entity
    try:
        with pytest.raises(DocumentLocked):
            terminate_contract(crm, actor, contract_id, "客户违约")
    finally:
        register_pipeline_hooks()
