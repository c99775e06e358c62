"""Treasury planning activities: how much to sweep, which deposit addresses to consolidate.

Thin adapters between the pure policies of ``croupier.treasury`` (sweep amounts,
consolidation rounds) and ``croupier.sweeps`` (the facts they decide from, and the
movements they open). Opening a movement holds it in the ledger in the same transaction
as its record, so a planned movement is either fully booked as in flight or not at all;
a retried plan finds the movements it opened (their ids come from the run) and resumes
them. Moving and booking the coins is ``croupier.activities.movements`` (hot wallet) and
``croupier.activities.address_sends`` (deposit addresses).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.btc_consolidation import BitcoinConsolidation
from croupier.activities.failures import maps_business_failures
from croupier.activities.movements import MovementView, gas_limit
from croupier.activities.treasury_chains import EthereumTreasury, TreasuryChain
from croupier.core.errors import InsufficientFunds
from croupier.core.money import Currency, parse_decimal
from croupier.core.settings import Settings
from croupier.payments.errors import UnsupportedCurrency
from croupier.sweeps import positions, refills
from croupier.sweeps.keys import NATIVE_CURRENCY, movement_id, movement_uuid
from croupier.sweeps.movements import (
    Movement,
    MovementKind,
    NewMovement,
    held_movements,
    open_movement,
)
from croupier.treasury.consolidation import (
    ConsolidationRules,
    PlannedStep,
    StepKind,
    plan_round,
)
from croupier.treasury.sweep_policy import (
    HotWalletLimits,
    HotWalletPosition,
    refill_amount,
    sweep_amount,
)


@dataclass(frozen=True)
class SweepOrder:
    chain: str
    # The run's workflow id: the movements it opens are named after it.
    run_key: str


@dataclass(frozen=True)
class SweepStep:
    """One currency's decision: a sweep in flight (opened now or resumed), and whether
    the hot wallet is low enough to ask cold for a refill (and none is open yet)."""

    currency: str
    movement: MovementView | None
    refill_amount: str
    open_refill_id: str | None
    note: str


@dataclass(frozen=True)
class ConsolidationOrder:
    chain: str
    run_key: str
    round: int


@dataclass(frozen=True)
class ConsolidationPlan:
    """Movements to drive this round: those still in flight from earlier runs first."""

    movements: tuple[MovementView, ...]
    poll_interval_s: float
    note: str


class TreasuryActivities:
    """Planning for every chain the worker serves (Bitcoin only with a node): sweeps on
    each, deposit-address consolidation by Ethereum's rounds or by Bitcoin's batches."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        ethereum: EthereumTreasury,
        bitcoin: BitcoinConsolidation | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._ethereum = ethereum
        self._bitcoin = bitcoin
        self._chains: dict[str, TreasuryChain] = {ethereum.chain: ethereum}
        if bitcoin is not None:
            self._chains[bitcoin.treasury.chain] = bitcoin.treasury

    @activity.defn(name="treasury.plan_sweeps")
    @maps_business_failures
    def plan_sweeps(self, order: SweepOrder) -> tuple[SweepStep, ...]:
        """Per configured currency of the chain: resume the sweep in flight, or open one
        for the excess over the target, and say whether a refill is due."""
        chain = self._chain(order.chain)
        steps = []
        for code in sorted(self._settings.treasury_hot_wallets):
            currency = Currency(code)
            if chain.can_move(currency):
                steps.append(self._plan_sweep(chain, order, currency))
                activity.heartbeat(code)
        return tuple(steps)

    @activity.defn(name="treasury.plan_consolidation")
    @maps_business_failures
    def plan_consolidation(self, order: ConsolidationOrder) -> ConsolidationPlan:
        """The movements this round drives: those in flight, then a new round's top-ups
        and consolidations for the most worthwhile addresses (a bounded batch)."""
        if order.chain != self._ethereum.chain:
            self._chain(order.chain)  # refuses a chain this worker does not serve
            assert self._bitcoin is not None
            movements, note = self._bitcoin.plan(order.run_key, order.round)
            return ConsolidationPlan(
                movements=tuple(MovementView.of(m) for m in movements),
                poll_interval_s=self._settings.hot_wallet_poll_s,
                note=note,
            )
        in_flight = [
            *held_movements(self._engine, MovementKind.TOP_UP, order.chain),
            *held_movements(self._engine, MovementKind.CONSOLIDATION, order.chain),
        ]
        rules = self._consolidation_rules()
        room = max(0, rules.max_addresses - len(in_flight))
        opened: list[Movement] = []
        if room:
            holdings = positions.address_holdings(
                self._engine, order.chain, native=rules.native, minimums=rules.minimums, limit=room
            )
            for step in plan_round(holdings, replace(rules, max_addresses=room)):
                movement = self._open_step(order, step)
                if movement is not None:
                    opened.append(movement)
                activity.heartbeat(step.address)
        return ConsolidationPlan(
            movements=tuple(MovementView.of(m) for m in [*in_flight, *opened]),
            poll_interval_s=self._settings.hot_wallet_poll_s,
            note=f"{len(in_flight)} in flight, {len(opened)} opened in round {order.round}",
        )

    # -- sweeps ------------------------------------------------------------------------------

    def _plan_sweep(self, chain: TreasuryChain, order: SweepOrder, currency: Currency) -> SweepStep:
        policy = self._settings.treasury_hot_wallets[currency.value]
        limits = HotWalletLimits(
            cap=parse_decimal(policy.cap, currency),
            target=parse_decimal(policy.target, currency),
            floor=parse_decimal(policy.floor, currency, allow_zero=True),
        )
        open_refill = refills.open_refill_id(self._engine, order.chain, currency)
        open_refill_id = None if open_refill is None else str(open_refill)
        held = held_movements(self._engine, MovementKind.SWEEP, order.chain, currency=currency)
        if held:
            note = f"resuming sweep {held[0].id} of {held[0].amount}"
            return SweepStep(currency.value, MovementView.of(held[0]), "0", open_refill_id, note)
        position = self._hot_position(chain, currency)
        note = f"hot wallet holds {position.spendable} (cap {limits.cap}, target {limits.target})"
        movement = None
        amount = sweep_amount(position, limits)
        if amount:
            cold = chain.cold_address(policy.cold_address)
            movement = self._open_sweep(chain, order, currency, cold, amount)
            note += f"; sweeping {amount}" if movement else "; the ledger refused the hold"
        refill = refill_amount(position, limits)
        return SweepStep(
            currency.value,
            None if movement is None else MovementView.of(movement),
            str(refill),
            open_refill_id,
            note,
        )

    def _hot_position(self, chain: TreasuryChain, currency: Currency) -> HotWalletPosition:
        native = NATIVE_CURRENCY[currency.chain]
        same_chain = [c for c in Currency if c.chain == currency.chain]
        payouts = positions.pending_payouts(self._engine, same_chain)
        fees = {c: chain.worst_fee(c) for c in same_chain}
        return HotWalletPosition(
            on_chain=chain.hot_balance(currency),
            ledger_available=positions.hot_wallet_available(self._engine, currency),
            reserved=positions.reserved_for(currency, native, payouts, fees),
            own_fee=fees[currency] if currency is native else 0,
        )

    def _open_sweep(
        self,
        chain: TreasuryChain,
        order: SweepOrder,
        currency: Currency,
        cold_address: str,
        amount: int,
    ) -> Movement | None:
        send_id = movement_uuid(order.run_key, MovementKind.SWEEP.value, currency.value)
        new = NewMovement(
            id=movement_id(MovementKind.SWEEP.value, order.chain, send_id),
            kind=MovementKind.SWEEP,
            chain=order.chain,
            currency=currency,
            from_address=chain.hot_address(),
            to_address=cold_address,
            amount=amount,
            fee_reserved=chain.worst_fee(currency),
            workflow_id=order.run_key,
            send_id=send_id,
        )
        return self._open(new)

    # -- consolidation ---------------------------------------------------------------------

    def _consolidation_rules(self) -> ConsolidationRules:
        minimums = {
            Currency(code): parse_decimal(amount, Currency(code))
            for code, amount in self._settings.treasury_consolidation_minimum.items()
            if self._ethereum.can_move(Currency(code))
        }
        return ConsolidationRules(
            native=NATIVE_CURRENCY[self._ethereum.chain],
            minimums=minimums,
            gas_limits={c: gas_limit(c) for c in minimums},
            max_fee_per_gas=self._settings.eth_max_fee_cap_wei,
            max_addresses=self._settings.treasury_consolidation_batch_addresses,
        )

    def _open_step(self, order: ConsolidationOrder, step: PlannedStep) -> Movement | None:
        movement = movement_uuid(order.run_key, str(order.round), step.kind.value, step.address)
        hot = self._ethereum.hot_address()
        top_up = step.kind is StepKind.TOP_UP
        new = NewMovement(
            id=movement_id(step.kind.value, order.chain, movement),
            kind=MovementKind.TOP_UP if top_up else MovementKind.CONSOLIDATION,
            chain=order.chain,
            currency=step.currency,
            from_address=hot if top_up else step.address,
            to_address=step.address if top_up else hot,
            amount=step.amount,
            fee_reserved=step.fee_reserved,
            workflow_id=order.run_key,
            hd_index=None if top_up else step.hd_index,
            send_id=movement if top_up else None,
        )
        return self._open(new)

    # -- shared ------------------------------------------------------------------------------

    def _open(self, new: NewMovement) -> Movement | None:
        """Open and hold the movement; None if the ledger refuses the hold (a wallet whose
        booked balance cannot cover it: nothing moves, the next run tries again)."""
        try:
            with self._engine.begin() as conn:
                return open_movement(conn, new)
        except InsufficientFunds as error:
            activity.logger.warning("movement %s not opened: %s", new.id, error)
            return None

    def _chain(self, chain: str) -> TreasuryChain:
        found = self._chains.get(chain)
        if found is None:
            raise UnsupportedCurrency(f"this worker moves no {chain} coins")
        return found
