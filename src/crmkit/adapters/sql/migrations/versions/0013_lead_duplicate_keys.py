"""pipeline: duplicate keys on leads (normalised name, caller-ID phone, lower-case email)

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-23 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def _backfill() -> None:
    # Existing leads get the keys the model derives, computed by the same functions, so a
    # lead entered before this revision is found by the duplicate check like a new one.
    from crmkit.customers.model.phones import phone_key
    from crmkit.pipeline.model.leads import email_key, lead_name_key

    leads = sa.table(
        'leads',
        sa.column('tenant_id', sa.Uuid()),
        sa.column('id', sa.Uuid()),
        sa.column('name', sa.String()),
        sa.column('company', sa.String()),
        sa.column('phone', sa.String()),
        sa.column('email', sa.String()),
        sa.column('name_key', sa.String()),
        sa.column('phone_key', sa.String()),
        sa.column('email_key', sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(leads.c.tenant_id, leads.c.id, leads.c.name, leads.c.company, leads.c.phone, leads.c.email)
    ).all()
    for row in rows:
        connection.execute(
            leads.update()
            .where(leads.c.tenant_id == row.tenant_id, leads.c.id == row.id)
            .values(
                name_key=lead_name_key(row.name, row.company),
                phone_key=phone_key(row.phone),
                email_key=email_key(row.email),
            )
        )


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', crmkit.adapters.sql.mapping.text_type(), nullable=True))
        batch_op.add_column(sa.Column('phone_key', crmkit.adapters.sql.mapping.text_type(), nullable=True))
        batch_op.add_column(sa.Column('email_key', crmkit.adapters.sql.mapping.text_type(), nullable=True))
    _backfill()
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=crmkit.adapters.sql.mapping.text_type(), nullable=False)
        batch_op.create_index('ix_leads_name_key', ['tenant_id', 'name_key'], unique=False)
        batch_op.create_index('ix_leads_phone_key', ['tenant_id', 'phone_key'], unique=False)
        batch_op.create_index('ix_leads_email_key', ['tenant_id', 'email_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_email_key')
        batch_op.drop_index('ix_leads_phone_key')
        batch_op.drop_index('ix_leads_name_key')
        batch_op.drop_column('email_key')
        batch_op.drop_column('phone_key')
        batch_op.drop_column('name_key')
