"""The ledger side of a bet: which accounts, which transfers, under which ids.

A bet moves money twice, both keyed by the bet id so a retry can never move it again:

- stake: player cash -> house, id ``bet-<id>-stake``;
- payout (only when it is not zero): house -> player cash, id ``bet-<id>-payout``.

Both carry the reference ``bet-<id>``: the ledger picks the house shard from it, so a
bet settled in one transaction locks one house balance row, and the player's
statement links each line back to its bet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from croupier.betting.bets import BetRecord
from croupier.core.money import Currency
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.connections import Bind
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.requests import TransferRequest


@dataclass(frozen=True, slots=True)
class BetAccounts:
    """The two accounts every bet of one player in one currency moves money between."""

    player_cash_id: int
    house_id: int


def bet_accounts(bind: Bind, user_id: uuid.UUID, currency: Currency) -> BetAccounts:
    """The player's cash account and the house account, opened on first use.

    Account ids never change, so callers on the hot path cache the result.
    """
    cash = player_account(bind, str(user_id), AccountKind.PLAYER_CASH, currency)
    house = system_account(bind, AccountKind.HOUSE, currency)
    return BetAccounts(player_cash_id=cash.id, house_id=house.id)


def reference_id(bet_id: uuid.UUID) -> str:
    return f"bet-{bet_id}"


def stake_request(bet: BetRecord, accounts: BetAccounts) -> TransferRequest:
    return TransferRequest(
        id=f"bet-{bet.id}-stake",
        debit_account_id=accounts.player_cash_id,
        credit_account_id=accounts.house_id,
        amount=bet.amount,
        currency=bet.currency,
        type=TransferType.BET,
        reference_id=reference_id(bet.id),
    )


def payout_request(bet: BetRecord, accounts: BetAccounts) -> TransferRequest | None:
    """The payout of a settled bet, or None for a loss (nothing to move)."""
    assert bet.payout is not None, f"bet {bet.id} is not settled"
    if bet.payout == 0:
        return None
    return TransferRequest(
        id=f"bet-{bet.id}-payout",
        debit_account_id=accounts.house_id,
        credit_account_id=accounts.player_cash_id,
        amount=bet.payout,
        currency=bet.currency,
        type=TransferType.WIN,
        reference_id=reference_id(bet.id),
    )
