"""Bitcoin deposit-address consolidation: one transaction per batch, many addresses.

Ethereum moves one deposit address per transaction (its nonce); Bitcoin spends the
credited coins of many deposit addresses in one transaction to the hot address
(``plan_sweep``), signed with each address's key. No gas top-up exists on Bitcoin: each
coin pays its own way. The batch is planned, signed and stored, and one movement per
address opened (held), in the planning activity, because a Bitcoin fee is fixed by the
signed transaction: each address's movement then carries exactly what reaches the hot
wallet and its share of the fee (``croupier.treasury.btc_consolidation``), the same
ledger legs as Ethereum's consolidations (``hot_wallet <- deposits_in_flight``, the fee
``fees <- deposits_in_flight``), and monitoring's deposit records follow unchanged.

One batch is in flight at a time. Sending re-broadcasts the stored bytes (one call per
movement of the batch: the node takes a known transaction as a no-op); a dropped one is
sent again. A stuck batch is not replaced: consolidation is never urgent, and the coins
stay booked at their addresses while it waits.
"""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.movements import MovementOutcome
from croupier.activities.signing import SignerSource
from croupier.activities.treasury_chains import BitcoinTreasury
from croupier.chains.base import TxState
from croupier.chains.bitcoin.backend import OutPoint
from croupier.chains.bitcoin.coins import Utxo, plan_sweep
from croupier.chains.bitcoin.errors import FeeRateAboveCap, InsufficientUtxos
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.errors import BroadcastRejected, FeeTooLow
from croupier.core.errors import InsufficientFunds
from croupier.core.money import Currency, parse_decimal
from croupier.core.settings import Settings
from croupier.sweeps import btc_batches
from croupier.sweeps.btc_batches import DepositCoin
from croupier.sweeps.keys import movement_id, movement_uuid
from croupier.sweeps.movements import (
    Movement,
    MovementKind,
    NewMovement,
    get_movement,
    held_movements,
)
from croupier.treasury.btc_consolidation import share_batch

CHAIN = "bitcoin"


