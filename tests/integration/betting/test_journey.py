"""A player's whole journey through HTTP: register, faucet, 200 mixed bets (dice,
limbo, plinko and mines), rotate seeds, check every bet with the public verifier, and
find the ledger and the player's balance right to the last wei."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from sqlalchemy import Engine

from croupier.betting.audit import bet_ledger_mismatches
from croupier.ledger.reconcile import MAX_GRACE_S, reconcile
from tests.integration.betting.conftest import FUNDS_WEI, Player

BETS = 200
STAKE_WEI = 10**15


def _mixed_bet(draw: random.Random) -> tuple[str, dict[str, Any]]:
    game = draw.choice(["dice", "limbo", "plinko", "mines"])
    if game == "dice":
        return game, {
            "target": f"{draw.randint(200, 9700) / 100:.2f}",
            "direction": draw.choice(["over", "under"]),
        }
    if game == "limbo":
        return game, {"target": f"{draw.randint(101, 1000) / 100:.2f}"}
    if game == "plinko":
        return game, {
            "rows": draw.choice([8, 12, 16]),
            "risk": draw.choice(["low", "medium", "high"]),
        }
    return game, {"mines": draw.randint(1, 5), "reveals": draw.randint(1, 3)}


async def _play_mines(player: Player, mines: int, reveals: int) -> dict[str, Any]:
    opened = await player.post(
        "/mines", {"currency": "ETH", "amount": str(STAKE_WEI), "mines": mines}
    )
    assert opened.status_code == 201, opened.text
    game = opened.json()
    for tile in range(reveals):
        moved = await player.post(f"/mines/{game['id']}/reveal", {"tile": tile})
        assert moved.status_code == 200, moved.text
        game = moved.json()
        if game["status"] != "playing":
            return game
    cashed = await player.post(f"/mines/{game['id']}/cashout", {})
    assert cashed.status_code == 200, cashed.text
    return dict(cashed.json())


async def test_two_hundred_mixed_bets_verify_and_reconcile(player: Player, engine: Engine) -> None:
    draw = random.Random(20250101)
    placed: list[dict[str, Any]] = []
    for _ in range(BETS):
        game, params = _mixed_bet(draw)
        if game == "mines":
            ended = await _play_mines(player, params["mines"], params["reveals"])
            assert ended["status"] in {"won", "lost"}
            placed.append(ended["bet"])
            continue
        response = await player.bet(game, params, STAKE_WEI)
        assert response.status_code == 201, response.text
        placed.append(response.json())

    nonces = [bet["nonce"] for bet in placed]
    assert nonces == list(range(BETS)), "one nonce per bet, in order, none skipped or reused"
    assert {bet["server_seed"] for bet in placed} == {None}, "no seed is shown before rotation"

    rotated = await player.post("/fairness/rotate", {"currency": "ETH"})
    assert rotated.status_code == 200, rotated.text
    revealed = rotated.json()["revealed"]
    assert revealed["bets"] == BETS
    assert rotated.json()["active"]["nonce"] == 0

    for bet in placed:
        stored = await player.get(f"/bets/{bet['id']}")
        assert stored.status_code == 200, stored.text
        stored_bet = stored.json()
        assert stored_bet["server_seed"] == revealed["server_seed"]
        verified = await player.api.client.post(
            f"/verify/{bet['game']}",
            json={
                "server_seed": stored_bet["server_seed"],
                "client_seed": stored_bet["client_seed"],
                "nonce": stored_bet["nonce"],
                "params": stored_bet["params"],
            },
        )
        assert verified.status_code == 200, verified.text
        result = verified.json()
        assert result["server_seed_hash"] == bet["server_seed_hash"]
        assert result["multiplier"] == stored_bet["multiplier"], (bet, result)
        for field, value in stored_bet["outcome"].items():
            assert result[field] == value, (field, bet, result)
        assert int(stored_bet["payout"]) == STAKE_WEI * Fraction(result["multiplier"]) // 1

    paid = sum(int(bet["payout"]) for bet in placed)
    assert await player.available() == FUNDS_WEI - BETS * STAKE_WEI + paid
    report = reconcile(engine, grace_s=MAX_GRACE_S)
    assert report.ok, report.violations
    assert bet_ledger_mismatches(engine, user_id=player.user_id) == ()
