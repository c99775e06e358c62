"""Money alarms: alerts, the withdrawal circuit breaker, and the checks that raise them.

- ``alerts``: ``raise_alert`` (row + error log + Prometheus counter), list and acknowledge.
- ``velocity`` / ``breaker``: the pure withdrawal velocity policy and the breaker's
  state in PostgreSQL (``note_withdrawal_request``, ``approvals_paused``, trip, resume).
- ``invariants``: the ledger's own reconciliation, alarmed per violated check.
- ``wallets`` / ``hot_wallets``: ledger wallet accounts against their on-chain balances,
  allowing for payments' sends not yet settled.
- ``deposit_records`` / ``deposit_books`` / ``deposit_addresses``: what the records say
  sits at player deposit addresses, the ledger's ``deposits_in_flight`` against it, and
  a rotating batch of addresses against their chain.
- ``drift``: the house balance moved by exactly its gross gaming revenue, or not.
- ``outcomes`` / ``outcome_feed``: recent game outcomes against their exact odds.
- ``runs`` and ``collector``: the record of reconciliation runs, and scrape-time gauges.

Domain code: no Temporal, no HTTP. ``croupier.activities.monitoring`` adapts it.
"""
