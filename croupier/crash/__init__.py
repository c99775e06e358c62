"""The crash game's shared rounds: stored hash chains, rounds, bets and settlement.

Pure game math (the crash point formula, the hash chain) lives in ``croupier.games``;
this package holds what a running casino needs around it: the chain in the database,
the multiplier curve over time (``curve``), rounds bound to their crash point before
any bet, stakes taken when a bet is placed, and the one-transaction settlement at the
crash. The round itself is orchestrated by ``croupier.workflows.crash``.
"""
