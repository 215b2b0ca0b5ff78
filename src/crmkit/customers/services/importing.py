"""Import customers from a spreadsheet: dry run, then an all-or-nothing commit.

The host reads the uploaded bytes with :func:`crmkit.adapters.tabular.read_table`
(which refuses oversized, badly encoded or hostile files before parsing) and hands the
table to :func:`import_customers`. Every row is checked — cell formats, the customer
rules, the owner, the actor's permissions, duplicate names and tax ids — and every
problem is collected with its row number, column and reason; columns nobody reads
are listed too, so nothing in the file is ignored without a word. By default a row
matching a stored customer is a problem, so a file imported twice is not stored twice. A dry run returns them in the
report; a real import refuses the whole file with ``ImportRejected`` when there is even
one, so a corrected file can be imported again without creating half of it twice.
A clean file is stored in one transaction with, per customer, one
``CustomerRegistered`` event and one change-history record (action ``import``, who and
when; the record itself holds the imported values, so they are not repeated field by
field — that would write ten history rows per imported customer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.cells import ParsedRow, parse_row, zone_of
from crmkit.customers.model.custom_fields import CUSTOM
from crmkit.customers.model.custom_values import apply_custom
from crmkit.customers.model.customer import Customer, CustomerId
from crmkit.customers.model.dedup import DuplicatePolicy
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.model.identifiers import DEFAULT_TAX_COUNTRY
from crmkit.customers.model.transfer import (
    DEFAULT_CURRENCY,
    DEFAULT_TIMEZONE,
    CellProblem,
    Column,
    TabularData,
    custom_columns,
    map_headers,
    unmapped_columns,
)
from crmkit.customers.queries._readers import RESOURCE, definitions_of
from crmkit.customers.services._common import _registered
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ImportRejected, LimitExceeded, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.limits import to_member
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import Grants, Member, grants_for, guarded

__all__ = ["DuplicateRow", "ImportReport", "import_customers"]

MAX_ROWS = 200_000
_CHUNK = 500  # names per duplicate lookup: well under every database's parameter limit


@attrs.frozen
class DuplicateRow:
    """A row that matches an existing customer or an earlier row of the file.

    Attributes:
        row: the file's row number.
        name: the name in the file.
        existing: ids of stored customers with the same normalised name (or tax id).
        earlier_row: the earlier row of the same file with that name (or tax id), if any.
        field: what matched: ``"name"`` (the normalised name) or ``"tax_id"`` (the
            tax id in the same country, which is always a problem: one tax id is one
            company).
    """

    row: int
    name: str
    existing: tuple[UUID, ...] = ()
    earlier_row: int | None = None
    field: str = "name"


@attrs.frozen
class ImportReport:
    """What an import did, or — for a dry run — would do.

    Attributes:
        dry_run: nothing was stored.
        rows: data rows read.
        problems: every bad cell, sorted by row (a real import never returns problems:
            it raises ``ImportRejected`` instead).
        duplicates: rows matching existing customers or earlier rows, by name or tax
            id (under ``DuplicatePolicy.BLOCK``, the default, they are problems as well;
            under ``WARN`` only a repeated tax id is).
        created: ids of the customers stored (empty for a dry run).
        unmapped: the file's columns that were not read: headers no column matches
            (``成立日期``), or the letter (``D``) of a blank-headed column holding data.
            Columns mapped to ``""`` are not listed.
    """

    dry_run: bool
    rows: int
    problems: tuple[CellProblem, ...] = ()
    duplicates: tuple[DuplicateRow, ...] = ()
    created: tuple[CustomerId, ...] = ()
    unmapped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the file has no problems (a dry run predicts the import succeeds)."""
        return not self.problems


