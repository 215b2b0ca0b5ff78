"""SQL tables of the customers area."""
