"""The ledger side of a bet: which accounts, which transfers, under which ids.

A bet moves money twice, both keyed by the bet id so a retry can never move it again:

- stake: player cash -> house, id ``bet-<id>-stake``;
- payout (only when it is not zero): house -> player cash, id ``bet-<id>-payout``.

Both carry the reference ``bet-<id>``: the ledger picks the house shard from it, so a
bet settled in one transaction locks one house balance row, and the player's
statement links each line back to its bet.

A stake may be split (:class:`StakeSplit`): part of it taken from a second account of
the player (their bonus account, while a promotion is wagered) and part of the payout
paid back there, as ``bet-<id>-stake-bonus`` and ``bet-<id>-payout-bonus``; the
cash-side transfers keep their ids and carry the rest. A game staked before it is
played (mines, crash) posts the stake side when it opens and the payout side when it
settles; settling it again posts the stake side once more as a replay, so the split
must be the same both times (:class:`StakeSplitter` reads it back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from croupier.betting.bets import BetRecord
from croupier.core.money import Currency
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.connections import Bind
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import transfer, transfer_batch
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
    return _request(
        bet,
        f"bet-{bet.id}-stake",
        accounts.player_cash_id,
        accounts.house_id,
        bet.amount,
        TransferType.BET,
    )


def payout_request(bet: BetRecord, accounts: BetAccounts) -> TransferRequest | None:
    """The payout of a settled bet, or None for a loss (nothing to move)."""
    assert bet.payout is not None, f"bet {bet.id} is not settled"
    if bet.payout == 0:
        return None
    return _request(
        bet,
        f"bet-{bet.id}-payout",
        accounts.house_id,
        accounts.player_cash_id,
        bet.payout,
        TransferType.WIN,
    )


@dataclass(frozen=True, slots=True)
class StakeSplit:
    """The part of a bet's stake taken from ``account_id`` instead of cash, and the
    part of its payout paid back there (or to ``payout_account_id`` when set: the
    second account's owner no longer takes it). Who decides the split (a promotion's
    rules) lives outside this package."""

    account_id: int
    stake: int
    payout: int
    payout_account_id: int | None = None


class StakeSplitter(Protocol):
    """Splits a bet's money between the player's cash and a second account of theirs.

    Both calls run in the bet's transaction; they may refuse the bet (a typed error)
    and write rows of their own, which commit or roll back with it. None: all cash.
    Promotions (``croupier.bonus``) provide one.
    """

    def stake(self, conn: Connection, bet: BetRecord, accounts: BetAccounts) -> StakeSplit | None:
        """A NEW bet, before its stake moves: settled at once (``bet.payout`` known) or
        open (``payout`` None; the split's ``payout`` is then 0)."""
        ...

    def staked(self, conn: Connection, bet: BetRecord, accounts: BetAccounts) -> StakeSplit | None:
        """A bet staked before: the split its stake was taken with and, once ``bet`` is
        settled, its payout's share."""
        ...


def stake_requests(
    bet: BetRecord, accounts: BetAccounts, split: StakeSplit | None
) -> list[TransferRequest]:
    """The stake transfers of a bet: all cash, or split (a side with nothing to move
    has no transfer)."""
    if split is None:
        return [stake_request(bet, accounts)]
    assert 0 <= split.stake <= bet.amount, split
    legs = (
        ("stake", accounts.player_cash_id, bet.amount - split.stake),
        ("stake-bonus", split.account_id, split.stake),
    )
    return [
        _request(bet, f"bet-{bet.id}-{leg}", debit, accounts.house_id, amount, TransferType.BET)
        for leg, debit, amount in legs
        if amount
    ]


def take_stake(
    conn: Connection, bet: BetRecord, accounts: BetAccounts, split: StakeSplit | None
) -> None:
    """Post the stake of a bet played later (mines at open, crash when placed): one
    transfer when it is all cash, the path of every bet without a promotion."""
    if split is None:
        transfer(conn, stake_request(bet, accounts))
    else:
        transfer_batch(conn, stake_requests(bet, accounts, split))


def payout_requests(
    bet: BetRecord, accounts: BetAccounts, split: StakeSplit | None
) -> list[TransferRequest]:
    """The payout transfers of a settled bet: none for a loss, all to cash, or split."""
    if split is None:
        payout = payout_request(bet, accounts)
        return [] if payout is None else [payout]
    assert bet.payout is not None, f"bet {bet.id} is not settled"
    assert 0 <= split.payout <= bet.payout, split
    second = split.account_id if split.payout_account_id is None else split.payout_account_id
    legs = (
        ("payout", accounts.player_cash_id, bet.payout - split.payout),
        ("payout-bonus", second, split.payout),
    )
    return [
        _request(bet, f"bet-{bet.id}-{leg}", accounts.house_id, credit, amount, TransferType.WIN)
        for leg, credit, amount in legs
        if amount
    ]


def _request(
    bet: BetRecord, transfer_id: str, debit: int, credit: int, amount: int, kind: TransferType
) -> TransferRequest:
    return TransferRequest(
        id=transfer_id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        currency=bet.currency,
        type=kind,
        reference_id=reference_id(bet.id),
    )