def import_customers(
    crm: Crm,
    actor: Actor,
    table: TabularData,
    *,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    duplicates: DuplicatePolicy = DuplicatePolicy.BLOCK,
    default_currency: str = DEFAULT_CURRENCY,
    timezone: str = DEFAULT_TIMEZONE,
) -> ImportReport:
    """Check a customer file and, unless ``dry_run``, store all of it in one transaction.

    Args:
        table: the file's header and rows (see :func:`crmkit.adapters.tabular.read_table`).
        mapping: explicit ``{header: column key}`` choices overriding header recognition
            (see :data:`crmkit.customers.model.transfer.COLUMNS` for the keys; a custom field
            is named by its key). Custom fields are recognised by label or key.
        dry_run: check everything, store nothing, and return the problems.
        duplicates: what a row matching an existing customer (or an earlier row) does.
            ``BLOCK`` (the default) makes it a problem naming the customer or row, so
            importing a file twice creates nothing the second time; ``WARN`` imports
            rows whose *name* matches and lists them in ``duplicates``; ``ALLOW`` looks
            at nothing. A tax id already held by a live customer of the same country,
            or repeated in the file, is a problem under ``BLOCK`` and ``WARN``: one
            tax id is one company, whatever its name was typed as.
        default_currency: the credit limit's currency when the file has no currency column.
        timezone: the IANA zone the file's dates and times are in (the tenant's;
            default Asia/Shanghai): a date is the start of that day there, a time
            without an offset is a local time.

    Returns:
        The report; ``created`` lists the new customers in file order and
        ``unmapped`` the columns that were not read.

    Raises:
        ImportRejected: (not in a dry run) the file has problems; ``problems`` lists every
            one with row, column and reason, and nothing was stored.
        LimitExceeded: more than 200,000 rows.
        ValidationError: ``timezone`` is unknown.
        PermissionDenied: the actor may not import or create customers, or the file sets
            a field that is read-only or hidden for the actor.
    """
    duplicates = to_member(DuplicatePolicy, duplicates, entity="import", field="duplicates")
    if len(table.rows) > MAX_ROWS:
        raise LimitExceeded(limit="import rows", value=len(table.rows), maximum=MAX_ROWS)
    zone_of(timezone)  # an unknown zone is refused before anything is read
    # The custom fields are read up front so the file is parsed outside the writing
    # transaction; inside it every row is checked again against the definitions then
    # in force, so a field changed in between cannot slip a stale value in.
    extra = custom_columns(crm.run(actor.tenant_id, lambda uow: definitions_of(uow, RESOURCE)))
    columns, header_problems = map_headers(table.headers, mapping, extra)
    named = {str(p.fields["column"]) for p in header_problems}
    unmapped = tuple(
        h for h in unmapped_columns(table.headers, columns, table.rows, mapping) if h not in named
    )
    now = crm.now()
    rows: list[ParsedRow] = []
    problems: list[CellProblem] = list(header_problems)
    if not any(p.fields["field"] == "name" for p in header_problems):
        for number, cells in zip(table.row_numbers, table.rows, strict=True):
            parsed, bad = parse_row(
                number,
                cells,
                columns,
                table.headers,
                default_currency=default_currency,
                timezone=timezone,
            )
            problems.extend(bad)
            if parsed is not None:
                rows.append(parsed)
    header_of = _headers_by_field(columns, table.headers)
    missing = {p.fields["field"] for p in header_problems}
    written = sorted({c.field for c in columns.values()} | {"name"})

    def work(uow: UnitOfWork) -> ImportReport:
        grants = grants_for(uow, actor)
        grants.require_operation("import", RESOURCE)
        grants.require_operation("create", RESOURCE)
        grants.check_writable(RESOURCE, written)
        found = list(problems)
        owners = _Owners(uow, actor)
        definitions = definitions_of(uow, RESOURCE)
        customers: list[Customer] = []
        numbers: list[int] = []
        for parsed in rows:
            try:
                custom = apply_custom(
                    definitions, None, parsed.fields.get(CUSTOM), entity=RESOURCE, creating=True
                )
            except ValidationError as error:
                field = str(error.fields["field"])
                if field not in missing:  # a missing column is reported once, not per row
                    found.append(_problem(parsed.row, header_of, field, error.fields["reason"]))
                continue
            parsed = attrs.evolve(parsed, fields={**parsed.fields, CUSTOM: custom})
            customer = _build(crm, actor, parsed, now, owners, grants, header_of, found)
            if customer is not None:
                customers.append(customer)
                numbers.append(parsed.row)
        dupes = (
            []
            if duplicates is DuplicatePolicy.ALLOW
            else [
                *_duplicates(uow, customers, numbers, header_of["name"], duplicates, found),
                *_tax_duplicates(uow, customers, numbers, header_of, found),
            ]
        )
        dupes.sort(key=lambda d: d.row)
        found.sort(key=lambda p: p.fields["row"])  # stable: a row's cells stay in file order
        report = ImportReport(
            dry_run=dry_run,
            rows=len(table.rows),
            problems=tuple(found),
            duplicates=tuple(dupes),
            unmapped=unmapped,
        )
        if dry_run:
            return report
        if found:
            raise ImportRejected(problems=list[ValidationError](found))
        uow.repository(Customer).add_many(customers)
        uow.repository(ChangeRecord).add_many(
            [
                ChangeRecord(
                    id=crm.ids.new(now),
                    tenant_id=c.tenant_id,
                    customer_id=c.id,
                    action="import",
                    field=None,
                    old_value=None,
                    new_value=None,
                    user_id=actor.user_id,
                    changed_at=now,
                )
                for c in customers
            ]
        )
        uow.outbox.add(*(_registered(c, now) for c in customers))
        return attrs.evolve(report, created=tuple(c.id for c in customers))

    return guarded(crm, actor, work)


