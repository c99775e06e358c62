"""``croupier verify``: recompute a round from its seeds and print it as one JSON object.

The same code the casino plays with, so a player (or an auditor) holding a revealed
server seed can check any bet: ``croupier verify dice --server-seed S --client-seed C
--nonce 7 --param target=50.50 --param direction=over``. Crash rounds take the game
hash and salt instead of seeds. docs/provably-fair.md describes every game.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from croupier.games.errors import InvalidBet

MAX_PARAMS = 16


def parse_key_values(items: list[str]) -> dict[str, str]:
    """``["rows=16", "risk=high"]`` -> ``{"rows": "16", "risk": "high"}``; keys once each."""
    if len(items) > MAX_PARAMS:
        raise InvalidBet(f"at most {MAX_PARAMS} --param options")
    params: dict[str, str] = {}
    for item in items:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise InvalidBet(f"--param must look like key=value; got {item!r}")
        if key in params:
            raise InvalidBet(f"--param {key} given twice")
        params[key] = value.strip()
    return params


def verify(
    game: Annotated[str, typer.Argument(help="dice, limbo, plinko, mines or crash")],
    server_seed: Annotated[
        str | None, typer.Option("--server-seed", help="the revealed server seed (hex)")
    ] = None,
    client_seed: Annotated[str | None, typer.Option("--client-seed")] = None,
    nonce: Annotated[int | None, typer.Option("--nonce", help="the bet's nonce, from 0")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="game parameter key=value, repeatable: target, direction, rows, risk, "
            "mines, picks",
        ),
    ] = None,
    game_hash: Annotated[str | None, typer.Option("--game-hash", help="crash only")] = None,
    salt: Annotated[str | None, typer.Option("--salt", help="crash only")] = None,
    terminating_hash: Annotated[
        str | None,
        typer.Option("--terminating-hash", help="crash only: also prove the hash is in the chain"),
    ] = None,
) -> None:
    """Recompute a round (outcome, and the multiplier if the bet is given) as JSON."""
    from croupier.games.verifier import verify as verify_round

    result = verify_round(
        game.strip().lower(),
        parse_key_values(param or []),
        server_seed=server_seed,
        client_seed=client_seed,
        nonce=nonce,
        game_hash=game_hash,
        salt=salt,
        terminating_hash=terminating_hash,
    )
    sys.stdout.write(json.dumps(result) + "\n")
