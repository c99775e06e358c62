"""Subcommands of the ``croupier`` CLI, one module each."""
