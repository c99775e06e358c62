"""Temporal activities: thin, idempotent adapters over the domain packages."""
