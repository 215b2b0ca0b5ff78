"""customers: contacts' birthday_md in the MMDD form yearly reminder rules look for

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_CONTACTS = sa.table('customer_contacts', sa.column('birthday_md', sa.String()))


def upgrade() -> None:
    # Contacts stored "03-14" while the yearly scan looks for "0314" (month_day_key), so
    # no birthday reminder ever fired. Only the dash goes; the index stays as it is.
    op.execute(
        _CONTACTS.update()
        .where(_CONTACTS.c.birthday_md.like('__-__'))
        .values(birthday_md=sa.func.replace(_CONTACTS.c.birthday_md, '-', ''))
    )


def downgrade() -> None:
    op.execute(
        _CONTACTS.update()
        .where(sa.func.length(_CONTACTS.c.birthday_md) == 4)
        .values(
            birthday_md=sa.func.substr(_CONTACTS.c.birthday_md, 1, 2, type_=sa.String())
            .concat('-')
            .concat(sa.func.substr(_CONTACTS.c.birthday_md, 3, 2, type_=sa.String()))
        )
    )
