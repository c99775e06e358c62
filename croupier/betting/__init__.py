"""Bet settlement: the ``bets`` table, seed pairs, and settling seeded bets against the
ledger in one transaction. Pure domain code (SQLAlchemy, no Temporal, no HTTP): the
session and mines workflows reach it through ``croupier.activities.betting``.

- ``bets``: bet rows (open or settled), idempotent by bet id; shared with crash.
- ``movements``: the stake and payout transfers of a bet and their ids.
- ``seed_pairs``: one active provably-fair pair per player and currency; rotation.
- ``sealing``: server seeds at rest, sealed until revealed.
- ``settlement``: stake, outcome, payout and bet row, once.
- ``limits``: the stake rules shared by the API and the workflows.
- ``audit``: bets against their ledger transfers.
"""
