"""crmkit benchmarks: each case runs beside a named anchor in the same process."""
