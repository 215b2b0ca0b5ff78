"""SQL tables and read models of the billing area."""
