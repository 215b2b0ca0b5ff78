"""Input-handling defects the generated boundary test (``test_boundary_all.py``) found,
each pinned on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.query import Query
from crmkit.rules.notifications import inbox
from crmkit.rules.permissions import list_denials


@pytest.mark.parametrize("page", [{"limit": 2**63}, {"offset": 10**30}])
def test_a_page_past_64_bits_is_refused_as_it_is_built(page: dict[str, Any]) -> None:
    # SQLite raised OverflowError binding it; memory answered; now one error everywhere.
    with pytest.raises(ValidationError) as caught:
        Query(**page)
    assert caught.value.field == next(iter(page))


@pytest.mark.parametrize("service", [inbox, list_denials])
@pytest.mark.parametrize("page", [{"limit": 2**63}, {"offset": 10**30}])
def test_a_listing_refuses_a_page_past_64_bits_on_every_backend(
    crm: Crm, actor: Actor, service: Any, page: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as caught:
        service(crm, actor, **page)
    assert caught.value.field == next(iter(page))
