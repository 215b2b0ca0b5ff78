"""customers: contacts, relations, public pool, change history, recycle bin

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-23 10:35:34.567475
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0010'
down_revision = '0001'
branch_labels = ('customers',)
depends_on = None


def upgrade() -> None:
    op.create_table('customer_assignment_rules',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('region', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('industry', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('priority', sa.BigInteger(), nullable=False),
    sa.Column('cursor', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_assignment_rules'))
    )
    with op.batch_alter_table('customer_assignment_rules', schema=None) as batch_op:
        batch_op.create_index('ix_customer_assignment_rules_priority', ['tenant_id', 'priority'], unique=False)

    op.create_table('customer_contacts',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('name', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('created_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('title', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('phones', sa.JSON(), nullable=False),
    sa.Column('email', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('wechat', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('qq', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('im', sa.JSON(), nullable=False),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('primary', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('notes', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('deleted_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('pinyin_full', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('pinyin_initials', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('phone_key', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('birthday_md', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_contacts'))
    )
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_customer_contacts_birthday_md', ['tenant_id', 'birthday_md'], unique=False)
        batch_op.create_index('ix_customer_contacts_customer_id', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_customer_contacts_owner_id', ['tenant_id', 'owner_id'], unique=False)
        batch_op.create_index('ix_customer_contacts_phone_key', ['tenant_id', 'phone_key'], unique=False)
        batch_op.create_index('ix_customer_contacts_pinyin_full', ['tenant_id', 'pinyin_full'], unique=False)
        batch_op.create_index('ix_customer_contacts_pinyin_initials', ['tenant_id', 'pinyin_initials'], unique=False)

    op.create_table('customer_history',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('action', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('field', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('old_value', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('new_value', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('changed_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_history'))
    )
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.create_index('ix_customer_history_customer_id_changed_at', ['tenant_id', 'customer_id', 'changed_at'], unique=False)
        batch_op.create_index('ix_customer_history_user_id_changed_at', ['tenant_id', 'user_id', 'changed_at'], unique=False)

    op.create_table('customer_holdings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('acquisitions', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_holdings'))
    )
    op.create_table('customer_pool_policies',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('protection_days', sa.BigInteger(), nullable=True),
    sa.Column('deal_days', sa.BigInteger(), nullable=True),
    sa.Column('cooldown_days', sa.BigInteger(), nullable=True),
    sa.Column('holding_limit', sa.BigInteger(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_pool_policies'))
    )
    op.create_table('customer_relations',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('from_id', sa.Uuid(), nullable=False),
    sa.Column('to_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('created_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('note', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customer_relations'))
    )
    with op.batch_alter_table('customer_relations', schema=None) as batch_op:
        batch_op.create_index('ix_customer_relations_from_id_kind', ['tenant_id', 'from_id', 'kind'], unique=False)
        batch_op.create_index('ix_customer_relations_to_id_kind', ['tenant_id', 'to_id', 'kind'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        # Existing rows get no addresses and the pool state their owner implies.
        batch_op.add_column(sa.Column('addresses', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('pool_state', sa.String(length=64), nullable=False, server_default='claimed'))
        batch_op.add_column(sa.Column('owned_since', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('returned_from', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('returned_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_from', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('won_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_by', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_customers_deleted_at', ['tenant_id', 'deleted_at'], unique=False)
        batch_op.create_index('ix_customers_pool_state_owned_since', ['tenant_id', 'pool_state', 'owned_since'], unique=False)
        batch_op.create_index('ix_customers_pool_state_owner_id', ['tenant_id', 'pool_state', 'owner_id'], unique=False)

    op.execute("UPDATE customers SET pool_state = 'in_pool' WHERE owner_id IS NULL")
    op.execute("UPDATE customers SET owned_since = created_at WHERE owner_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_pool_state_owner_id')
        batch_op.drop_index('ix_customers_pool_state_owned_since')
        batch_op.drop_index('ix_customers_deleted_at')
        batch_op.drop_column('deleted_by')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('won_at')
        batch_op.drop_column('closed_from')
        batch_op.drop_column('returned_at')
        batch_op.drop_column('returned_from')
        batch_op.drop_column('owned_since')
        batch_op.drop_column('pool_state')
        batch_op.drop_column('addresses')

    with op.batch_alter_table('customer_relations', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_relations_to_id_kind')
        batch_op.drop_index('ix_customer_relations_from_id_kind')

    op.drop_table('customer_relations')
    op.drop_table('customer_pool_policies')
    op.drop_table('customer_holdings')
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_history_user_id_changed_at')
        batch_op.drop_index('ix_customer_history_customer_id_changed_at')

    op.drop_table('customer_history')
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_contacts_pinyin_initials')
        batch_op.drop_index('ix_customer_contacts_pinyin_full')
        batch_op.drop_index('ix_customer_contacts_phone_key')
        batch_op.drop_index('ix_customer_contacts_owner_id')
        batch_op.drop_index('ix_customer_contacts_customer_id')
        batch_op.drop_index('ix_customer_contacts_birthday_md')

    op.drop_table('customer_contacts')
    with op.batch_alter_table('customer_assignment_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_assignment_rules_priority')

    op.drop_table('customer_assignment_rules')
