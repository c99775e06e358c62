"""Process entry points: Temporal workers, the dev stack and the ``croupier`` CLI."""
