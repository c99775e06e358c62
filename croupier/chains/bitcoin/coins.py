"""UTXOs and coin selection: which coins pay for a send, and where the change goes.

The rules, each asserted on the plan it returns:

- Only spendable coins: confirmed ones, or unconfirmed outputs of our own transactions
  (change). An unconfirmed coin someone else sent can vanish (replaced, never mined), and
  a send built on it would vanish with it. Confirmed coins are tried first; our own
  unconfirmed change only when they do not suffice.
- No dust change: change worth less than the dust threshold (or than Bitcoin Core's dust
  limit for its script) is not created, it goes to the fee.
- Bounded inputs: at most ``SpendPolicy.max_inputs``; a wallet too fragmented to pay
  within it raises ``TooManyInputs`` (consolidate) rather than building a huge transaction.
- Coins that cost more to spend than they are worth at the target feerate are skipped.

Selection is deterministic: the smallest single coin that pays everything (no change
dust, fewest inputs, large coins kept whole), else largest coins first, which needs the
fewest inputs. Ties break on (txid, vout), so the same wallet yields the same plan and
a retried activity signs the same transaction. ``plan_sweep`` instead spends every
spendable coin to one address (deposit addresses into the hot wallet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from croupier.chains.bitcoin.addresses import parse_address
from croupier.chains.bitcoin.backend import OutPoint
from croupier.chains.bitcoin.errors import (
    FeeRateAboveCap,
    InsufficientUtxos,
    TooManyInputs,
)
from croupier.chains.bitcoin.fees import (
    FeeTarget,
    dust_limit_sat,
    fee_for,
    p2wpkh_input_vsize,
    p2wpkh_spend_vsize,
    sat_vb_to_sat_kvb,
)
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.core.errors import InvalidAmount, InvalidInput
from croupier.core.money import check_minor_units
from croupier.core.settings import Settings

MAX_SUPPLY_SAT = 21_000_000 * 100_000_000
MAX_INPUTS_LIMIT = 500  # keeps a signed transaction far below the 100 kvB standardness limit
MAX_PAYMENTS = 100
MAX_CANDIDATE_UTXOS = 5000  # coins looked at per selection


@dataclass(frozen=True, slots=True)
class Utxo:
    """An unspent output a wallet may spend.

    ``from_own_wallet``: the transaction that created it spends only our own coins (it
    is our change, or our payment to ourselves), so it is safe to spend unconfirmed.
    """

    txid: str
    vout: int
    value_sat: int
    address: str
    confirmations: int
    from_own_wallet: bool = False

    def __post_init__(self) -> None:
        check_minor_units(self.value_sat)
        assert self.value_sat <= MAX_SUPPLY_SAT, f"{self.value_sat} sat exceeds the supply"
        assert self.confirmations >= 0, f"negative confirmations {self.confirmations}"

    @property
    def outpoint(self) -> OutPoint:
        return OutPoint(self.txid, self.vout)

    @property
    def spendable(self) -> bool:
        """Confirmed, or our own unconfirmed change; never someone else's unconfirmed coin."""
        return self.confirmations >= 1 or self.from_own_wallet


@dataclass(frozen=True, slots=True)
class TxOut:
    """A planned output: ``amount_sat`` to ``address``."""

    address: str
    amount_sat: int

    def __post_init__(self) -> None:
        check_minor_units(self.amount_sat)
        assert self.amount_sat <= MAX_SUPPLY_SAT, f"{self.amount_sat} sat exceeds the supply"


@dataclass(frozen=True, slots=True)
class SpendPolicy:
    """The wallet's limits: its network, dust threshold, input bound and feerate bounds."""

    network: BtcNetwork
    dust_threshold_sat: int
    max_inputs: int
    min_relay_fee_sat_kvb: int
    max_fee_rate_sat_kvb: int

    def __post_init__(self) -> None:
        assert self.dust_threshold_sat >= 1, "a dust threshold is positive"
        assert 1 <= self.max_inputs <= MAX_INPUTS_LIMIT, f"max inputs {self.max_inputs}"
        assert 0 < self.min_relay_fee_sat_kvb <= self.max_fee_rate_sat_kvb, "feerate bounds"

    @classmethod
    def from_settings(cls, settings: Settings) -> SpendPolicy:
        return cls(
            network=BtcNetwork(settings.btc_network),
            dust_threshold_sat=settings.btc_dust_threshold_sat,
            max_inputs=settings.btc_max_inputs,
            min_relay_fee_sat_kvb=sat_vb_to_sat_kvb(settings.btc_min_relay_fee_sat_vb),
            max_fee_rate_sat_kvb=sat_vb_to_sat_kvb(settings.btc_max_fee_rate_sat_vb),
        )


