"""Revision 0016 gives expense claims drafted before it their line rows, so the SQL
expense analysis counts old claims like new ones; old refunds read back with one part."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from crmkit.adapters.sql.engine import create_engine
from crmkit.adapters.sql.migrate import upgrade
from crmkit.adapters.sql.tables import mapping_for
from crmkit.billing.model.expenses import ClaimLine, ExpenseClaim, ExpenseLine, claim_line_id
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money


def test_upgrading_writes_the_line_rows_of_existing_claims(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0006")  # the billing branch as it was before 0016
    claim = ExpenseClaim(
        id=uuid.uuid4(),  # type: ignore[arg-type]
        tenant_id=TenantId(uuid.uuid4()),
        claimant_id=UserId(uuid.uuid4()),
        lines=[
            ExpenseLine(
                "meals", Money("120.50", "CNY"), date(2026, 2, 1), customer_id=uuid.uuid4()
            ),
            ExpenseLine("travel", Money("880", "CNY"), date(2026, 2, 3)),
        ],
        created_at=datetime(2026, 2, 4, tzinfo=UTC),
    )
    claims = mapping_for(ExpenseClaim)
    row = claims.to_row(claim)
    row["version"] = 1
    with engine.begin() as conn:
        conn.execute(claims.table.insert(), [row])
    upgrade(engine)
    lines = mapping_for(ClaimLine)
    with engine.connect() as conn:
        stored = [lines.from_row(r) for r in conn.execute(sa.select(lines.table))]
    assert sorted((s.line_no, s.category, s.amount) for s in stored) == [
        (1, "meals", Money("120.50", "CNY")),
        (2, "travel", Money("880", "CNY")),
    ]
    assert {s.id for s in stored} == {claim_line_id(claim.id, 1), claim_line_id(claim.id, 2)}
    assert stored[0].tenant_id == claim.tenant_id
