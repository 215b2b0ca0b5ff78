"""pipeline: pinyin search keys and name indexes on leads and opportunities

Revision ID: 0018
Revises: 0015
Create Date: 2026-11-23 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0018'
down_revision = '0015'
branch_labels = None
depends_on = None

_TEXT = crmkit.adapters.sql.mapping.text_type


def _backfill() -> None:
    # Existing rows get the keys the models derive, computed by the same function, so a
    # lead or deal entered before this revision is found by the search box like a new one.
    from crmkit.customers.model.search_keys import search_keys

    connection = op.get_bind()
    for name, columns in (('leads', ('name', 'company')), ('opportunities', ('name',))):
        table = sa.table(
            name,
            sa.column('tenant_id', sa.Uuid()),
            sa.column('id', sa.Uuid()),
            *(sa.column(c, sa.String()) for c in columns),
            sa.column('pinyin_full', sa.String()),
            sa.column('pinyin_initials', sa.String()),
        )
        rows = connection.execute(
            sa.select(table.c.tenant_id, table.c.id, *(table.c[c] for c in columns))
        ).all()
        for row in rows:
            company = (getattr(row, 'company', None) or '').strip()
            keys = search_keys(company or row.name.strip(), person=name == 'leads' and not company)
            connection.execute(
                table.update()
                .where(table.c.tenant_id == row.tenant_id, table.c.id == row.id)
                .values(pinyin_full=keys.pinyin_full, pinyin_initials=keys.pinyin_initials)
            )


def upgrade() -> None:
    for name in ('leads', 'opportunities'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('pinyin_full', _TEXT(), nullable=True))
            batch_op.add_column(sa.Column('pinyin_initials', _TEXT(), nullable=True))
    _backfill()
    for name in ('leads', 'opportunities'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('pinyin_full', existing_type=_TEXT(), nullable=False)
            batch_op.alter_column('pinyin_initials', existing_type=_TEXT(), nullable=False)
            batch_op.create_index(f'ix_{name}_name', ['tenant_id', 'name'], unique=False)
            batch_op.create_index(f'ix_{name}_pinyin_full', ['tenant_id', 'pinyin_full'], unique=False)
            batch_op.create_index(
                f'ix_{name}_pinyin_initials', ['tenant_id', 'pinyin_initials'], unique=False
            )


def downgrade() -> None:
    for name in ('leads', 'opportunities'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_pinyin_initials')
            batch_op.drop_index(f'ix_{name}_pinyin_full')
            batch_op.drop_index(f'ix_{name}_name')
            batch_op.drop_column('pinyin_initials')
            batch_op.drop_column('pinyin_full')