@dataclass(frozen=True, slots=True)
class SpendPlan:
    """What to sign: inputs, payments, optional change, and the fee they leave.

    ``vsize_estimate`` is an upper bound on the signed size, so ``fee_sat`` pays at least
    the target feerate. Money is conserved exactly: inputs = payments + change + fee.
    """

    inputs: tuple[Utxo, ...]
    payments: tuple[TxOut, ...]
    change: TxOut | None
    fee_sat: int
    vsize_estimate: int

    def __post_init__(self) -> None:
        assert self.inputs and self.payments, "a spend has inputs and payments"
        assert len({u.outpoint for u in self.inputs}) == len(self.inputs), "duplicate input"
        assert all(u.spendable for u in self.inputs), "an input is not spendable"
        change_sat = self.change.amount_sat if self.change else 0
        paid = sum(p.amount_sat for p in self.payments) + change_sat + self.fee_sat
        assert sum(u.value_sat for u in self.inputs) == paid, "inputs != outputs + fee"
        assert self.fee_sat > 0 and self.vsize_estimate > 0, "a spend pays a fee"

    @property
    def outputs(self) -> tuple[TxOut, ...]:
        """Payments in the caller's order, change (if any) last."""
        return self.payments + ((self.change,) if self.change else ())

    @property
    def input_total_sat(self) -> int:
        return sum(u.value_sat for u in self.inputs)


def plan_spend(
    utxos: Iterable[Utxo],
    payments: Sequence[TxOut],
    *,
    change_address: str,
    target: FeeTarget,
    policy: SpendPolicy,
    required: Sequence[Utxo] = (),
) -> SpendPlan:
    """Choose coins from ``utxos`` (plus all of ``required``) paying ``payments`` at ``target``.

    Raises ``InsufficientUtxos`` when the spendable coins cannot pay, ``TooManyInputs``
    when they could but only with more than ``policy.max_inputs`` inputs, and
    ``FeeRateAboveCap`` when the target feerate is above the policy's cap.
    """
    _check_rate(target, policy)
    payments, scripts = _checked_payments(payments, policy)
    change = parse_address(change_address, policy.network)
    builder = _PlanBuilder(payments, scripts, change.text, change.script_pubkey, target, policy)
    required = tuple(required)
    if len({u.outpoint for u in required}) != len(required):
        raise InvalidInput("the required inputs contain a coin twice")
    confirmed, own_unconfirmed = _candidates(utxos, required, target)
    try:
        return builder.select(required, _largest_first(confirmed))
    except InsufficientUtxos:
        if not own_unconfirmed:
            raise
    return builder.select(required, _largest_first(confirmed + own_unconfirmed))


def plan_sweep(
    utxos: Iterable[Utxo], to_address: str, *, target: FeeTarget, policy: SpendPolicy
) -> SpendPlan:
    """Move every spendable, economic coin (largest first, up to ``max_inputs``) to one
    address, less the fee: how deposit addresses are emptied into the hot wallet.

    Raises ``InsufficientUtxos`` when nothing is left above the dust threshold after fees.
    """
    _check_rate(target, policy)
    destination = parse_address(to_address, policy.network)
    confirmed, own_unconfirmed = _candidates(utxos, (), target)
    inputs = tuple(_largest_first(confirmed + own_unconfirmed)[: policy.max_inputs])
    total_sat = sum(u.value_sat for u in inputs)
    vsize = p2wpkh_spend_vsize(len(inputs), (destination.script_pubkey,)) if inputs else 0
    amount_sat = total_sat - target.fee_for(vsize) if inputs else 0
    if amount_sat < max(policy.dust_threshold_sat, dust_limit_sat(destination.script_pubkey)):
        raise InsufficientUtxos(
            f"{total_sat} sat in {len(inputs)} spendable coins leave nothing above dust "
            "after the fee"
        )
    payment = TxOut(destination.text, amount_sat)
    return SpendPlan(inputs, (payment,), None, total_sat - amount_sat, vsize)


def _check_rate(target: FeeTarget, policy: SpendPolicy) -> None:
    if target.rate_sat_kvb > policy.max_fee_rate_sat_kvb:
        raise FeeRateAboveCap(
            f"a feerate of {target.rate_sat_kvb} sat/kvB is above the cap of "
            f"{policy.max_fee_rate_sat_kvb} sat/kvB"
        )


