"""The customers domain, pure: one module per concept (each opens with what it is).

- :mod:`.customer` — the customer master record, its addresses and events;
- :mod:`.relations` — group hierarchy and other links between customers;
- :mod:`.contacts` — the people at a customer;
- :mod:`.pool` — the public pool (公海) lifecycle machine, its policy and assignment rules;
- :mod:`.custom_fields`, :mod:`.custom_values`, :mod:`.custom_query` — fields a tenant
  adds: their definitions, the values a record carries, and filters on them;
- :mod:`.identifiers`, :mod:`.phones` — tax ids, e-mail addresses and phone numbers;
- :mod:`.names`, :mod:`.dedup` — one normal form for names, and duplicate detection;
- :mod:`.search_keys` — the pinyin keys and A–Z letter stored with each name;
- :mod:`.history` — the field-by-field change history;
- :mod:`.merge` — what a merge of duplicates keeps so it can be undone;
- :mod:`.transfer`, :mod:`.cells` — the import/export file format.
"""

from __future__ import annotations

from crmkit.customers.model.cells import (
    ParsedRow,
    export_cells,
    export_columns,
    parse_date,
    parse_instant,
    parse_row,
    zone_of,
)
from crmkit.customers.model.contacts import (
    Contact,
)
from crmkit.customers.model.custom_fields import (
    CUSTOM,
    ChoiceOption,
    CustomFieldChanged,
    CustomFieldDefined,
    CustomFieldDefinition,
    FieldType,
    register_custom_entity,
)
from crmkit.customers.model.custom_query import (
    check_sortable,
    custom_query,
)
from crmkit.customers.model.custom_values import (
    CustomValues,
    apply_custom,
    custom_paths,
    decode_values,
    encode_values,
    show_custom,
    to_custom_values,
)
from crmkit.customers.model.customer import (
    DERIVED_KEYS,
    SYSTEM_FIELDS,
    Address,
    AddressKind,
    Customer,
    CustomerChanged,
    CustomerId,
    CustomerKind,
    CustomerRegistered,
    PoolState,
)
from crmkit.customers.model.dedup import (
    INDUSTRY_WORDS,
    DedupRecord,
    DuplicateCandidate,
    DuplicateCheck,
    DuplicateOutcome,
    DuplicatePolicy,
    check_duplicate_name,
    find_duplicates,
    trade_name,
)
from crmkit.customers.model.history import (
    ChangeRecord,
    record_changes,
    snapshot,
)
from crmkit.customers.model.identifiers import (
    DEFAULT_TAX_COUNTRY,
    check_email,
    check_tax_id,
    compact_tax_id,
)
from crmkit.customers.model.merge import (
    CustomerMergeUndone,
    CustomersMerged,
    MergeRecord,
    MergeResult,
    Moved,
)
from crmkit.customers.model.names import (
    CN_REGIONS,
    fold_text,
    normalize_name,
    split_region,
    to_simplified,
)
from crmkit.customers.model.phones import (
    MIN_TAIL,
    PHONE_DIGITS_MAX,
    PHONE_MAX,
    PhoneNumberKey,
    caller_id_query,
    check_phone,
    normalize_phone,
    phone_key,
)
from crmkit.customers.model.pool import (
    HELD_STATES,
    POOL,
    AssignmentRule,
    AssignmentStrategy,
    CustomerAssigned,
    CustomerClaimed,
    CustomerReturnedToPool,
    CustomerStageChanged,
    CustomerTransferred,
    Holding,
    PoolPolicy,
    ReturnReason,
    assign,
    choose_assignee,
    claim,
    cooldown_until,
    move_stage,
    release,
    return_due,
)
from crmkit.customers.model.relations import (
    CustomerRelation,
    RelationKind,
    would_make_cycle,
)
from crmkit.customers.model.search_keys import (
    SURNAME_READINGS,
    SearchKeys,
    letter_of,
    search_keys,
    to_pinyin,
)
from crmkit.customers.model.transfer import (
    COLUMNS,
    DEFAULT_TIMEZONE,
    CellProblem,
    Column,
    TabularData,
    custom_columns,
    is_builtin_header,
    map_headers,
    template_headers,
    unmapped_columns,
)

__all__ = [
    "CN_REGIONS",
    "COLUMNS",
    "CUSTOM",
    "DEFAULT_TAX_COUNTRY",
    "DEFAULT_TIMEZONE",
    "DERIVED_KEYS",
    "HELD_STATES",
    "INDUSTRY_WORDS",
    "MIN_TAIL",
    "PHONE_DIGITS_MAX",
    "PHONE_MAX",
    "POOL",
    "SURNAME_READINGS",
    "SYSTEM_FIELDS",
    "Address",
    "AddressKind",
    "AssignmentRule",
    "AssignmentStrategy",
    "CellProblem",
    "ChangeRecord",
    "ChoiceOption",
    "Column",
    "Contact",
    "CustomFieldChanged",
    "CustomFieldDefined",
    "CustomFieldDefinition",
    "CustomValues",
    "Customer",
    "CustomerAssigned",
    "CustomerChanged",
    "CustomerClaimed",
    "CustomerId",
    "CustomerKind",
    "CustomerMergeUndone",
    "CustomerRegistered",
    "CustomerRelation",
    "CustomerReturnedToPool",
    "CustomerStageChanged",
    "CustomerTransferred",
    "CustomersMerged",
    "DedupRecord",
    "DuplicateCandidate",
    "DuplicateCheck",
    "DuplicateOutcome",
    "DuplicatePolicy",
    "FieldType",
    "Holding",
    "MergeRecord",
    "MergeResult",
    "Moved",
    "ParsedRow",
    "PhoneNumberKey",
    "PoolPolicy",
    "PoolState",
    "RelationKind",
    "ReturnReason",
    "SearchKeys",
    "TabularData",
    "apply_custom",
    "assign",
    "caller_id_query",
    "check_duplicate_name",
    "check_email",
    "check_phone",
    "check_sortable",
    "check_tax_id",
    "choose_assignee",
    "claim",
    "compact_tax_id",
    "cooldown_until",
    "custom_columns",
    "custom_paths",
    "custom_query",
    "decode_values",
    "encode_values",
    "export_cells",
    "export_columns",
    "find_duplicates",
    "fold_text",
    "is_builtin_header",
    "letter_of",
    "map_headers",
    "move_stage",
    "normalize_name",
    "normalize_phone",
    "parse_date",
    "parse_instant",
    "parse_row",
    "phone_key",
    "record_changes",
    "register_custom_entity",
    "release",
    "return_due",
    "search_keys",
    "show_custom",
    "snapshot",
    "split_region",
    "template_headers",
    "to_custom_values",
    "to_pinyin",
    "to_simplified",
    "trade_name",
    "unmapped_columns",
    "would_make_cycle",
    "zone_of",
]
