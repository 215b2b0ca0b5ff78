"""Rules: the configurable policy that binds the areas together.

Each kind of rule is a sub-package with its own public API — import from it:

- :mod:`crmkit.rules.permissions`: roles, data scopes, field rules, sharing, the evaluator;
- :mod:`crmkit.rules.approvals`: approval flows and requests;
- :mod:`crmkit.rules.reminders`: reminder rules and their firings;
- :mod:`crmkit.rules.numbering`: document numbering rules;
- :mod:`crmkit.rules.notifications`: event subscriptions, templates and delivery.

:mod:`crmkit.rules.directory` holds the in-memory org chart for tests.
"""
