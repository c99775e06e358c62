"""Which deposit addresses to sweep into the hot wallet, and how. Pure planning.

Players' coins sit at their deposit addresses until consolidated. For each address the
caller gives what the ledger holds there (``booked``: credited deposits, plus gas
top-ups, less what was moved out and the fees paid; uncredited and dust coins are not
booked and stay where they are). One round plans at most one transaction per address
(its nonce is then never contended) and at most ``max_addresses`` addresses:

- a token (ERC-20) above its minimum is moved whole, its fee paid by the address in the
  chain's native coin; if the address has not booked enough native coin for the most
  that transfer can cost, the round tops it up from the hot wallet instead (exactly
  the shortfall), and a later round moves the tokens;
- otherwise native coin above its minimum (after the most its own transfer can cost,
  which stays behind) is moved.

"The most a transfer can cost" is its gas limit at the configured fee cap: no
transaction of ours ever pays more per gas, replacements included, so a topped-up
address can always pay for its transfer, however the market moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from croupier.core.money import Currency, check_minor_units

MAX_ADDRESSES_PER_ROUND = 500


class StepKind(StrEnum):
    TOP_UP = "top_up"  # hot wallet -> deposit address, native coin for gas
    CONSOLIDATION = "consolidation"  # deposit address -> hot wallet


@dataclass(frozen=True, slots=True)
class AddressHoldings:
    """What the ledger holds at one deposit address, per currency (minor units)."""

    address: str
    hd_index: int
    booked: Mapping[Currency, int]

    def __post_init__(self) -> None:
        for amount in self.booked.values():
            check_minor_units(amount, allow_zero=True)

    def of(self, currency: Currency) -> int:
        return self.booked.get(currency, 0)


@dataclass(frozen=True, slots=True)
class ConsolidationRules:
    """``minimums``: the least worth moving per currency (a currency without one is never
    consolidated); ``gas_limits``: the gas limit of a transfer of each currency;
    ``max_fee_per_gas``: the fee cap; ``native``: the coin fees are paid in."""

    native: Currency
    minimums: Mapping[Currency, int]
    gas_limits: Mapping[Currency, int]
    max_fee_per_gas: int
    max_addresses: int

    def __post_init__(self) -> None:
        check_minor_units(self.max_fee_per_gas)
        for currency, minimum in self.minimums.items():
            check_minor_units(minimum)
            if currency not in self.gas_limits:
                raise ValueError(f"no gas limit for {currency} transfers")
        if not 1 <= self.max_addresses <= MAX_ADDRESSES_PER_ROUND:
            raise ValueError(f"max_addresses must be 1..{MAX_ADDRESSES_PER_ROUND}")

    def worst_fee(self, currency: Currency) -> int:
        """The most a transfer of ``currency`` can cost, in the native coin."""
        return self.gas_limits[currency] * self.max_fee_per_gas


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One transaction to make. ``fee_reserved``: the most its fee can be (native coin),
    paid by the hot wallet for a top-up and by the deposit address for a consolidation."""

    kind: StepKind
    address: str
    hd_index: int
    currency: Currency
    amount: int
    fee_reserved: int


def plan_round(
    holdings: Sequence[AddressHoldings], rules: ConsolidationRules
) -> tuple[PlannedStep, ...]:
    """One round of steps, in the order of ``holdings``, one per address at most."""
    steps: list[PlannedStep] = []
    for holding in holdings:
        if len(steps) == rules.max_addresses:
            break
        step = _token_step(holding, rules) or _native_step(holding, rules)
        if step is not None:
            steps.append(step)
    assert len({step.address for step in steps}) == len(steps), "one step per address"
    return tuple(steps)


def _token_step(holding: AddressHoldings, rules: ConsolidationRules) -> PlannedStep | None:
    """The first token worth moving: moved if the address can pay its fee, else topped up."""
    for currency, minimum in sorted(rules.minimums.items()):
        if currency is rules.native or holding.of(currency) < minimum:
            continue
        fee = rules.worst_fee(currency)
        gas_held = holding.of(rules.native)
        if gas_held >= fee:
            return PlannedStep(
                StepKind.CONSOLIDATION,
                holding.address,
                holding.hd_index,
                currency,
                holding.of(currency),
                fee_reserved=fee,
            )
        return PlannedStep(
            StepKind.TOP_UP,
            holding.address,
            holding.hd_index,
            rules.native,
            fee - gas_held,
            fee_reserved=rules.worst_fee(rules.native),
        )
    return None


def _native_step(holding: AddressHoldings, rules: ConsolidationRules) -> PlannedStep | None:
    minimum = rules.minimums.get(rules.native)
    if minimum is None:
        return None
    fee = rules.worst_fee(rules.native)
    amount = holding.of(rules.native) - fee
    if amount < minimum:
        return None
    return PlannedStep(
        StepKind.CONSOLIDATION,
        holding.address,
        holding.hd_index,
        rules.native,
        amount,
        fee_reserved=fee,
    )
