"""Game math and provable fairness: pure functions, no I/O.

Five games (dice, limbo, plinko, mines, crash) behind one small interface
(``game.Game``), their exact payout distributions, the provably-fair byte stream, the
seed lifecycle, crash's hash chain and the public verifier; ``batch`` plays millions of
rounds at once for simulations (numpy, never imported on the one-bet path).
docs/provably-fair.md is the algorithm in prose, for anyone re-implementing the
verifier elsewhere.
"""

from croupier.games.edge import DEFAULT_HOUSE_EDGES, HouseEdges
from croupier.games.engine import RoundResult, play, play_crash
from croupier.games.registry import GAMES, build_games
from croupier.games.seeds import RevealedSeedPair, SeedPair
from croupier.games.verifier import verify

__all__ = [
    "DEFAULT_HOUSE_EDGES",
    "GAMES",
    "HouseEdges",
    "RevealedSeedPair",
    "RoundResult",
    "SeedPair",
    "build_games",
    "play",
    "play_crash",
    "verify",
]
