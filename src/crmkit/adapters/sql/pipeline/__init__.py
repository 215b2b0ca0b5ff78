"""SQL tables and read models of the pipeline area."""
