"""How much the hot wallet sends to cold, and how much a refill brings back. Pure.

The hot wallet of one currency has three limits (settings, whole coins there, minor units
here): ``floor < target < cap``. Above the cap, the excess over the target goes to cold;
below the floor, a refill from cold restores the target. Two facts temper both:

- What the hot wallet may count on is the smaller of what the chain says it holds and
  what the ledger says is available (posted, less holds already going out: a sweep in
  flight is held, so a second run cannot sweep the same coins again). Coins on chain the
  ledger does not know about are never moved before someone has booked them.
- Approved withdrawals not yet settled still need their coins (``reserved``): a sweep
  never leaves less than that, and a refill brings enough for them too. When the sweep
  pays its own fee from the swept currency (ETH on Ethereum), the most that fee can be
  is kept back as well, so the fee never eats into what is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from croupier.core.money import check_minor_units


@dataclass(frozen=True, slots=True)
class HotWalletLimits:
    """One currency's limits, in minor units: ``floor < target < cap``."""

    cap: int
    target: int
    floor: int

    def __post_init__(self) -> None:
        check_minor_units(self.cap)
        check_minor_units(self.target)
        check_minor_units(self.floor, allow_zero=True)
        if not self.floor < self.target < self.cap:
            raise ValueError(
                f"hot wallet limits need floor < target < cap, got {self.floor}, "
                f"{self.target}, {self.cap}"
            )


@dataclass(frozen=True, slots=True)
class HotWalletPosition:
    """Where one currency of the hot wallet stands, in minor units.

    ``on_chain``: the balance of the hot address; ``ledger_available``: the ledger's hot
    wallet, posted less pending holds out of it (may be negative only if the books are
    broken, which is then treated as nothing available); ``reserved``: what approved,
    unsettled withdrawals still need from it, their fees included in the fee currency;
    ``own_fee``: the most the sweep's own transaction can burn from this currency (zero
    when the fee is paid in another one).
    """

    on_chain: int
    ledger_available: int
    reserved: int
    own_fee: int = 0

    def __post_init__(self) -> None:
        check_minor_units(self.on_chain, allow_zero=True)
        check_minor_units(self.reserved, allow_zero=True)
        check_minor_units(self.own_fee, allow_zero=True)
        assert isinstance(self.ledger_available, int) and not isinstance(
            self.ledger_available, bool
        ), "ledger_available is an int of minor units"

    @property
    def spendable(self) -> int:
        """What the hot wallet holds by both the chain's and the ledger's account."""
        return max(0, min(self.on_chain, self.ledger_available))

    def keeps(self, limits: HotWalletLimits) -> int:
        """What must stay in the hot wallet: the target, or more if withdrawals need it."""
        return max(limits.target, self.reserved)


def sweep_amount(position: HotWalletPosition, limits: HotWalletLimits) -> int:
    """How much to send to cold now: nothing unless over the cap, then the excess over
    what must stay (and over the sweep's own worst-case fee when it pays it itself)."""
    spendable = position.spendable
    if spendable <= limits.cap:
        return 0
    amount = max(0, spendable - position.keeps(limits) - position.own_fee)
    assert spendable - amount - position.own_fee >= position.reserved or amount == 0
    return amount


def refill_amount(position: HotWalletPosition, limits: HotWalletLimits) -> int:
    """How much to ask cold for now: nothing unless below the floor, then enough to
    restore what must stay (the target, or what approved withdrawals need if more)."""
    spendable = position.spendable
    if spendable >= limits.floor:
        return 0
    amount = position.keeps(limits) - spendable
    assert amount > 0
    return amount
