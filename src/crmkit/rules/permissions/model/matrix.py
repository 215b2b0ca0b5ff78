"""The permission matrix: every role x resource x operation cell as one table.

Administrators read and write grants as a whole: the tenant's roles become one
:class:`MatrixRow` per granted cell (:func:`matrix_rows`; long format, which
round-trips through CSV or a spreadsheet without losing custom filters),
:func:`to_grid` pivots it into the familiar grid (one row per
``resource.operation``, one column per role), and the rows read back become the
grants of each role they name, every bad row reported at once (``ImportRejected``).
The services :func:`~crmkit.rules.permissions.queries.export_matrix` and
:func:`~crmkit.rules.permissions.services.import_matrix` read and write them.

:func:`check_matrix` looks for what administrators get wrong: an operation
granted without ``view``, an operation reaching further than ``view`` does,
field rules on a resource the role cannot see, roles nobody holds, members
holding roles that do not exist, and members whose roles disagree on a field
(roles only add, so the most permissive one wins and the other rule is moot).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

import attrs

from crmkit.kernel.errors import ImportRejected, LazyText, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.rules.permissions.model.org import Member
from crmkit.rules.permissions.model.resources import registry
from crmkit.rules.permissions.model.roles import FieldAccess, Grant, Role, Scope

__all__ = [
    "MatrixIssue",
    "MatrixReport",
    "MatrixRow",
    "check_matrix",
    "from_csv",
    "matrix_rows",
    "to_csv",
    "to_grid",
]

COLUMNS = ("role", "resource", "operation", "scope", "filter")
_RANK = {
    Scope.OWN: 0,
    Scope.SUBORDINATES: 1,
    Scope.DEPARTMENT: 1,
    Scope.DEPARTMENT_TREE: 2,
    Scope.TENANT: 3,
}
# Operations that make sense without seeing existing records.
_BLIND_OPERATIONS = frozenset({"view", "create", "import"})


@attrs.frozen
class MatrixRow:
    """One granted cell: ``role`` may do ``operation`` on ``resource`` within ``scope``.

    ``filter`` is the custom scope's condition as JSON text (empty otherwise).
    """

    role: str
    resource: str
    operation: str
    scope: str
    filter: str = ""


@attrs.frozen
class MatrixIssue:
    """Something in the matrix an administrator should look at."""

    kind: str
    text: LazyText
    role: str | None = None
    resource: str | None = None

    def __str__(self) -> str:
        return str(self.text)


@attrs.frozen
class MatrixReport:
    """What :func:`check_matrix` found."""

    conflicts: tuple[MatrixIssue, ...]
    unused_roles: tuple[str, ...]
    undefined_roles: tuple[str, ...]

    @property
    def clean(self) -> bool:
        """No conflicts and no unused or undefined roles."""
        return not (self.conflicts or self.unused_roles or self.undefined_roles)


def matrix_rows(roles: Iterable[Role]) -> list[MatrixRow]:
    """The granted cells of ``roles``, sorted by role, resource and operation."""
    rows = [
        MatrixRow(
            role.code,
            g.resource,
            g.operation,
            g.scope.value,
            "" if g.filter is None else json.dumps(g.filter, sort_keys=True, ensure_ascii=False),
        )
        for role in roles
        for g in role.grants
    ]
    return sorted(rows, key=lambda r: (r.role, r.resource, r.operation))


def to_grid(rows: Sequence[MatrixRow]) -> list[list[str]]:
    """Pivot rows into a grid: header ``["", role...]`` then ``[resource.operation, scope...]``."""
    roles = sorted({r.role for r in rows})
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        cells[f"{row.resource}.{row.operation}"][row.role] = row.scope
    grid = [["", *roles]]
    for key in sorted(cells):
        grid.append([key, *(cells[key].get(role, "") for role in roles)])
    return grid


def to_csv(rows: Sequence[MatrixRow]) -> str:
    """The rows as CSV text with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(attrs.astuple(row))
    return out.getvalue()


def from_csv(text: str) -> list[MatrixRow]:
    """Read rows written by :func:`to_csv` (or by hand: ``filter`` may be omitted).

    Raises:
        ImportRejected: a row has missing columns.
    """
    reader = csv.DictReader(io.StringIO(text))
    rows: list[MatrixRow] = []
    problems: list[ValidationError] = []
    for number, record in enumerate(reader, start=2):
        missing = [c for c in COLUMNS[:4] if not (record.get(c) or "").strip()]
        if missing:
            problems.append(
                ValidationError(
                    entity="matrix", field=missing[0], reason=reason(N_("is required")), row=number
                )
            )
            continue
        role, resource, operation, scope = (record[c].strip() for c in COLUMNS[:4])
        rows.append(
            MatrixRow(role, resource, operation, scope, (record.get("filter") or "").strip())
        )
    if problems:
        raise ImportRejected(problems=problems)
    return rows


