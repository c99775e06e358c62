"""Refusals of the betting domain. Each is a ``core`` error class with its own code, so
the API and the activities map it once, like every other typed error."""

from __future__ import annotations

from croupier.core.errors import Conflict, InvalidInput, NotFound


class BetNotFound(NotFound):
    """No bet has this id (or it belongs to another player)."""

    code = "bet_not_found"


class BetAlreadySettled(Conflict):
    """A settled bet is final: it cannot be settled again with another result."""

    code = "bet_already_settled"


class NonceReused(Conflict):
    """Another bet already used this (seed pair, nonce): the database refused it."""

    code = "nonce_reused"


class SeedPairNotFound(NotFound):
    """No seed pair has this id, or it belongs to another player or currency."""

    code = "seed_pair_not_found"


class SeedPairRevealed(Conflict):
    """The seed pair was rotated out and its server seed revealed: no bet may use it."""

    code = "seed_pair_revealed"


class GameDisabled(InvalidInput):
    """The game exists but the casino does not offer it at the moment."""

    code = "game_disabled"


class BetAboveMaximum(InvalidInput):
    """The stake is above the maximum bet of its currency."""

    code = "bet_above_maximum"


class MinesGameOver(Conflict):
    """The mines game already ended (cashed out, hit a mine, or timed out)."""

    code = "mines_game_over"


class NothingToCashOut(Conflict):
    """A mines game with no safe reveal has nothing to cash out."""

    code = "nothing_to_cash_out"


class OpenGamesBlockRotation(Conflict):
    """A rotation would reveal the seed of a mines game still in play."""

    code = "open_games_block_rotation"


class TooManyOpenGames(Conflict):
    """The player already has the most mines games in play that a session allows."""

    code = "too_many_open_games"


class FaucetDisabled(NotFound):
    """The dev faucet is off (``CROUPIER_DEV_FAUCET_ENABLED``): there is no such route."""

    code = "dev_faucet_disabled"
