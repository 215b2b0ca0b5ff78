"""Export any customer query to a spreadsheet, within the actor's permissions.

:func:`export_customers` returns header + text rows; the host turns them into a file
with :func:`crmkit.adapters.tabular.write_table` (CSV or XLSX), which neutralises
formula-like values. The rows use the import format (:mod:`crmkit.customers.model.transfer`),
so an export edited in Excel imports back.

Two permission rules apply. **Data scope**: the actor needs ``export`` on customers,
and only the records the ``export`` grant reaches are written — the narrowing is part
of the query, so it runs in the database. **Field level**: columns of fields hidden
from the actor are left out entirely (not emptied), and filtering or sorting on a
hidden field is refused, since the order or the selection would leak its values.

Custom fields export like built-in ones: a column per active field the actor may see,
headed by the field's label, after the built-in columns.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.cells import export_cells, export_columns, zone_of
from crmkit.customers.model.custom_fields import CustomFieldDefinition
from crmkit.customers.model.transfer import DEFAULT_TIMEZONE, custom_columns, template_headers
from crmkit.customers.queries._readers import (
    RESOURCE,
    customer_reader,
    definitions_of,
    readable_where,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import current_locale, use_locale
from crmkit.kernel.query import Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import Member, grants_for, guarded

__all__ = ["Sheet", "export_customers", "import_template"]


@attrs.frozen
class Sheet:
    """A header row and text rows, ready for :func:`crmkit.adapters.tabular.write_table`.

    Attributes:
        headers: column headers in the requested locale.
        rows: one tuple of text cells per record.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()


def import_template(
    locale: str | None = None, custom_fields: Iterable[CustomFieldDefinition] = ()
) -> Sheet:
    """The empty import template: every column the importer knows, headed in ``locale``.

    Write it with ``write_table(sheet.headers, sheet.rows, "xlsx")`` for the user to
    download; required columns are marked ``*``.

    Args:
        locale: language of the built-in headers (default: the current locale).
        custom_fields: the custom fields to add a column for, usually
            ``list_custom_fields(crm, actor)`` (active fields the user may see).
    """
    return Sheet(headers=tuple(template_headers(locale, custom_columns(custom_fields))))


def export_customers(
    crm: Crm,
    actor: Actor,
    query: Query | None = None,
    *,
    locale: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Sheet:
    """The customers matching ``query`` that the actor may export, as spreadsheet cells.

    The file reads as one language: headers and values (the kind: 企业 / 企業 /
    Company) follow ``locale``. Dates are days in ``timezone`` (the tenant's, which
    the host knows): ``created_at`` as ``2024-03-05``, ``last_activity_at`` as
    ``2024-03-05 14:30``. The import reads every one of them back.

    Args:
        query: filter, order and page (default: every customer the actor may export).
        locale: language of the headers and values (default: the current locale).
        timezone: the IANA zone dates and times are written in (default Asia/Shanghai).

    Returns:
        Headers (without the fields hidden from the actor) and one row per customer.

    Raises:
        PermissionDenied: the actor may not export customers, or the query filters or
            sorts on a hidden field.
        ValidationError: ``timezone`` is unknown.
    """
    query = query or Query()
    zone_of(timezone)  # an unknown zone is refused before anything is read

    def work(uow: UnitOfWork) -> Sheet:
        grants = grants_for(uow, actor)
        grants.require_operation("export", RESOURCE)
        where = readable_where(uow, grants, query)
        # Customers in the recycle bin are not exported (the reader leaves them out).
        reader = customer_reader(uow, grants, "export")
        found = reader.query(attrs.evolve(query, where=where))
        extra = custom_columns(definitions_of(uow, RESOURCE))
        with use_locale(locale or current_locale()) as chosen:
            columns, headers = export_columns(grants.hidden_fields(RESOURCE), chosen, extra)
        names: dict[object, str] = {}
        if any(c.key == "owner" for c in columns):
            names = {m.id: m.name for m in uow.repository(Member).query() if m.name}
            # Names that two members share would not import back; those show the id.
            counts: dict[str, int] = {}
            for name in names.values():
                counts[name] = counts.get(name, 0) + 1
            names = {k: v for k, v in names.items() if counts[v] == 1}
        rows = tuple(
            tuple(export_cells(c, columns, names, locale=chosen, timezone=timezone)) for c in found
        )
        return Sheet(headers=tuple(headers), rows=rows)

    return guarded(crm, actor, work)
