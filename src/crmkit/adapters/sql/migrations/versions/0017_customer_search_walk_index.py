"""customers: search indexes (the pinyin-order index carries the initials; contact names)

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-23 12:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_customers_pinyin_full', table_name='customers')
    op.create_index(
        'ix_customers_pinyin_full_pinyin_initials',
        'customers',
        ['tenant_id', 'pinyin_full', 'pinyin_initials'],
        unique=False,
    )
    op.create_index(
        'ix_customer_contacts_name', 'customer_contacts', ['tenant_id', 'name'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_customer_contacts_name', table_name='customer_contacts')
    op.drop_index('ix_customers_pinyin_full_pinyin_initials', table_name='customers')
    op.create_index('ix_customers_pinyin_full', 'customers', ['tenant_id', 'pinyin_full'], unique=False)
