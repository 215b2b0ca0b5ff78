"""Customers: the customer master and its use cases."""

from crmkit.customers.dedup import (
    DedupRecord,
    DuplicateCandidate,
    DuplicateCheck,
    DuplicatePolicy,
    check_duplicate_name,
    find_duplicates,
    normalize_name,
)
from crmkit.customers.model import (
    Customer,
    CustomerChanged,
    CustomerId,
    CustomerKind,
    CustomerRegistered,
)
from crmkit.customers.phones import PhoneNumberKey, caller_id_query, normalize_phone, phone_key
from crmkit.customers.search import SearchKeys, letter_of, search_customers_query, search_keys
from crmkit.customers.services import (
    check_customer_name,
    get_customer,
    list_customers,
    match_caller,
    register_customer,
    search_customers,
    update_customer,
)

__all__ = [
    "Customer",
    "CustomerChanged",
    "CustomerId",
    "CustomerKind",
    "CustomerRegistered",
    "DedupRecord",
    "DuplicateCandidate",
    "DuplicateCheck",
    "DuplicatePolicy",
    "PhoneNumberKey",
    "SearchKeys",
    "caller_id_query",
    "check_customer_name",
    "check_duplicate_name",
    "find_duplicates",
    "get_customer",
    "letter_of",
    "list_customers",
    "match_caller",
    "normalize_name",
    "normalize_phone",
    "phone_key",
    "register_customer",
    "search_customers",
    "search_customers_query",
    "search_keys",
    "update_customer",
]
