"""billing: resubmitted credit overrides, refunds drawing on several receipts, expense
claim lines as rows (for expense analysis in SQL), ledger entries by refund

Revision ID: 0016
Revises: 0006
Create Date: 2026-11-23 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0016'
down_revision = '0006'
branch_labels = None
depends_on = None


def _backfill_expense_lines() -> None:
    # Claims drafted before this revision get their line rows, built by the same model
    # function the service uses, so the analysis counts old and new claims alike.
    from crmkit.billing.model.expenses import ClaimLine, ExpenseLine, claim_line_id
    from crmkit.kernel.converter import structure

    claims = sa.table(
        'billing_expense_claims',
        sa.column('tenant_id', sa.Uuid()),
        sa.column('id', sa.Uuid()),
        sa.column('lines', sa.JSON()),
    )
    lines = sa.table(
        'billing_expense_lines',
        sa.column('tenant_id', sa.Uuid()),
        sa.column('id', sa.Uuid()),
        sa.column('claim_id', sa.Uuid()),
        sa.column('line_no', sa.BigInteger()),
        sa.column('category', sa.String()),
        sa.column('amount_amount', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6)),
        sa.column('amount_currency', sa.String(length=3)),
        sa.column('spent_on', sa.Date()),
        sa.column('customer_id', sa.Uuid()),
        sa.column('opportunity_id', sa.Uuid()),
        sa.column('version', sa.BigInteger()),
    )
    connection = op.get_bind()
    for tenant_id, claim_id, stored in connection.execute(
        sa.select(claims.c.tenant_id, claims.c.id, claims.c.lines)
    ).all():
        for n, line in enumerate(structure(stored, tuple[ExpenseLine, ...]), start=1):
            row = ClaimLine(
                id=claim_line_id(claim_id, n),
                tenant_id=tenant_id,
                claim_id=claim_id,
                line_no=n,
                category=line.category,
                amount=line.amount,
                spent_on=line.spent_on,
                customer_id=line.customer_id,
                opportunity_id=line.opportunity_id,
            )
            connection.execute(
                lines.insert().values(
                    tenant_id=row.tenant_id,
                    id=row.id,
                    claim_id=row.claim_id,
                    line_no=row.line_no,
                    category=row.category,
                    amount_amount=row.amount.amount,
                    amount_currency=row.amount.currency,
                    spent_on=row.spent_on,
                    customer_id=row.customer_id,
                    opportunity_id=row.opportunity_id,
                    version=1,
                )
            )


def upgrade() -> None:
    op.create_table('billing_credit_overrides',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('document_type', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('round', sa.BigInteger(), nullable=False),
    sa.Column('amount_amount', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6), nullable=False),
    sa.Column('amount_currency', sa.String(length=3), nullable=False),
    sa.Column('reason', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('exposure_amount', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6), nullable=False),
    sa.Column('exposure_currency', sa.String(length=3), nullable=False),
    sa.Column('previous_request_id', sa.Uuid(), nullable=False),
    sa.Column('requested_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('limit_amount', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6), nullable=True),
    sa.Column('limit_currency', sa.String(length=3), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_billing_credit_overrides'))
    )
    with op.batch_alter_table('billing_credit_overrides', schema=None) as batch_op:
        batch_op.create_index('ix_billing_credit_overrides_document_id', ['tenant_id', 'document_id'], unique=False)

    op.create_table('billing_expense_lines',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('claim_id', sa.Uuid(), nullable=False),
    sa.Column('line_no', sa.BigInteger(), nullable=False),
    sa.Column('category', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('amount_amount', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6), nullable=False),
    sa.Column('amount_currency', sa.String(length=3), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('opportunity_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_billing_expense_lines'))
    )
    with op.batch_alter_table('billing_expense_lines', schema=None) as batch_op:
        batch_op.create_index('ix_billing_expense_lines_claim_id', ['tenant_id', 'claim_id'], unique=False)
        batch_op.create_index('ix_billing_expense_lines_spent_on', ['tenant_id', 'spent_on'], unique=False)

    with op.batch_alter_table('billing_ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_billing_ledger_entries_refund_id', ['tenant_id', 'refund_id'], unique=False)

    # Refunds stored before this revision drew on one receipt: '[]' reads back as that
    # one part (Refund fills it in from receipt_id and amount).
    with op.batch_alter_table('billing_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sources', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    _backfill_expense_lines()


def downgrade() -> None:
    with op.batch_alter_table('billing_refunds', schema=None) as batch_op:
        batch_op.drop_column('sources')

    with op.batch_alter_table('billing_ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_ledger_entries_refund_id')

    with op.batch_alter_table('billing_expense_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_expense_lines_spent_on')
        batch_op.drop_index('ix_billing_expense_lines_claim_id')

    op.drop_table('billing_expense_lines')
    with op.batch_alter_table('billing_credit_overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_credit_overrides_document_id')

    op.drop_table('billing_credit_overrides')
