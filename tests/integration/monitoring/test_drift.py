"""House drift: between checks the house moves by exactly its GGR, or an alert says why not.

House accounts are casino-wide per currency, so each test first closes a window (drift
from earlier tests is not its business), then acts and checks the next window alone.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from croupier.core.money import Currency
from croupier.ledger import AccountKind, TransferType
from croupier.monitoring.alerts import Severity
from croupier.monitoring.drift import DriftCheck, check_house_drift
from tests.integration.monitoring.conftest import ETH, Corner


def eth_window(engine: Engine) -> DriftCheck:
    (check,) = [
        c for c in check_house_drift(engine, settle_margin_s=0) if c.currency is Currency.ETH
    ]
    return check


def start_window(corner: Corner) -> tuple[object, object, object]:
    house = corner.open(AccountKind.HOUSE)
    player = corner.open(AccountKind.PLAYER_CASH)
    bank = corner.open(AccountKind.DEPOSITS_IN_FLIGHT)
    corner.move(bank, player, 10 * ETH, TransferType.DEPOSIT)
    check_house_drift(corner.engine, settle_margin_s=0)
    return house, player, bank


def test_stakes_and_payouts_move_the_house_by_exactly_its_ggr(corner: Corner) -> None:
    house, player, _ = start_window(corner)
    corner.move(player, house, 3 * ETH, TransferType.BET)
    corner.move(house, player, 2 * ETH, TransferType.WIN)
    corner.move(player, house, ETH, TransferType.BET)

    window = eth_window(corner.engine)

    assert window.ggr == 2 * ETH and window.balance_delta == 2 * ETH
    assert window.drift == 0 and window.unjournaled == 0


def test_a_house_movement_that_is_not_a_game_result_is_drift(corner: Corner) -> None:
    house, player, _ = start_window(corner)
    corner.move(player, house, ETH, TransferType.BET)
    corner.move(house, player, ETH // 2, TransferType.ADJUSTMENT)

    window = eth_window(corner.engine)

    assert window.ggr == ETH and window.drift == -(ETH // 2)
    assert window.other_movements == {"adjustment": -(ETH // 2)} and window.unjournaled == 0
    assert window.severity is Severity.WARNING
    assert latest_drift_alert(corner.engine) == ("warning", str(-(ETH // 2)))


def test_a_house_balance_changed_without_an_entry_is_critical_drift(corner: Corner) -> None:
    house, _, _ = start_window(corner)
    rewrite_house_balance(corner.engine, house.id, +7)
    try:
        window = eth_window(corner.engine)
    finally:
        rewrite_house_balance(corner.engine, house.id, -7)

    assert window.drift == 7 and window.unjournaled == 7 and window.ggr == 0
    assert latest_drift_alert(corner.engine) == ("critical", "7")
    assert eth_window(corner.engine).unjournaled == -7  # the repair shows up too


def rewrite_house_balance(engine: Engine, account_id: object, by: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE account_balances SET credits_posted = credits_posted + :by "
                "WHERE account_id = :id AND shard = 0"
            ),
            {"id": account_id, "by": by},
        )


def latest_drift_alert(engine: Engine) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT severity, details->>'drift' AS drift FROM alerts "
                "WHERE kind = 'house_drift' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    return row.severity, row.drift