def _grants_from_rows(rows: Sequence[MatrixRow]) -> dict[str, list[Grant]]:
    """Validate every row; return the grants per role or raise with every problem."""
    problems: list[ValidationError] = []
    by_role: dict[str, list[Grant]] = defaultdict(list)
    seen: dict[tuple[str, str, str], MatrixRow] = {}
    for number, row in enumerate(rows, start=1):
        try:
            try:
                scope = Scope(row.scope)
            except ValueError:
                raise invalid(
                    "matrix", "scope", N_("unknown scope {scope}"), scope=row.scope
                ) from None
            filter_data = json.loads(row.filter) if row.filter else None
            grant = Grant(row.resource, row.operation, scope, filter_data)
            grant.validate(registry)
            key = (row.role, row.resource, row.operation)
            if key in seen and seen[key] != row:
                raise invalid(
                    "matrix",
                    "scope",
                    N_("{operation} on {resource} is given twice to role {role}"),
                    operation=row.operation,
                    resource=row.resource,
                    role=row.role,
                )
            if key not in seen:
                by_role[row.role].append(grant)
            seen[key] = row
        except ValidationError as error:
            problems.append(
                ValidationError(
                    entity=error.fields["entity"],
                    field=error.fields["field"],
                    reason=error.fields["reason"],
                    row=number,
                )
            )
        except json.JSONDecodeError:
            problems.append(
                ValidationError(
                    entity="matrix",
                    field="filter",
                    reason=reason(N_("is not valid JSON")),
                    row=number,
                )
            )
    if problems:
        raise ImportRejected(problems=problems)
    return by_role


def check_matrix(roles: Sequence[Role], members: Sequence[Member]) -> MatrixReport:
    """Find conflicts, unused roles and undefined roles in a tenant's policy."""
    issues: list[MatrixIssue] = []
    for role in roles:
        granted = {(g.resource, g.operation): g for g in role.grants}
        for (resource, operation), grant in sorted(granted.items()):
            view = granted.get((resource, "view"))
            if operation in _BLIND_OPERATIONS:
                continue
            if view is None:
                issues.append(
                    MatrixIssue(
                        "without_view",
                        LazyText(
                            N_("role {role} may {operation} {resource} records it cannot view"),
                            role=role.code,
                            operation=operation,
                            resource=resource,
                        ),
                        role.code,
                        resource,
                    )
                )
            elif (
                grant.scope in _RANK
                and view.scope in _RANK
                and _RANK[grant.scope] > _RANK[view.scope]
            ):
                issues.append(
                    MatrixIssue(
                        "wider_than_view",
                        LazyText(
                            N_(
                                "role {role}: {operation} on {resource} reaches further "
                                "({scope}) than view ({view})"
                            ),
                            role=role.code,
                            operation=operation,
                            resource=resource,
                            scope=grant.scope.value,
                            view=view.scope.value,
                        ),
                        role.code,
                        resource,
                    )
                )
        for resource in sorted({r.resource for r in role.field_rules}):
            if (resource, "view") not in granted:
                issues.append(
                    MatrixIssue(
                        "fields_without_view",
                        LazyText(
                            N_("role {role} has field rules on {resource} but cannot view it"),
                            role=role.code,
                            resource=resource,
                        ),
                        role.code,
                        resource,
                    )
                )
    codes = {r.code for r in roles}
    held = {code for m in members if m.active for code in m.roles}
    by_code = {r.code: r for r in roles}
    seen_pairs: set[tuple[tuple[str, ...], str, str]] = set()
    for member in members:
        held_roles = [by_code[c] for c in member.roles if c in by_code]
        if len(held_roles) < 2:
            continue
        keys = {(fr.resource, fr.field) for role in held_roles for fr in role.field_rules}
        rules: dict[tuple[str, str], set[FieldAccess]] = defaultdict(set)
        for role in held_roles:
            own = {(fr.resource, fr.field): fr.access for fr in role.field_rules}
            for key_ in keys:
                # A role without a rule shows the field editable.
                rules[key_].add(own.get(key_, FieldAccess.EDITABLE))
        for (resource, field), accesses in sorted(rules.items()):
            key = (tuple(sorted(member.roles)), resource, field)
            if len(accesses) > 1 and key not in seen_pairs:
                seen_pairs.add(key)
                issues.append(
                    MatrixIssue(
                        "field_rules_disagree",
                        LazyText(
                            N_(
                                "roles {roles} disagree on field {field} of {resource}; "
                                "the most permissive wins"
                            ),
                            roles=", ".join(key[0]),
                            field=field,
                            resource=resource,
                        ),
                        None,
                        resource,
                    )
                )
    return MatrixReport(
        conflicts=tuple(issues),
        unused_roles=tuple(sorted(codes - held)),
        undefined_roles=tuple(sorted({c for m in members for c in m.roles} - codes)),
    )
