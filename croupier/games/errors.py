"""Errors the games package raises on purpose.

All are ``InvalidInput``: a bad bet, seed or hash never becomes valid by retrying, so
the API maps them to 4xx problems and the CLI to exit status 2.
"""

from __future__ import annotations

from croupier.core.errors import InvalidInput


class UnknownGame(InvalidInput):
    """A game name that is not offered."""

    code = "unknown_game"


class InvalidBet(InvalidInput):
    """Bet parameters that are missing, malformed or outside the offered range."""

    code = "invalid_bet"


class InvalidSeed(InvalidInput):
    """A server seed, client seed, nonce, game hash or salt that is malformed."""

    code = "invalid_seed"


class ChainMismatch(InvalidInput):
    """A revealed crash game hash that does not lead to the published terminating hash."""

    code = "hash_chain_mismatch"
