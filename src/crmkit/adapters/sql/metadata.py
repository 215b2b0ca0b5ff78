"""The one ``MetaData`` every crmkit table is defined on.

A leaf: it imports nothing of crmkit, so an area's table module and the
migrations can import it without pulling in the other areas. The full schema
(every area's tables on this ``MetaData``) is assembled in
:mod:`crmkit.adapters.sql.tables`; import that module, not this one, when you need
all of it.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
