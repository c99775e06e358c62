"""Responsible gambling reaches the bet path: an excluded player's bet takes nothing."""

from __future__ import annotations

import pytest

from tests.integration.betting.conftest import Player

DICE = {"target": "50.50", "direction": "over"}


@pytest.mark.parametrize(
    ("route", "days", "code"),
    [("/self-exclusion", 180, "self_excluded"), ("/cool-off", 1, "cooling_off")],
)
async def test_an_excluded_player_cannot_bet_and_keeps_every_unit(
    player: Player, route: str, days: int, code: str
) -> None:
    assert (await player.bet("dice", DICE)).status_code == 201
    before = await player.available()

    excluded = await player.post(route, {"days": days})
    refused = await player.bet("dice", DICE)

    assert excluded.status_code == 201, excluded.text
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == f"/problems/{code}"
    assert await player.available() == before
