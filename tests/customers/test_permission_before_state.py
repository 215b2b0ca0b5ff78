"""A refusal tells a caller nothing about a customer they may not reach.

The pool, the recycle bin and the change history each have a state of their own; a
caller outside the customer's reach is refused (or told it does not exist) before any
of it is looked at.
"""

from __future__ import annotations

import uuid

import pytest

from crmkit import Crm, NotFound, PermissionDenied
from crmkit.customers import (
    NotInPool,
    assign_customer,
    auto_assign_customer,
    claim_customer,
    customer_history,
    purge_customer,
    register_customer,
    restore_customer,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from tests.customers.team import make_team


def test_a_colleagues_customer_is_refused_before_its_pool_state(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)
    owned = register_customer(crm, team.li, name="李娜的客户")
    with pytest.raises(PermissionDenied):
        claim_customer(crm, team.wang, owned.id)
    with pytest.raises(NotInPool):  # the owner may see it, so may be told
        claim_customer(crm, team.li, owned.id)
    with pytest.raises(NotInPool):  # the manager sees the team's customers
        assign_customer(crm, team.manager, owned.id, team.wang.user_id)
    with pytest.raises(NotInPool):
        auto_assign_customer(crm, team.manager, owned.id)
    outsider = register_customer(crm, actor, name="管理员的客户")
    with pytest.raises(PermissionDenied):  # beyond the manager's team
        assign_customer(crm, team.manager, outsider.id, team.wang.user_id)
    with pytest.raises(PermissionDenied):
        auto_assign_customer(crm, team.manager, outsider.id)


def test_the_recycle_bin_state_is_not_told_to_who_may_not_restore(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)
    live = register_customer(crm, team.li, name="未删除的客户")
    for act in (restore_customer, purge_customer):
        with pytest.raises(PermissionDenied):
            act(crm, team.wang, live.id)
    with pytest.raises(ValidationError):  # the manager may restore: "not in the bin"
        restore_customer(crm, team.manager, live.id)


def test_the_history_of_an_unknown_id_is_not_found_even_for_an_administrator(
    crm: Crm, actor: Actor
) -> None:
    with pytest.raises(NotFound):
        customer_history(crm, actor, uuid.uuid4())
    registered = register_customer(crm, actor, name="有历史的客户")
    assert customer_history(crm, actor, registered.id) != []
