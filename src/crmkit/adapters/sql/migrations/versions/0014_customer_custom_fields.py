"""customers: custom field definitions and the custom values column

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-23 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('custom_field_definitions',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entity', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('key', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('label', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('created_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('max_length', sa.BigInteger(), nullable=True),
    sa.Column('minimum', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6), nullable=True),
    sa.Column('maximum', crmkit.adapters.sql.mapping.ExactDecimal(precision=24, scale=6), nullable=True),
    sa.Column('currency', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_custom_field_definitions')),
    sa.UniqueConstraint('tenant_id', 'entity', 'key', name='uq_custom_field_definitions_entity_key')
    )
    with op.batch_alter_table('custom_field_definitions', schema=None) as batch_op:
        batch_op.create_index('ix_custom_field_definitions_entity_position', ['tenant_id', 'entity', 'position'], unique=False)

    # Existing customers have no custom values: an empty JSON object, not NULL.
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custom', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('custom')

    with op.batch_alter_table('custom_field_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_custom_field_definitions_entity_position')

    op.drop_table('custom_field_definitions')
