"""Customer read models: the 360 view, searches and exports."""

from crmkit.customers.queries.view import Customer360, customer_360, records_of, register_360_part

__all__ = ["Customer360", "customer_360", "records_of", "register_360_part"]
