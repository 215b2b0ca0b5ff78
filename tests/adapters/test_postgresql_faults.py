"""Concurrency and failure behaviour proven on a real PostgreSQL with real connections."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from crmkit import Crm
from crmkit.kernel.errors import TransientStorageError
from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def test_retries_are_bounded(make_crm: Callable[[], Crm], tenant: TenantId) -> None:
    crm = make_crm()
    crm.max_attempts = 3
    crm.sleep = lambda _: None
    calls = []

    def always_aborted(uow: UnitOfWork) -> None:
        calls.append(1)
        uow.execute(sa.text("SELECT 1"))  # type: ignore[attr-defined]
        # Ask PostgreSQL itself to abort this transaction as a serialization failure would.
        uow.execute(  # type: ignore[attr-defined]
            sa.text(
                "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$"
            )
        )

    with pytest.raises(TransientStorageError) as raised:
        crm.run(tenant, always_aborted)
    assert len(calls) == 3
    assert raised.value.attempts == 3
