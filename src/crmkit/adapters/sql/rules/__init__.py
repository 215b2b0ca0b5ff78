"""SQL tables and read models of the rules (permissions, approvals, reminders, numbering, notifications)."""