class BitcoinConsolidation:
    def __init__(
        self,
        engine: Engine,
        treasury: BitcoinTreasury,
        signer: SignerSource,
        settings: Settings,
    ) -> None:
        self._engine = engine
        self.treasury = treasury
        self._client = treasury.client
        self._signer = signer
        self._settings = settings

    # -- planning ------------------------------------------------------------------------

    def plan(self, run_key: str, round_number: int) -> tuple[list[Movement], str]:
        """The batch in flight, else a new one (signed, stored, held), else nothing."""
        in_flight = held_movements(self._engine, MovementKind.CONSOLIDATION, CHAIN)
        if in_flight:
            return in_flight, f"{len(in_flight)} address(es) of a batch in flight"
        minimum = self._settings.treasury_consolidation_minimum.get(Currency.BTC.value)
        if minimum is None:
            return [], "no BTC consolidation minimum is set"
        coins = btc_batches.candidate_coins(
            self._engine,
            minimum=parse_decimal(minimum, Currency.BTC),
            max_addresses=self._settings.treasury_consolidation_batch_addresses,
            max_coins=self._client.policy.max_inputs,
        )
        coins = self._unspent_on_chain(coins)
        if not coins:
            return [], "no deposit address holds the minimum"
        try:
            opened = self._open_batch(run_key, round_number, coins)
        except FeeRateAboveCap as error:
            return [], f"the feerate exceeds the cap ({error}); waiting for cheaper fees"
        except InsufficientUtxos as error:
            return [], f"nothing worth moving ({error})"
        except InsufficientFunds as error:
            activity.logger.warning("consolidation batch not opened: %s", error)
            return [], f"the ledger refused the hold ({error})"
        total = sum(m.amount for m in opened)
        return opened, f"batch of {len(opened)} address(es) moving {total} sat opened"

    def _unspent_on_chain(self, coins: list[DepositCoin]) -> list[DepositCoin]:
        """The recorded coins the node still lists unspent and confirmed. A credited coin
        the node does not know (spent by someone else, or gone with a node that was
        reset) would make a batch no node accepts, stuck for good; it is left out, and
        reconciliation's deposit-address check raises the alarm for it."""
        listed = self._client.utxos(sorted({coin.address for coin in coins}))
        unspent = {OutPoint(u.txid, u.vout) for u in listed if u.confirmations >= 1}
        kept = [coin for coin in coins if coin.outpoint in unspent]
        missing = [coin for coin in coins if coin.outpoint not in unspent]
        if missing:
            activity.logger.warning(
                "%d credited deposit coin(s) not unspent on the node, left out: %s",
                len(missing),
                ", ".join(f"{c.outpoint.txid}:{c.outpoint.vout}" for c in missing[:5]),
            )
        return kept

    def _open_batch(
        self, run_key: str, round_number: int, coins: list[DepositCoin]
    ) -> list[Movement]:
        """Plan (dropping any address whose coins cannot carry their share of the fee),
        sign with every address's key, store and hold: one transaction."""
        hot = self.treasury.hot_address()
        target = FeeTarget(self._client.market_fee_rate_sat_kvb())
        by_outpoint = {coin.outpoint: coin for coin in coins}
        while True:
            utxos = [_utxo(coin) for coin in by_outpoint.values()]
            plan = plan_sweep(utxos, hot, target=target, policy=self._client.policy)
            spent = [by_outpoint[OutPoint(u.txid, u.vout)] for u in plan.inputs]
            values: dict[str, tuple[int, ...]] = {}
            for coin in spent:
                values[coin.address] = (*values.get(coin.address, ()), coin.value_sat)
            shares = share_batch(values, plan.fee_sat)
            short = {share.address for share in shares if share.amount <= 0}
            if not short:
                break
            by_outpoint = {o: c for o, c in by_outpoint.items() if c.address not in short}
        indexes = {coin.address: coin.hd_index for coin in spent}
        signed = self._signer.get().sign_btc_sweep(
            plan, sorted(set(indexes.values())), self._client.network
        )
        movements = []
        ids = {}
        for share in shares:
            key = movement_uuid(run_key, str(round_number), "consolidation", share.address)
            ids[share.address] = movement_id(MovementKind.CONSOLIDATION.value, CHAIN, key)
            movements.append(
                NewMovement(
                    id=ids[share.address],
                    kind=MovementKind.CONSOLIDATION,
                    chain=CHAIN,
                    currency=Currency.BTC,
                    from_address=share.address,
                    to_address=hot,
                    amount=share.amount,
                    fee_reserved=share.fee,
                    workflow_id=run_key,
                    hd_index=indexes[share.address],
                )
            )
        owners = {coin.outpoint: ids[coin.address] for coin in spent}
        return btc_batches.open_batch(self._engine, signed, movements, owners)

    # -- sending and watching ------------------------------------------------------------

    def send(self, movement_id: str) -> tuple[str, str | None]:
        """Broadcast the movement's batch (again): its txid, and why it waits, if it does."""
        batch = btc_batches.batch_of(self._engine, movement_id)
        return batch.txid, self._broadcast(batch.raw)

    def watch(self, movement_id: str) -> tuple[MovementOutcome | None, str]:
        """Final at depth (the movement's fee share is what it paid), or pending: a
        dropped batch is broadcast again."""
        batch = btc_batches.batch_of(self._engine, movement_id)
        status = self._client.transaction_status(batch.txid)
        if status.block_number is None:
            if status.state is TxState.UNKNOWN:
                return None, self._broadcast(batch.raw) or "dropped by the node; sent again"
            return None, "waiting to be mined"
        required = self._settings.confirmations_for(Currency.BTC)
        if not status.is_final(required):
            return None, f"{status.confirmations}/{required} confirmations"
        movement = get_movement(self._engine, movement_id)
        fee = str(movement.fee_reserved)
        return MovementOutcome(movement_id, batch.txid, fee_paid=fee), "final"

    def _broadcast(self, raw: bytes) -> str | None:
        try:
            self._client.broadcast(raw)
        except FeeTooLow as error:
            return f"underpriced for now ({error.reason}); it waits for a quieter mempool"
        except BroadcastRejected as error:
            return f"the node refused it: {error.reason}"
        return None


def _utxo(coin: DepositCoin) -> Utxo:
    return Utxo(
        txid=coin.txid,
        vout=coin.vout,
        value_sat=coin.value_sat,
        address=coin.address,
        confirmations=coin.confirmations,
    )
