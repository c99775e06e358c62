"""Helpers for crash tests: players with money, private hash chains, rounds picked by
their crash point (tests share one database, so each works on its own chain)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, select

from croupier.core.money import Currency
from croupier.crash.chain import Chain, create_chain
from croupier.crash.rounds import RoundKey, crash_game
from croupier.crash.tables import crash_chain_hashes
from croupier.games.crash import round_randomness
from croupier.ledger import (
    AccountKind,
    TransferRequest,
    TransferType,
    balance,
    player_account,
    system_account,
    transfer,
)

ETH = Currency.ETH
ONE_ETH = 10**18


def new_player(engine: Engine, *, funded: int, currency: Currency = ETH) -> uuid.UUID:
    """A player id whose cash account holds ``funded``."""
    user_id = uuid.uuid4()
    fund(engine, user_id, funded, currency)
    return user_id


def fund(engine: Engine, user_id: uuid.UUID, amount: int, currency: Currency = ETH) -> None:
    """Credit the player's cash (opened if need be) from deposits in flight."""
    account = player_account(engine, str(user_id), AccountKind.PLAYER_CASH, currency)
    if not amount:
        return
    bank = system_account(engine, AccountKind.DEPOSITS_IN_FLIGHT, currency)
    transfer(
        engine,
        TransferRequest(
            f"test-deposit-{uuid.uuid4()}",
            bank.id,
            account.id,
            amount,
            currency,
            TransferType.DEPOSIT,
        ),
    )


def cash(engine: Engine, user_id: uuid.UUID, currency: Currency = ETH) -> int:
    account = player_account(engine, str(user_id), AccountKind.PLAYER_CASH, currency)
    return balance(engine, account.id).posted


def new_chain(engine: Engine, length: int = 60) -> Chain:
    return create_chain(engine, length, salt=f"test-salt-{secrets.token_hex(8)}")


def crash_points(engine: Engine, chain: Chain) -> dict[int, int]:
    """Round number -> crash point (hundredths), recomputed from the stored hashes."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(crash_chain_hashes.c.round_number, crash_chain_hashes.c.game_hash).where(
                crash_chain_hashes.c.chain_id == chain.id
            )
        ).all()
    game = crash_game()
    return {
        row.round_number: game.crash_hundredths(round_randomness(row.game_hash, chain.salt))
        for row in rows
    }


def round_where(engine: Engine, chain: Chain, wanted: Callable[[int], bool]) -> RoundKey:
    """The first round of ``chain`` (before its last) whose crash point is ``wanted``."""
    points = crash_points(engine, chain)
    for number in range(1, chain.length):
        if wanted(points[number]):
            return RoundKey(chain.id, number)
    raise AssertionError("no round of the test chain fits; use a longer chain")
