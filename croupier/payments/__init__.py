"""Deposits and withdrawals: the records, rules and ledger movements behind the payment workflows.

- ``tables``: deposit addresses (player -> HD index -> address per chain), the scanner's
  cursor, deposits, withdrawals, and the hot wallet's sends and their transactions.
- ``addresses``: assigning a player their deposit address, once.
- ``cursors``: where each chain's deposit scanner stands (its remembered headers).
- ``deposits``: recording what the scanner found, confirmations, the one ledger credit.
- ``withdrawals``: validation, limits and the hold; settling (post) or releasing (void).
- ``sends``: the hot wallet's nonce per withdrawal and every transaction signed for it.
- ``rules`` and ``risk``: the configured limits, and the pure review policy.

No Temporal and no HTTP here: activities adapt these functions, workflows order them.
"""
