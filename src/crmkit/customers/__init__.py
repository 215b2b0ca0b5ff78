"""Customers: the customer master and its use cases."""

from crmkit.customers.model import (
    Customer,
    CustomerChanged,
    CustomerId,
    CustomerKind,
    CustomerRegistered,
)
from crmkit.customers.services import (
    get_customer,
    list_customers,
    register_customer,
    update_customer,
)

__all__ = [
    "Customer",
    "CustomerChanged",
    "CustomerId",
    "CustomerKind",
    "CustomerRegistered",
    "get_customer",
    "list_customers",
    "register_customer",
    "update_customer",
]
