"""customers: merge records (what each merge moved, so it can be undone)

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-23 10:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_merges',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('survivor_id', sa.Uuid(), nullable=False),
    sa.Column('merged_ids', sa.JSON(), nullable=False),
    sa.Column('merged_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('merged_by', sa.Uuid(), nullable=True),
    sa.Column('fields_before', sa.JSON(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('undone_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.Uuid(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_merges'))
    )
    with op.batch_alter_table('customer_merges', schema=None) as batch_op:
        batch_op.create_index('ix_customer_merges_survivor_id_merged_at', ['tenant_id', 'survivor_id', 'merged_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_merges', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_merges_survivor_id_merged_at')

    op.drop_table('customer_merges')