def _checked_payments(
    payments: Sequence[TxOut], policy: SpendPolicy
) -> tuple[tuple[TxOut, ...], tuple[bytes, ...]]:
    """The payments with canonical addresses, and their locking scripts; dust refused."""
    if not 1 <= len(payments) <= MAX_PAYMENTS:
        raise InvalidInput(f"a send has 1..{MAX_PAYMENTS} payments, got {len(payments)}")
    checked, scripts = [], []
    for payment in payments:
        address = parse_address(payment.address, policy.network)
        script = address.script_pubkey
        minimum = max(policy.dust_threshold_sat, dust_limit_sat(script))
        if payment.amount_sat < minimum:
            raise InvalidAmount(
                f"{payment.amount_sat} sat to {payment.address} is below the dust threshold "
                f"of {minimum} sat; no node would relay it"
            )
        checked.append(TxOut(address.text, payment.amount_sat))
        scripts.append(script)
    return tuple(checked), tuple(scripts)


def _candidates(
    utxos: Iterable[Utxo], required: Sequence[Utxo], target: FeeTarget
) -> tuple[list[Utxo], list[Utxo]]:
    """Spendable, economic coins not already required: (confirmed, own unconfirmed)."""
    taken = {u.outpoint for u in required}
    spend_cost_sat = fee_for(p2wpkh_input_vsize(), target.rate_sat_kvb)
    unique: dict[OutPoint, Utxo] = {}
    for utxo in utxos:
        if len(unique) >= MAX_CANDIDATE_UTXOS:
            break
        if utxo.outpoint in taken or not utxo.spendable or utxo.value_sat <= spend_cost_sat:
            continue
        unique.setdefault(utxo.outpoint, utxo)
    confirmed = [u for u in unique.values() if u.confirmations >= 1]
    own_unconfirmed = [u for u in unique.values() if u.confirmations == 0]
    return confirmed, own_unconfirmed


def _largest_first(pool: Iterable[Utxo]) -> list[Utxo]:
    return sorted(pool, key=lambda u: (-u.value_sat, u.txid, u.vout))


@dataclass(frozen=True, slots=True)
class _PlanBuilder:
    payments: tuple[TxOut, ...]
    scripts: tuple[bytes, ...]
    change_address: str
    change_script: bytes
    target: FeeTarget
    policy: SpendPolicy

    @property
    def payment_total_sat(self) -> int:
        return sum(p.amount_sat for p in self.payments)

    def select(self, required: tuple[Utxo, ...], by_value_desc: list[Utxo]) -> SpendPlan:
        """Required coins alone; else plus the smallest single coin that pays; else plus
        the largest coins until they pay or the input bound is reached."""
        if required:
            plan = self.build(required)
            if plan is not None:
                return plan
        room = self.policy.max_inputs - len(required)
        if room < 1:
            raise TooManyInputs(f"the {len(required)} required inputs leave no room for more")
        for coin in reversed(by_value_desc):
            plan = self.build((*required, coin))
            if plan is not None:
                return plan
        for count in range(2, min(room, len(by_value_desc)) + 1):
            plan = self.build((*required, *by_value_desc[:count]))
            if plan is not None:
                return plan
        self.raise_shortfall(required, by_value_desc)

    def build(self, inputs: tuple[Utxo, ...]) -> SpendPlan | None:
        """The plan spending exactly ``inputs``: with change if it is not dust, else
        without (the remainder is fee); None if they cannot pay."""
        total = sum(u.value_sat for u in inputs)
        with_change = p2wpkh_spend_vsize(len(inputs), (*self.scripts, self.change_script))
        fee = self.target.fee_for(with_change)
        change_sat = total - self.payment_total_sat - fee
        if change_sat >= max(self.policy.dust_threshold_sat, dust_limit_sat(self.change_script)):
            change = TxOut(self.change_address, change_sat)
            return SpendPlan(inputs, self.payments, change, fee, with_change)
        without_change = p2wpkh_spend_vsize(len(inputs), self.scripts)
        fee = total - self.payment_total_sat
        if fee < self.target.fee_for(without_change):
            return None
        return SpendPlan(inputs, self.payments, None, fee, without_change)

    def raise_shortfall(self, required: tuple[Utxo, ...], by_value_desc: list[Utxo]) -> NoReturn:
        everything = (*required, *by_value_desc)
        available_sat = sum(u.value_sat for u in everything)
        if len(everything) > self.policy.max_inputs and self.build(everything) is not None:
            raise TooManyInputs(
                f"paying {self.payment_total_sat} sat needs more than "
                f"{self.policy.max_inputs} inputs; consolidate the wallet's coins first"
            )
        raise InsufficientUtxos(
            f"the wallet's spendable coins ({available_sat} sat in {len(everything)} "
            f"coins) cannot pay {self.payment_total_sat} sat plus the fee"
        )
