"""The one list of workflows and activities a Croupier worker runs.

Every new workflow or activity group is added here, so the worker, the tests and the
replay checks agree on what exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client

from croupier.activities.address_sends import AddressSendActivities
from croupier.activities.addresses import AddressActivities
from croupier.activities.betting import BettingActivities
from croupier.activities.bonus import BonusActivities
from croupier.activities.bonus_rewards import RewardActivities
from croupier.activities.bridge import TemporalBridge
from croupier.activities.btc_consolidation import BitcoinConsolidation
from croupier.activities.btc_hot_wallet import BitcoinHotWallet
from croupier.activities.compliance import ComplianceActivities
from croupier.activities.crash import CrashActivities
from croupier.activities.deposit_guard import deposit_admission
from croupier.activities.deposits import DepositActivities
from croupier.activities.eth_hot_wallet import EthereumHotWallet
from croupier.activities.health import HealthActivities
from croupier.activities.hot_wallet import HotWalletActivities
from croupier.activities.maintenance import MaintenanceActivities
from croupier.activities.monitoring import MonitoringActivities, chain_readers
from croupier.activities.movements import MovementActivities
from croupier.activities.refill_chains import BitcoinRefills, EthereumRefills, RefillChain
from croupier.activities.refills import RefillActivities
from croupier.activities.scanning import ScannedChain, ScannerActivities
from croupier.activities.signing import SignerSource
from croupier.activities.treasury import TreasuryActivities
from croupier.activities.treasury_chains import BitcoinTreasury, EthereumTreasury
from croupier.activities.withdrawals import WithdrawalActivities
from croupier.betting.sealing import sealer_from_settings
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.ethereum.client import EthereumClient
from croupier.compliance.sanctions import configured_list
from croupier.core.clock import SystemClock
from croupier.core.settings import Settings
from croupier.payments.rules import PaymentRules
from croupier.treasury.keystore import KeyStore, keystore_from_settings
from croupier.workers.btc_watch import watch_cold_addresses
from croupier.workflows.bonus import BonusWorkflow
from croupier.workflows.bonus_rewards import BonusRewardsWorkflow
from croupier.workflows.consolidation import ConsolidationWorkflow
from croupier.workflows.crash import CrashRoundWorkflow
from croupier.workflows.deposit import DepositWorkflow
from croupier.workflows.deposit_address import DepositAddressWorkflow
from croupier.workflows.deposit_scanner import DepositScannerWorkflow
from croupier.workflows.health import HealthCheckWorkflow
from croupier.workflows.hot_wallet_sender import HotWalletSenderWorkflow
from croupier.workflows.kyc_review import KycReviewWorkflow
from croupier.workflows.limit_change import LimitChangeWorkflow
from croupier.workflows.maintenance import LedgerMaintenanceWorkflow
from croupier.workflows.mines import MinesGameWorkflow
from croupier.workflows.reconciliation import ReconciliationWorkflow
from croupier.workflows.refill import RefillWorkflow
from croupier.workflows.session import PlayerSessionWorkflow
from croupier.workflows.sweep import SweepWorkflow
from croupier.workflows.withdrawal import WithdrawalWorkflow


@dataclass(frozen=True)
class WorkerDeps:
    """What activities are built from: long-lived clients owned by the worker process."""

    settings: Settings
    engine: Engine
    # Payments: the deposit scanner and withdrawals start and signal workflows through
    # this client. The Ethereum node and the keystore default to the settings' (neither
    # is touched before the first payment activity runs; the keystore not before the
    # first address derivation or signature).
    temporal: Client | None = None
    ethereum: EthereumClient | None = None
    # None: bitcoind from CROUPIER_BTC_RPC_URL if set, else no Bitcoin on this worker.
    bitcoin: BitcoinClient | None = None
    keystore: Callable[[], KeyStore] | None = None


def workflows() -> Sequence[type]:
    return [
        HealthCheckWorkflow,
        PlayerSessionWorkflow,
        BonusWorkflow,
        BonusRewardsWorkflow,
        MinesGameWorkflow,
        ReconciliationWorkflow,
        LedgerMaintenanceWorkflow,
        CrashRoundWorkflow,
        KycReviewWorkflow,
        LimitChangeWorkflow,
        DepositScannerWorkflow,
        DepositWorkflow,
        DepositAddressWorkflow,
        WithdrawalWorkflow,
        HotWalletSenderWorkflow,
        SweepWorkflow,
        ConsolidationWorkflow,
        RefillWorkflow,
    ]


def activities(deps: WorkerDeps) -> Sequence[Callable[..., Any]]:
    health = HealthActivities(deps.engine)
    betting = BettingActivities(
        deps.engine,
        sealer_from_settings(deps.settings),
        SystemClock(),
        dev_faucet_enabled=deps.settings.dev_faucet_enabled,
    )
    return [
        health.probe_database,
        betting.open_session,
        betting.settle,
        betting.open_game,
        betting.reveal,
        betting.rotate_seeds,
        betting.dev_credit,
        *_bonus_activities(deps),
        *MonitoringActivities(
            deps.engine,
            deps.settings,
            chain_readers(deps.settings, deps.ethereum, deps.bitcoin),
        ).all(),
        *MaintenanceActivities(deps.engine, deps.settings, SystemClock()).all(),
        *_crash_activities(deps),
        *_compliance_activities(deps),
        *_payments_activities(deps),
    ]


def _bonus_activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    bonus = BonusActivities(deps.engine)
    rewards = RewardActivities(deps.engine, deps.settings)
    return [
        bonus.activate,
        bonus.finish,
        bonus.session_bonus,
        bonus.player_open_bonus,
        rewards.pay_rewards,
    ]


def _crash_activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    crash = CrashActivities(deps.engine, deps.settings, SystemClock())
    return [crash.open_round, crash.take_stake, crash.settle_round]


def _compliance_activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    compliance = ComplianceActivities(
        deps.engine, SystemClock(), configured_list(deps.settings.sanctions_list_path)
    )
    return [
        compliance.run_kyc_checks,
        compliance.await_kyc_review,
        compliance.approve_kyc_automatically,
        compliance.apply_kyc_decision,
        compliance.expire_kyc_review,
        compliance.remind_kyc_reviewers,
        compliance.apply_limit_change,
    ]


def _payments_activities(deps: WorkerDeps) -> list[Callable[..., Any]]:
    ethereum = deps.ethereum or EthereumClient.from_settings(deps.settings)
    signer = SignerSource(deps.keystore or partial(keystore_from_settings, deps.settings))
    temporal = TemporalBridge(deps.temporal)
    rules = PaymentRules(deps.settings)
    bitcoin = _bitcoin(deps)
    if bitcoin is not None:
        watch_cold_addresses(bitcoin, deps.settings)  # the cold check reads the node wallet
    chains = _scanned_chains(deps.settings, ethereum, bitcoin)
    addresses = AddressActivities(deps.engine, signer, deps.settings, bitcoin)
    scanner = ScannerActivities(deps.engine, chains, deps.settings, temporal)
    deposits = DepositActivities(
        deps.engine,
        {scanned.client.chain: scanned.client for scanned in chains},
        rules,
        admit=deposit_admission(SystemClock()),
    )
    withdrawals = WithdrawalActivities(deps.engine, rules, signer, temporal)
    hot_wallet = HotWalletActivities(
        [
            EthereumHotWallet(deps.engine, ethereum, signer, deps.settings),
            *([BitcoinHotWallet(deps.engine, bitcoin, signer, deps.settings)] if bitcoin else []),
        ]
    )
    return [
        addresses.assign_deposit_address,
        scanner.scan_deposits,
        scanner.reset_scanner,
        deposits.record_deposit,
        deposits.check_deposit,
        deposits.credit_deposit,
        deposits.release_deposit,
        deposits.orphan_deposit,
        withdrawals.open_withdrawal,
        withdrawals.assess_withdrawal,
        withdrawals.remind_compliance,
        withdrawals.record_approval,
        withdrawals.release_withdrawal,
        withdrawals.enqueue_send,
        withdrawals.record_broadcast,
        withdrawals.resume_if_unpaused,
        withdrawals.settle_withdrawal,
        hot_wallet.prepare_sender,
        hot_wallet.send_withdrawal,
        hot_wallet.watch_sends,
        *_treasury_activities(deps, ethereum, bitcoin, signer, temporal),
    ]


def _bitcoin(deps: WorkerDeps) -> BitcoinClient | None:
    """The worker's Bitcoin node: the injected one, else bitcoind from the settings, else
    none (no ``CROUPIER_BTC_RPC_URL``: the worker serves no Bitcoin, as without Anvil)."""
    if deps.bitcoin is not None:
        return deps.bitcoin
    if deps.settings.btc_rpc_url is None:
        return None
    return BitcoinClient.from_settings(deps.settings)


def _scanned_chains(
    settings: Settings, ethereum: EthereumClient, bitcoin: BitcoinClient | None
) -> tuple[ScannedChain, ...]:
    if bitcoin is None:
        return (ScannedChain.ethereum(ethereum, settings),)
    return (ScannedChain.ethereum(ethereum, settings), ScannedChain.bitcoin(bitcoin, settings))


def _treasury_activities(
    deps: WorkerDeps,
    ethereum: EthereumClient,
    bitcoin: BitcoinClient | None,
    signer: SignerSource,
    temporal: TemporalBridge,
) -> list[Callable[..., Any]]:
    eth_treasury = EthereumTreasury(ethereum, signer, deps.settings)
    refill_chains: dict[str, RefillChain] = {
        ethereum.chain: EthereumRefills(eth_treasury, deps.settings)
    }
    btc = None
    if bitcoin is not None:
        btc_treasury = BitcoinTreasury(bitcoin, signer, deps.settings)
        btc = BitcoinConsolidation(deps.engine, btc_treasury, signer, deps.settings)
        refill_chains[bitcoin.chain] = BitcoinRefills(btc_treasury)
    planning = TreasuryActivities(deps.engine, deps.settings, eth_treasury, btc)
    movements = MovementActivities(deps.engine, deps.settings, temporal)
    address_sends = AddressSendActivities(deps.engine, ethereum, signer, deps.settings, btc)
    refills = RefillActivities(deps.engine, refill_chains, deps.settings)
    return [
        planning.plan_sweeps,
        planning.plan_consolidation,
        movements.queue_movement,
        movements.sent_outcomes,
        movements.settle_movement,
        address_sends.send_from_deposit_address,
        address_sends.watch_deposit_address_sends,
        refills.open_refill,
        refills.record_refill_approval,
        refills.accept_refill_transaction,
        refills.refill_progress,
        refills.end_refill,
    ]
