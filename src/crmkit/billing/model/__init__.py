"""The billing domain, one module per concept (see each module's opening text).

- :mod:`.terms` — payment-term templates and the pure ``schedule`` calculator;
- :mod:`.plans` — receivable and payable plans and their installments;
- :mod:`.receipts` — receipts and payments, their exchange rate and refunds;
- :mod:`.invoices` — invoices with a tax rate per line, red-letter voids;
- :mod:`.expenses` — expense claims, per-category limits per role;
- :mod:`.ledger` — the append-only, hash-chained ledger and idempotency records.
"""
