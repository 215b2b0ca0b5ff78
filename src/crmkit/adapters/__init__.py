"""Adapters: storage (memory, SQL), notifiers and plugin loading."""