def _headers_by_field(columns: Mapping[int, Column], headers: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {"name": "name"}
    for position, column in sorted(columns.items()):
        found.setdefault(column.field, headers[position])
        if column.field == "name":
            found["name"] = headers[position]
    return found


class _Owners:
    """Resolves the owner column: a member's user id or their (unique) name."""

    def __init__(self, uow: UnitOfWork, actor: Actor) -> None:
        self._uow = uow
        self._actor = actor
        self._members: dict[UUID, Member] | None = None
        self._by_name: dict[str, list[Member]] = {}

    def _load(self) -> dict[UUID, Member]:
        if self._members is None:
            members = self._uow.repository(Member).query()
            self._members = {m.id: m for m in members}
            for member in members:
                self._by_name.setdefault(member.name.strip().casefold(), []).append(member)
        return self._members

    def is_inactive(self, user_id: UUID) -> bool:
        member = self._load().get(user_id)
        return member is not None and not member.active

    def department_of(self, user_id: UUID) -> UUID | None:
        member = self._load().get(user_id)
        return None if member is None else member.department_id

    def resolve(self, text: str) -> tuple[UUID | None, Any]:
        """``(user id, None)`` or ``(None, reason)``."""
        members = self._load()
        try:
            user_id = UUID(text)
        except ValueError:
            matches = self._by_name.get(text.strip().casefold(), [])
            if len(matches) == 1:
                return matches[0].id, None
            if matches:
                return None, reason(N_("{value} names several users; use the user id"), value=text)
            return None, reason(N_("{value} is not a user of this tenant"), value=text)
        if user_id not in members and user_id != self._actor.user_id:
            return None, reason(N_("{value} is not a user of this tenant"), value=text)
        return user_id, None


def _build(
    crm: Crm,
    actor: Actor,
    parsed: ParsedRow,
    now: Any,
    owners: _Owners,
    grants: Grants,
    header_of: Mapping[str, str],
    problems: list[CellProblem],
) -> Customer | None:
    fields = dict(parsed.fields)
    owner_id: UUID | None = actor.user_id
    if parsed.owner is not None:
        owner_id, why = owners.resolve(parsed.owner)
        if why is not None:
            problems.append(_problem(parsed.row, header_of, "owner_id", why))
            return None
        if owner_id is not None and owners.is_inactive(owner_id):
            why = reason(N_("{value} is deactivated"), value=parsed.owner)
            problems.append(_problem(parsed.row, header_of, "owner_id", why))
            return None
    fields["owner_id"] = owner_id
    fields["department_id"] = None if owner_id is None else owners.department_of(owner_id)
    fields.setdefault("created_at", now)
    try:
        customer = Customer(id=CustomerId(crm.ids.new(now)), tenant_id=actor.tenant_id, **fields)
    except ValidationError as error:
        field = str(error.fields.get("field"))
        problems.append(_problem(parsed.row, header_of, field, error.fields["reason"]))
        return None
    if owner_id is not None:
        customer.owned_since = now  # the protection period runs from the import
    if not grants.can("create", customer, RESOURCE):
        why = reason(N_("you may not create a customer owned by this user"))
        problems.append(_problem(parsed.row, header_of, "owner_id", why))
        return None
    return customer


def _problem(row: int, header_of: Mapping[str, str], field: str, why: Any) -> CellProblem:
    return CellProblem(row=row, column=header_of.get(field, field), field=field, reason=why)


def _duplicates(
    uow: UnitOfWork,
    customers: Sequence[Customer],
    numbers: Sequence[int],
    name_header: str,
    policy: DuplicatePolicy,
    problems: list[CellProblem],
) -> list[DuplicateRow]:
    # Whole tenant, not the actor's scope: a rep must not import a colleague's customer.
    keys = [c.name_key for c in customers]
    stored: dict[str, list[UUID]] = {}
    distinct = sorted(set(keys))
    repo = uow.repository(Customer)
    for start in range(0, len(distinct), _CHUNK):
        chunk = distinct[start : start + _CHUNK]
        # Customers in the recycle bin do not count, as for register_customer.
        where = F("name_key").is_in(chunk) & F("deleted_at").is_null()
        for match in repo.query(Query(where=where)):
            stored.setdefault(match.name_key, []).append(match.id)
    counts = Counter(keys)
    first_row: dict[str, int] = {}
    found: list[DuplicateRow] = []
    for customer, number in zip(customers, numbers, strict=True):
        key = customer.name_key
        earlier = first_row.setdefault(key, number)
        if key not in stored and counts[key] == 1:
            continue
        duplicate = DuplicateRow(
            row=number,
            name=customer.name,
            existing=tuple(stored.get(key, ())),
            earlier_row=earlier if earlier != number else None,
        )
        if not duplicate.existing and duplicate.earlier_row is None:
            continue  # the first of several equal rows: the later ones are reported
        found.append(duplicate)
        if policy is DuplicatePolicy.BLOCK:
            why = (
                reason(N_("{name} already exists"), name=customer.name)
                if duplicate.existing
                else reason(N_("{name} repeats row {other}"), name=customer.name, other=earlier)
            )
            problems.append(CellProblem(row=number, column=name_header, field="name", reason=why))
    return found


def _tax_duplicates(
    uow: UnitOfWork,
    customers: Sequence[Customer],
    numbers: Sequence[int],
    header_of: Mapping[str, str],
    problems: list[CellProblem],
) -> list[DuplicateRow]:
    # The rule register_customer applies to one entry, applied to a file: a tax id
    # already held by a live customer of the same country, or by an earlier row, is
    # the same company entered twice. Whole tenant, like the name check.
    def country(customer: Customer) -> str:
        return customer.tax_country or DEFAULT_TAX_COUNTRY

    ids = sorted({c.tax_id for c in customers if c.tax_id})
    stored: dict[tuple[str, str], list[UUID]] = {}
    repo = uow.repository(Customer)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        where = F("tax_id").is_in(chunk) & F("deleted_at").is_null()
        for match in repo.query(Query(where=where)):
            assert match.tax_id is not None  # the query matched on it
            stored.setdefault((match.tax_id, country(match)), []).append(match.id)
    first_row: dict[tuple[str, str], int] = {}
    found: list[DuplicateRow] = []
    column = header_of.get("tax_id", "tax_id")
    for customer, number in zip(customers, numbers, strict=True):
        if not customer.tax_id:
            continue
        key = (customer.tax_id, country(customer))
        earlier = first_row.setdefault(key, number)
        existing = tuple(stored.get(key, ()))
        if not existing and earlier == number:
            continue
        found.append(
            DuplicateRow(
                row=number,
                name=customer.name,
                existing=existing,
                earlier_row=earlier if earlier != number else None,
                field="tax_id",
            )
        )
        why = (
            reason(N_("is already the tax id of customer {id}"), id=existing[0])
            if existing
            else reason(
                N_("{value} repeats the tax id of row {other}"),
                value=customer.tax_id,
                other=earlier,
            )
        )
        problems.append(CellProblem(row=number, column=column, field="tax_id", reason=why))
    return found
