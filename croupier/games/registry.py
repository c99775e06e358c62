"""Game name -> implementation, built once per set of house edges."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from croupier.games.crash import Crash
from croupier.games.dice import Dice
from croupier.games.edge import DEFAULT_HOUSE_EDGES, HouseEdges
from croupier.games.errors import UnknownGame
from croupier.games.game import AnyGame
from croupier.games.limbo import Limbo
from croupier.games.mines import Mines
from croupier.games.plinko import Plinko

# Crash rounds are shared and drawn from the hash chain; the others from a player's seeds.
SHARED_ROUND_GAMES = frozenset({Crash.name})


def build_games(edges: HouseEdges = DEFAULT_HOUSE_EDGES) -> Mapping[str, AnyGame]:
    games: list[AnyGame] = [
        Dice(edges.dice),
        Limbo(edges.limbo),
        Plinko(edges.plinko),
        Mines(edges.mines),
        Crash(edges.crash),
    ]
    return MappingProxyType({game.name: game for game in games})


GAMES = build_games()


def game_named(name: str, games: Mapping[str, AnyGame] = GAMES) -> AnyGame:
    """The game called ``name``, or ``UnknownGame`` naming the offered ones."""
    try:
        return games[name]
    except KeyError:
        offered = ", ".join(games)
        raise UnknownGame(f"unknown game {name!r}; expected one of {offered}") from None
