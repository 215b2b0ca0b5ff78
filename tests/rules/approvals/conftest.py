"""Approval tests act in a tenant administered by the test org's manager."""

from __future__ import annotations

import pytest

from crmkit.kernel.ids import TenantId
from tests.rules.approvals.builders import manager_id


@pytest.fixture(autouse=True)
def _manager_administers_the_tenant(request: pytest.FixtureRequest, tenant: TenantId) -> None:
    # Defining flows is administration; the org's manager is the tenant's administrator.
    if "crm" in request.fixturenames or "make_crm" in request.fixturenames:
        from crmkit.rules.permissions import bootstrap_tenant

        crm = (
            request.getfixturevalue("crm")
            if "crm" in request.fixturenames
            else request.getfixturevalue("make_crm")()
        )
        bootstrap_tenant(crm, tenant, manager_id(tenant), "王经理")
