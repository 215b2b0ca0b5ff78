"""customers: search keys of people whose surname reads otherwise (乜 nie, 佴 nai, 么 yao ...)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# The surnames this revision gave their surname reading. People whose name opens with
# one were keyed with the character's common reading (乜 mie): their keys are rebuilt.
_SURNAMES = '乜佴么六卜粘扎不浣贠貟蔚宓能炅洗便番颉角蕃'


def _refresh(table_name: str, *, person_when: str | None, letter: bool) -> None:
    from crmkit.customers.model.search_keys import search_keys

    connection = op.get_bind()
    columns = {c['name'] for c in sa.inspect(connection).get_columns(table_name)}
    if not {'pinyin_full', 'pinyin_initials'} <= columns:
        return  # the branch adding the keys has not run yet; it builds them right
    names = ('name', 'kind', 'company')
    table = sa.table(
        table_name,
        sa.column('tenant_id', sa.Uuid()),
        sa.column('id', sa.Uuid()),
        *(sa.column(c, sa.String()) for c in names if c in columns),
        sa.column('pinyin_full', sa.String()),
        sa.column('pinyin_initials', sa.String()),
        *(sa.column(c, sa.String()) for c in ('letter',) if letter),
    )
    opens = sa.or_(*(table.c.name.like(f'{ch}%') for ch in _SURNAMES))
    query = sa.select(table).where(opens)
    if person_when == 'individual':
        query = query.where(table.c.kind == 'individual')
    elif person_when == 'no company':
        query = query.where(sa.or_(table.c.company.is_(None), table.c.company == ''))
    for row in connection.execute(query).all():
        keys = search_keys(row.name.strip(), person=True)
        values = {'pinyin_full': keys.pinyin_full, 'pinyin_initials': keys.pinyin_initials}
        if letter:
            values['letter'] = keys.letter
        connection.execute(
            table.update()
            .where(table.c.tenant_id == row.tenant_id, table.c.id == row.id)
            .values(**values)
        )


def upgrade() -> None:
    _refresh('customers', person_when='individual', letter=True)
    _refresh('customer_contacts', person_when=None, letter=False)
    if sa.inspect(op.get_bind()).has_table('leads'):
        _refresh('leads', person_when='no company', letter=False)


def downgrade() -> None:
    # The old keys were wrong readings: nothing to restore.
    pass
