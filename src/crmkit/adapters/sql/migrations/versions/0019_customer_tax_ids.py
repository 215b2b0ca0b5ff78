"""customers: tax id (unified social credit code) and its country

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-23 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_country', crmkit.adapters.sql.mapping.text_type(), nullable=True))
        batch_op.add_column(sa.Column('tax_id', crmkit.adapters.sql.mapping.text_type(), nullable=True))
        batch_op.create_index('ix_customers_tax_id', ['tenant_id', 'tax_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_tax_id')
        batch_op.drop_column('tax_id')
        batch_op.drop_column('tax_country')
