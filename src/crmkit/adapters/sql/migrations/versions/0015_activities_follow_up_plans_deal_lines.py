"""pipeline: activities, follow-up plans, opportunity product lines, commission category rates

Merges the two pipeline chains (0008: opportunities' branch, 0013: commission plans').

Revision ID: 0015
Revises: 0008, 0013
Create Date: 2026-11-23 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0015'
down_revision = ('0008', '0013')
branch_labels = None
depends_on = None


def _add_json_list(table: str, column: str) -> None:
    # Existing rows get an empty list (no lines, no category rates), then the column
    # becomes NOT NULL like the mapping says.
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.JSON(), nullable=True))
    rows = sa.table(table, sa.column(column, sa.JSON()))
    op.get_bind().execute(rows.update().values({column: []}))
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.JSON(), nullable=False)


def upgrade() -> None:
    op.create_table('activities',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('occurred_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('opportunity_id', sa.Uuid(), nullable=True),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('body', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('duration_minutes', sa.BigInteger(), nullable=True),
    sa.Column('outcome', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_customer_id_occurred_at', ['tenant_id', 'customer_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_activities_kind_occurred_at', ['tenant_id', 'kind', 'occurred_at'], unique=False)
        batch_op.create_index('ix_activities_lead_id_occurred_at', ['tenant_id', 'lead_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_activities_opportunity_id_occurred_at', ['tenant_id', 'opportunity_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_activities_owner_id_kind_occurred_at', ['tenant_id', 'owner_id', 'kind', 'occurred_at'], unique=False)

    op.create_table('follow_up_plans',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('due_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=False),
    sa.Column('timezone', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('opportunity_id', sa.Uuid(), nullable=True),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('notes', crmkit.adapters.sql.mapping.text_type(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('activity_id', sa.Uuid(), nullable=True),
    sa.Column('closed_at', crmkit.adapters.sql.mapping.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', crmkit.adapters.sql.mapping.text_type(), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_follow_up_plans'))
    )
    with op.batch_alter_table('follow_up_plans', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_plans_assignee_id_state_due_at', ['tenant_id', 'assignee_id', 'state', 'due_at'], unique=False)
        batch_op.create_index('ix_follow_up_plans_customer_id', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_follow_up_plans_opportunity_id', ['tenant_id', 'opportunity_id'], unique=False)
        batch_op.create_index('ix_follow_up_plans_state_due_at', ['tenant_id', 'state', 'due_at'], unique=False)
        batch_op.create_index('ix_follow_up_plans_state_due_on', ['tenant_id', 'state', 'due_on'], unique=False)

    _add_json_list('commission_plans', 'category_rates')
    _add_json_list('opportunities', 'lines')


def downgrade() -> None:
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_column('lines')
    with op.batch_alter_table('commission_plans', schema=None) as batch_op:
        batch_op.drop_column('category_rates')

    with op.batch_alter_table('follow_up_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_plans_state_due_on')
        batch_op.drop_index('ix_follow_up_plans_state_due_at')
        batch_op.drop_index('ix_follow_up_plans_opportunity_id')
        batch_op.drop_index('ix_follow_up_plans_customer_id')
        batch_op.drop_index('ix_follow_up_plans_assignee_id_state_due_at')
    op.drop_table('follow_up_plans')

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_owner_id_kind_occurred_at')
        batch_op.drop_index('ix_activities_opportunity_id_occurred_at')
        batch_op.drop_index('ix_activities_lead_id_occurred_at')
        batch_op.drop_index('ix_activities_kind_occurred_at')
        batch_op.drop_index('ix_activities_customer_id_occurred_at')
    op.drop_table('activities')
