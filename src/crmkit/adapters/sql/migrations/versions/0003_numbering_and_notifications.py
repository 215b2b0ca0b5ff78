"""numbering rules and counters, notification deliveries, in-app inbox

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 10:29:17.933128
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0003'
down_revision = '0001'
branch_labels = ('workflow',)
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_items',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recipient_id', sa.Uuid(), nullable=False),
    sa.Column('subject', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('body', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('received_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('event_type', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('read_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_inbox_items'))
    )
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_items_recipient_id_read_at', ['tenant_id', 'recipient_id', 'read_at'], unique=False)
        batch_op.create_index('ix_inbox_items_recipient_id_received_at', ['tenant_id', 'recipient_id', 'received_at'], unique=False)

    op.create_table('notification_deliveries',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('channel', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('recipient', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('subject', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('body', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('created_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.BigInteger(), nullable=False),
    sa.Column('claimed_until', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('delivered_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notification_deliveries'))
    )
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_notification_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notification_deliveries_state_created_at', ['tenant_id', 'state', 'created_at'], unique=False)

    op.create_table('number_counters',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('doc_type', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('period', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_number_counters'))
    )
    op.create_table('numbering_rules',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('doc_type', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('reset', sa.String(length=64), nullable=False),
    sa.Column('pattern', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('timezone', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_numbering_rules')),
    sa.UniqueConstraint('tenant_id', 'doc_type', name='uq_numbering_rules_doc_type')
    )


def downgrade() -> None:
    op.drop_table('numbering_rules')
    op.drop_table('number_counters')
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_deliveries_state_created_at')
        batch_op.drop_index('ix_notification_deliveries_due')

    op.drop_table('notification_deliveries')
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_items_recipient_id_received_at')
        batch_op.drop_index('ix_inbox_items_recipient_id_read_at')

    op.drop_table('inbox_items')
