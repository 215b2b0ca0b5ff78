"""customers: a caller-ID key for each of a contact's phones, not the first one only

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmkit.adapters.sql.mapping


revision = '0026'
down_revision = '0021'
branch_labels = None
depends_on = None

# The slots as this revision made them; the model's PHONE_KEY_FIELDS may grow later.
_SLOTS = ('phone_key_2', 'phone_key_3', 'phone_key_4', 'phone_key_5')


def _backfill() -> None:
    # Contacts entered before this revision get the keys the model derives, computed by
    # the same function, so a call from their second phone finds them like a new contact.
    from crmkit.customers.model.phones import phone_key

    contacts = sa.table(
        'customer_contacts',
        sa.column('tenant_id', sa.Uuid()),
        sa.column('id', sa.Uuid()),
        sa.column('phones', sa.JSON()),
        *(sa.column(slot, sa.String()) for slot in _SLOTS),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(contacts.c.tenant_id, contacts.c.id, contacts.c.phones)
    ).all()
    for row in rows:
        # The first phone is keyed in phone_key already; the rest fill the new slots.
        others = list(row.phones or ())[1 : len(_SLOTS) + 1]
        values = {slot: phone_key(number) for slot, number in zip(_SLOTS, others)}
        if any(values.values()):
            connection.execute(
                contacts.update()
                .where(contacts.c.tenant_id == row.tenant_id, contacts.c.id == row.id)
                .values(**values)
            )


def upgrade() -> None:
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        for slot in _SLOTS:
            batch_op.add_column(sa.Column(slot, crmkit.adapters.sql.mapping.text_type(), nullable=True))
    _backfill()
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        for slot in _SLOTS:
            batch_op.create_index(f'ix_customer_contacts_{slot}', ['tenant_id', slot], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        for slot in reversed(_SLOTS):
            batch_op.drop_index(f'ix_customer_contacts_{slot}')
            batch_op.drop_column(slot)
