"""The customers domain, one module per concept (see each module's opening text)."""

from crmkit.customers.model.customer import (
    Address,
    AddressKind,
    Customer,
    CustomerChanged,
    CustomerId,
    CustomerKind,
    CustomerRegistered,
    CustomerRelation,
    PoolState,
    RelationKind,
    would_make_cycle,
)

__all__ = [
    "Address",
    "AddressKind",
    "Customer",
    "CustomerChanged",
    "CustomerId",
    "CustomerKind",
    "CustomerRegistered",
    "CustomerRelation",
    "PoolState",
    "RelationKind",
    "would_make_cycle",
]
