"""``GET /bonuses/vip`` on the real stack: the VIP level and what the running period
has earned so far, computed from the bets the player just placed."""

from __future__ import annotations

from fractions import Fraction

from tests.integration.betting.conftest import Player

STAKE = 10**15
EDGE = Fraction(1, 100)
LEVEL_ONE_AT = 10 * 10**18  # 10 ETH lifetime (croupier.bonus.vip)


async def test_vip_shows_the_level_and_the_periods_accrued_cashback_and_rakeback(
    player: Player,
) -> None:
    placed = [await player.bet("dice", {"target": "50.00", "direction": "over"}) for _ in range(4)]
    assert all(bet.status_code == 201 for bet in placed), [bet.text for bet in placed]
    staked = sum(int(bet.json()["amount"]) for bet in placed)
    net_loss = staked - sum(int(bet.json()["payout"]) for bet in placed)

    response = await player.get("/bonuses/vip")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cashback_percent"] == 10
    (eth,) = [level for level in body["levels"] if level["currency"] == "ETH"]
    assert (eth["level"], eth["rakeback_percent"]) == (0, 5)
    assert (eth["next_level"], eth["next_level_at"]) == (1, str(LEVEL_ONE_AT))
    assert eth["period_wagered"] == eth["lifetime_wagered"] == str(staked) == str(4 * STAKE)
    assert eth["accrued_rakeback"] == str(int(staked * EDGE * 5 / 100))  # 2 * 10**11
    assert eth["accrued_cashback"] == str(max(net_loss, 0) * 10 // 100)
    assert eth["period_start"] < eth["period_end"]
    (btc,) = [level for level in body["levels"] if level["currency"] == "BTC"]
    assert (btc["period_wagered"], btc["accrued_rakeback"]) == ("0", "0")
