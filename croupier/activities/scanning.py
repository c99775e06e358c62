"""The deposit scanner's one step: follow the chain, hand each new deposit to its workflow.

Chain-neutral: each chain plugs in as a ``ScannedChain`` (its ``ChainClient``, how to
refuse a node of another network, its reorg window), and the scanner workflow of each
chain (``deposit-scanner-eth``, ``deposit-scanner-btc``) names it in its request.

The step runs in one database transaction that locks the chain's cursor row, so it is
exclusive (a retry waits for a straggling first attempt instead of racing it), and it
saves the new window only after every deposit found in it was handed over: the cursor
always names a block below which nothing is lost. Handing over is idempotent: a deposit
workflow is started under its business key (``deposit-eth-<tx>-<log>``,
``deposit-btc-<txid>-<vout>``) with "use the
running one" on conflict, and deposits already credited (or dust) are not restarted,
so rescanning a range, after a restart or a reorg, never duplicates anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from croupier.activities.bridge import TemporalBridge
from croupier.activities.deposits import DepositSighting
from croupier.activities.failures import maps_business_failures
from croupier.chains.base import BlockHeader, ChainClient, IncomingTransfer
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.errors import ChainMoved
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.follow import FollowStep, follow
from croupier.core.money import format_decimal
from croupier.core.settings import Settings
from croupier.payments import cursors
from croupier.payments.addresses import MAX_ADDRESSES_PER_SCAN, watched_addresses
from croupier.payments.deposits import deposit_statuses
from croupier.payments.errors import UnsupportedCurrency
from croupier.payments.keys import deposit_id
from croupier.payments.sends import house_transaction_hashes
from croupier.payments.states import DepositStatus
from croupier.workflows.deposit import DepositInput, DepositWorkflow

HAND_OVER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ScanRequest:
    chain: str
    # Where to start when the chain has no cursor yet (None: the node's head).
    start_block: int | None = None


@dataclass(frozen=True)
class ScanReport:
    """One step's outcome, for the scanner's status and its pacing."""

    tip: int | None
    head: int
    deposits_found: int
    deposits_started: int
    reorg_depth: int
    # Nothing left to scan right now: the next step should wait for new blocks.
    caught_up: bool
    poll_interval_s: float


@dataclass(frozen=True)
class ScannedChain:
    """One chain as the scanner sees it: the node, a check that refuses a node of another
    network (its coins would be credited as real deposits), the reorg window, and where
    a chain with no cursor starts (None: the request's block, else the node's head)."""

    client: ChainClient
    check_node: Callable[[], None]
    reorg_window_blocks: int
    start_block: int | None = None

    @classmethod
    def ethereum(cls, client: EthereumClient, settings: Settings) -> ScannedChain:
        return cls(
            client=client,
            check_node=lambda: client.ensure_chain_id(settings.eth_chain_id),
            reorg_window_blocks=settings.eth_reorg_window_blocks,
            start_block=settings.eth_deposit_start_block,
        )

    @classmethod
    def bitcoin(cls, client: BitcoinClient, settings: Settings) -> ScannedChain:
        return cls(
            client=client,
            check_node=client.ensure_network,
            reorg_window_blocks=settings.btc_reorg_window_blocks,
        )


class ScannerActivities:
    def __init__(
        self,
        engine: Engine,
        chains: Iterable[ScannedChain],
        settings: Settings,
        temporal: TemporalBridge,
    ) -> None:
        self._engine = engine
        self._chains = {scanned.client.chain: scanned for scanned in chains}
        self._settings = settings
        self._temporal = temporal
        self._checked: set[str] = set()

    @activity.defn(name="payments.scan_deposits")
    @maps_business_failures
    def scan_deposits(self, request: ScanRequest) -> ScanReport:
        scanned = self._chain(request.chain)
        client = scanned.client
        if request.chain not in self._checked:
            scanned.check_node()
            self._checked.add(request.chain)
        with self._engine.begin() as conn:
            window = cursors.lock_window(conn, request.chain) or ()
            watched = watched_addresses(conn, request.chain)
            start_block = request.start_block
            if start_block is None:
                start_block = scanned.start_block
            if start_block is None:
                start_block = client.head_number()
            step = follow(
                client,
                window,
                watched[:MAX_ADDRESSES_PER_SCAN],
                start_block=start_block,
                window_size=scanned.reorg_window_blocks,
            )
            transfers = [*step.transfers, *self._scan_rest(client, window, step, watched)]
            started = self._hand_over(transfers)
            if step.window:
                cursors.save_window(conn, request.chain, step.window)
        tip = step.window[-1].number if step.window else None
        return ScanReport(
            tip=tip,
            head=step.head,
            deposits_found=len(transfers),
            deposits_started=started,
            reorg_depth=step.reorg.depth if step.reorg else 0,
            # No window yet means the start block is above the head: nothing to scan.
            caught_up=step.reorg is None and (tip is None or tip >= step.head),
            poll_interval_s=self._settings.deposit_scanner_poll_s,
        )

    @activity.defn(name="payments.reset_scanner")
    @maps_business_failures
    def reset_scanner(self, chain: str) -> None:
        """Forget the window; the next step starts from the block the request names."""
        with self._engine.begin() as conn:
            cursors.lock_window(conn, chain)
            cursors.reset_window(conn, chain)

    def _chain(self, chain: str) -> ScannedChain:
        scanned = self._chains.get(chain)
        if scanned is None:
            raise UnsupportedCurrency(f"this worker scans no {chain} node")
        return scanned

    def _scan_rest(
        self,
        client: ChainClient,
        window: Sequence[BlockHeader],
        step: FollowStep,
        watched: Sequence[str],
    ) -> list[IncomingTransfer]:
        """Watched addresses past the first ``MAX_ADDRESSES_PER_SCAN``: the same blocks
        again, one scan per slice, checked to be the very blocks the step saw."""
        if len(watched) <= MAX_ADDRESSES_PER_SCAN or step.reorg is not None:
            return []
        tip = window[-1].number if window else -1
        scanned = [header for header in step.window if header.number > tip]
        if not scanned:
            return []
        found: list[IncomingTransfer] = []
        for offset in range(MAX_ADDRESSES_PER_SCAN, len(watched), MAX_ADDRESSES_PER_SCAN):
            chunk = watched[offset : offset + MAX_ADDRESSES_PER_SCAN]
            result = client.scan(scanned[0].number, scanned[-1].number, chunk)
            if result.headers != tuple(scanned):
                raise ChainMoved("the chain moved between scans of the same blocks")
            found.extend(result.transfers)
        return found

    def _hand_over(self, transfers: Sequence[IncomingTransfer]) -> int:
        """Start (or find running) one Deposit workflow per transfer; returns how many
        were handed over (those not already credited or dust)."""
        house = house_transaction_hashes(self._engine, {t.tx_hash for t in transfers})
        # The casino's own coins (a gas top-up from the hot wallet) are no player's deposit.
        transfers = [t for t in transfers if t.tx_hash not in house]
        keys = [deposit_id(t.chain, t.tx_hash, t.log_index) for t in transfers]
        statuses = deposit_statuses(self._engine, keys)
        finished = {DepositStatus.CREDITED, DepositStatus.DUST}
        task_queue = activity.info().task_queue
        started = 0
        for key, transfer in zip(keys, transfers, strict=True):
            if statuses.get(key) in finished:
                continue
            self._temporal.run(
                self._start(key, transfer, task_queue), timeout_s=HAND_OVER_TIMEOUT_S
            )
            started += 1
        return started

    async def _start(self, key: str, transfer: IncomingTransfer, task_queue: str) -> None:
        amount = format_decimal(transfer.amount, transfer.currency)
        await self._temporal.client.start_workflow(
            DepositWorkflow.run,
            DepositInput(sighting=DepositSighting.of(transfer)),
            id=key,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A deposit orphaned earlier and mined again starts a new run; one already
            # credited was filtered out above (and its ledger credit is idempotent).
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"Deposit of {amount} {transfer.currency} to {transfer.to_address}",
        )
