"""The ledger's vocabulary: kinds of accounts, types and states of transfers."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from croupier.core.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

# Owner of the casino's own accounts (house, fees, wallets, ...); players own the rest.
SYSTEM_OWNER = "system"

# Default number of balance rows of a house account. Concurrent bets land on different
# rows (picked by a hash of the bet's reference), so the house is not one hot row; 32 keeps
# the chance that two of 16 concurrent postings collide low, and the sum stays cheap.
HOUSE_SHARDS = 32
MAX_SHARDS = 256


class AccountKind(StrEnum):
    PLAYER_CASH = "player_cash"
    PLAYER_BONUS = "player_bonus"
    HOUSE = "house"
    FEES = "fees"
    PROMOTIONS = "promotions"  # funds bonuses: debited when a bonus is granted
    DEPOSITS_IN_FLIGHT = "deposits_in_flight"
    WITHDRAWALS_PENDING = "withdrawals_pending"
    HOT_WALLET = "hot_wallet"
    COLD_WALLET = "cold_wallet"

    @property
    def is_player(self) -> bool:
        return self in (AccountKind.PLAYER_CASH, AccountKind.PLAYER_BONUS)

    @property
    def normal_side(self) -> Direction:
        """The side whose growth is a positive balance: credit for what the casino owes
        (player funds, house result, fees), debit for what it holds (wallets)."""
        return Direction.DEBIT if self in _DEBIT_NORMAL else Direction.CREDIT


class Direction(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class TransferType(StrEnum):
    """What a movement is for. The database only checks the format, so a new type is a
    code change here, not a migration."""

    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    BET = "bet"
    WIN = "win"
    REFUND = "refund"
    BONUS = "bonus"
    BONUS_RELEASE = "bonus_release"
    BONUS_FORFEIT = "bonus_forfeit"
    CASHBACK = "cashback"  # promotions -> player cash: a period's net loss, in part
    RAKEBACK = "rakeback"  # promotions -> player cash: part of the house edge on volume
    FEE = "fee"
    SWEEP = "sweep"
    REFILL = "refill"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


class TransferPhase(StrEnum):
    SINGLE = "single"  # posted at once
    HOLD = "hold"  # pending until posted, voided or expired
    POST = "post"  # posts (part of) a hold
    VOID = "void"  # releases a hold


class TransferStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


_DEBIT_NORMAL = frozenset(
    {
        AccountKind.HOT_WALLET,
        AccountKind.COLD_WALLET,
        AccountKind.DEPOSITS_IN_FLIGHT,
        AccountKind.PROMOTIONS,
    }
)


def parse_choice(enum_type: type[E], value: object, *, what: str) -> E:
    """``value`` as a member of ``enum_type``, or ``InvalidInput`` listing the choices."""
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str) and value in enum_type._value2member_map_:
        return enum_type(value)
    choices = ", ".join(member.value for member in enum_type)
    raise InvalidInput(f"{what} must be one of {choices}; got {value!r}")
