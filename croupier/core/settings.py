"""All runtime configuration, from the environment (prefix ``CROUPIER_``) or ``.env``.

One settings object for the whole process. Errors are reported one line per bad
variable, naming the variable and what it expects, because an operator reading a
traceback at 3 a.m. should not have to map field names to environment variables.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from croupier.core.errors import ConfigurationError
from croupier.core.money import Currency, parse_decimal

ENV_PREFIX = "CROUPIER_"

Port = Annotated[int, Field(ge=1, le=65535)]
MIN_JWT_SECRET_CHARS = 32
GameName = Literal["dice", "limbo", "plinko", "mines", "crash"]
ALL_GAMES: tuple[GameName, ...] = ("dice", "limbo", "plinko", "mines", "crash")
_HEX_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
# A cold address's form: Ethereum hex, or Bitcoin bech32 / base58 (the chain's own
# parser checks it fully, with the network, before a sweep is opened).
_COLD_ADDRESS_RE = re.compile(
    r"^(0x[0-9a-fA-F]{40}|(bc|tb|bcrt)1[02-9ac-hj-np-z]{6,87}|[123mn][1-9A-HJ-NP-Za-km-z]{25,34})$"
)
KycContentType = Literal["application/pdf", "image/jpeg", "image/png"]
KYC_CONTENT_TYPES: tuple[KycContentType, ...] = ("application/pdf", "image/jpeg", "image/png")


class HotWalletPolicy(BaseModel):
    """One currency's hot wallet limits (whole coins as decimal strings) and its cold
    address. Above ``cap`` a sweep moves the excess over ``target`` to the cold address;
    below ``floor`` a refill from cold back to ``target`` is requested. The cold address
    is watch-only: its keys are never on these machines."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cap: str
    target: str
    floor: str
    cold_address: str = Field(pattern=_COLD_ADDRESS_RE.pattern)


class Settings(BaseSettings):
    """Every knob Croupier reads. Field ``foo`` is environment variable ``CROUPIER_FOO``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    # Where local state (embedded PostgreSQL, Temporal's SQLite file, logs) lives.
    data_dir: Path = Path(".croupier")

    # PostgreSQL. Unset means: start the embedded server under data_dir/pg.
    database_url: str | None = None
    database_connect_timeout_s: int = Field(default=5, ge=1, le=120)
    database_pool_size: int = Field(default=10, ge=1, le=200)

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "croupier"
    temporal_ui_port: Port = 8233

    # HTTP API.
    api_host: str = "127.0.0.1"
    api_port: Port = 8000

    # Ethereum.
    eth_rpc_url: str = "http://127.0.0.1:8545"
    anvil_port: Port = 8545

    # Ethereum chain domain (croupier.chains.ethereum): scanning, confirmations, fees.
    eth_chain_id: int = Field(default=31337, ge=1)
    eth_rpc_timeout_s: int = Field(default=10, ge=1, le=120)
    eth_confirmations: int = Field(default=12, ge=1, le=512)
    # Blocks remembered for reorg detection; must exceed eth_confirmations.
    eth_reorg_window_blocks: int = Field(default=64, ge=2, le=1024)
    eth_scan_batch_blocks: int = Field(default=100, ge=1, le=500)
    # Also find ETH that contracts send to deposit addresses (smart-contract wallets,
    # exchanges' batchers) by tracing each scanned block's calls. Needs a node with the
    # debug API (debug_traceBlockByHash, callTracer); tracing costs the node far more than
    # reading blocks, so scan fewer blocks per batch on mainnet.
    eth_internal_transfers: bool = False
    usdt_contract_address: str | None = None
    # Fees in gwei as exact decimals (up to 9 places, i.e. whole wei); never floats.
    eth_max_fee_gwei_cap: Decimal = Field(default=Decimal(200), gt=0, le=100_000, decimal_places=9)
    eth_priority_fee_gwei: Decimal = Field(default=Decimal(1), ge=0, le=10_000, decimal_places=9)

    # Bitcoin chain domain (croupier.chains.bitcoin). Unset btc_rpc_url: Bitcoin is off.
    # The node runs with -txindex=1; btc_rpc_wallet is a watch-only wallet it creates.
    btc_network: Literal["regtest", "testnet", "bitcoin"] = "regtest"
    btc_rpc_url: str | None = None
    btc_rpc_user: str | None = None
    btc_rpc_password: SecretStr | None = None
    btc_rpc_wallet: str = Field(default="croupier-watch", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    btc_rpc_timeout_s: int = Field(default=10, ge=1, le=120)
    btc_confirmations: int = Field(default=3, ge=1, le=100)
    # Blocks remembered for reorg detection; must exceed btc_confirmations.
    btc_reorg_window_blocks: int = Field(default=24, ge=2, le=1024)
    btc_scan_batch_blocks: int = Field(default=10, ge=1, le=100)
    # Feerates in sat/vB as exact decimals (up to 3 places, i.e. whole sat/kvB).
    btc_min_relay_fee_sat_vb: Decimal = Field(default=Decimal(1), gt=0, le=1000, decimal_places=3)
    btc_max_fee_rate_sat_vb: Decimal = Field(
        default=Decimal(500), gt=0, le=10_000, decimal_places=3
    )
    # Used when the node has no estimate yet (fresh node, regtest).
    btc_fallback_fee_rate_sat_vb: Decimal = Field(
        default=Decimal(2), gt=0, le=10_000, decimal_places=3
    )
    btc_dust_threshold_sat: int = Field(default=546, ge=294, le=100_000)
    btc_max_inputs: int = Field(default=100, ge=1, le=500)
    # Unix time from which the worker's start-up import of the BTC cold address rescans
    # the chain (0: genesis). Set it to just before the cold address's first coin.
    btc_cold_rescan_from: int = Field(default=0, ge=0)

    # Key custody (croupier.treasury). The HD master seed lives in a local encrypted
    # keystore (data_dir/keystore.json, unlocked by the passphrase) or in Vault KV v2.
    keystore_backend: Literal["local", "vault"] = "local"
    keystore_passphrase: SecretStr | None = None
    vault_addr: str | None = None
    vault_token: SecretStr | None = None
    vault_role_id: str | None = None
    vault_secret_id: SecretStr | None = None
    vault_kv_mount: str = "secret"
    vault_seed_path: str = "croupier/hd-seed"
    vault_timeout_s: int = Field(default=5, ge=1, le=60)

    # Auth (croupier.identity, croupier.api.auth): tokens, password hashing, TOTP, rate
    # limits, idempotency keys. Unset jwt_secret: the API generates one on first start
    # and keeps it in data_dir/jwt-secret (one machine only; replicas must share a value).
    jwt_secret: SecretStr | None = None
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_s: int = Field(default=14 * 86400, ge=3600, le=90 * 86400)
    totp_issuer: str = Field(default="Croupier", min_length=1, max_length=64)
    # Seals TOTP secrets at rest. Unset: a key file kept in data_dir (one machine only).
    totp_sealing_key: SecretStr | None = None
    password_hash_time_cost: int = Field(default=3, ge=1, le=10)
    password_hash_memory_kib: int = Field(default=65536, ge=8192, le=1_048_576)
    login_attempts_per_ip: int = Field(default=30, ge=1, le=100_000)
    login_attempts_per_account: int = Field(default=10, ge=1, le=10_000)
    login_window_s: int = Field(default=60, ge=1, le=86400)
    registrations_per_ip: int = Field(default=10, ge=1, le=100_000)
    registration_window_s: int = Field(default=3600, ge=1, le=86400)
    idempotency_key_ttl_s: int = Field(default=86400, ge=60, le=7 * 86400)
    idempotency_lock_timeout_s: int = Field(default=60, ge=1, le=3600)

    # Monitoring (croupier.monitoring): the reconciliation schedule, metrics endpoints and
    # money alarms. A metrics port of 0 turns that endpoint off. Breaker amounts are whole
    # coins as decimal strings per currency, e.g. '{"ETH": "100", "USDT": "250000"}'.
    reconciliation_interval_s: int = Field(default=300, ge=10, le=86400)
    # Holds may stay pending this long past their timeout before reconciliation flags them.
    reconciliation_pending_grace_s: int = Field(default=600, ge=0, le=86400)
    # Player deposit addresses checked against the chain per run and chain (a rotation;
    # croupier.monitoring.deposit_addresses), and how long coins nobody recorded may sit
    # at one (a deposit the scanner has not reached yet) before it is an alarm.
    reconciliation_deposit_batch_addresses: int = Field(default=500, ge=1, le=5000)
    reconciliation_deposit_surplus_grace_s: int = Field(default=900, ge=0, le=86400)
    # Ledger maintenance (croupier.workflows.maintenance): expiring timed-out holds and
    # creating monthly partitions ahead of need, on a schedule of its own.
    ledger_maintenance_interval_s: int = Field(default=60, ge=10, le=86400)
    ledger_partition_months_ahead: int = Field(default=6, ge=2, le=120)
    # No posting transaction runs longer than this; the drift window ends this far back.
    house_drift_settle_margin_s: int = Field(default=60, ge=1, le=3600)
    metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    temporal_metrics_port: int = Field(default=9465, ge=0, le=65535)
    outcome_monitor_window_bets: int = Field(default=10_000, ge=100, le=100_000)
    outcome_monitor_min_bets: int = Field(default=500, ge=50, le=100_000)
    # The false-alarm probability of one game's check when its outcomes are fair.
    outcome_monitor_alpha: float = Field(default=1e-6, gt=0, lt=0.5)
    withdrawal_breaker_window_s: int = Field(default=3600, ge=60, le=7 * 86400)
    withdrawal_breaker_max_requests: int = Field(default=200, ge=1, le=1_000_000)
    withdrawal_breaker_max_amounts: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "100", "BTC": "5", "USDT": "250000"}
    )
    withdrawal_breaker_new_account_age_s: int = Field(default=7 * 86400, ge=0, le=365 * 86400)
    withdrawal_breaker_max_new_account_requests: int = Field(default=20, ge=1, le=1_000_000)
    withdrawal_breaker_max_new_account_amounts: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "10", "BTC": "0.5", "USDT": "25000"}
    )

    # Betting (croupier.betting, the session and mines workflows). The max bet is whole
    # coins as a decimal string per currency, e.g. '{"ETH": "10", "USDT": "10000"}'; a
    # currency left out takes no bets. The faucet credits free test funds: dev stacks only.
    max_bet: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "10", "BTC": "0.5", "USDT": "10000"}
    )
    games_enabled: list[GameName] = Field(default_factory=lambda: list(ALL_GAMES))
    dev_faucet_enabled: bool = False
    # A session workflow continues as new after this many bets (or when Temporal asks).
    session_continue_as_new_bets: int = Field(default=500, ge=10, le=5000)
    # A session with no bets and no game in play for this long ends; the next bet restarts it.
    session_idle_timeout_s: int = Field(default=3600, ge=60, le=30 * 86400)
    # A mines game untouched this long cashes out (or, with no safe reveal, is lost).
    mines_inactivity_timeout_s: int = Field(default=600, ge=10, le=7 * 86400)
    # Unset: a key file generated in data_dir (one machine only; workers must share it).
    seed_sealing_key: SecretStr | None = None
    # Rate limits of the play routes (bets, mines moves, seed changes, faucet), per
    # window; the public verifier has its own per-address limit.
    bet_requests_per_user: int = Field(default=600, ge=1, le=1_000_000)
    bet_requests_per_ip: int = Field(default=3000, ge=1, le=1_000_000)
    verify_requests_per_ip: int = Field(default=600, ge=1, le=1_000_000)
    bet_window_s: int = Field(default=60, ge=1, le=3600)

    # Bonuses (croupier.bonus). Percent of a stake that counts toward wagering, per game
    # (a game left out counts nothing); a claimed bonus keeps the weights it was claimed
    # under. A player may claim one bonus per cooldown.
    bonus_game_weights: dict[str, int] = Field(
        default_factory=lambda: {
            "dice": 100,
            "limbo": 100,
            "plinko": 100,
            "mines": 100,
            "crash": 50,
        }
    )
    bonus_claim_cooldown_s: int = Field(default=86400, ge=0, le=365 * 86400)
    # Cashback and rakeback (croupier.bonus.rewards) are paid per period (weekly by
    # default, Monday 00:00 UTC); a scheduled run every interval pays the last closed one.
    bonus_cashback_percent: int = Field(default=10, ge=0, le=100)
    bonus_reward_period_s: int = Field(default=7 * 86400, ge=60, le=366 * 86400)
    bonus_reward_interval_s: int = Field(default=3600, ge=10, le=7 * 86400)

    # Payments (croupier.payments: deposits, withdrawals, the hot-wallet sender). Amounts
    # are whole coins as decimal strings per currency, e.g. '{"ETH": "0.005", "USDT": "10"}';
    # a currency missing from withdrawal_minimum cannot be withdrawn. Confirmations per
    # currency override CROUPIER_ETH_CONFIRMATIONS, e.g. '{"USDT": 20}'.
    confirmations_by_currency: dict[str, int] = Field(default_factory=dict)
    deposit_dust_minimum: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "0.0001", "BTC": "0.00001", "USDT": "1"}
    )
    deposit_poll_interval_s: float = Field(default=15, ge=0.1, le=3600)
    # A deposit a reorg removed is marked orphaned if not mined again within this.
    deposit_orphan_timeout_s: int = Field(default=6 * 3600, ge=1, le=30 * 86400)
    # A deposit held by the player's limits (exclusion, deposit limits) is checked again
    # this often, and credited once they admit it.
    deposit_hold_recheck_s: int = Field(default=3600, ge=1, le=7 * 86400)
    # The worker starts the per-chain deposit scanner (idempotently) when it starts.
    deposit_scanner_enabled: bool = True
    deposit_scanner_poll_s: float = Field(default=4, ge=0.1, le=600)
    # Where a brand-new scanner starts; unset: at the node's head when it first runs.
    eth_deposit_start_block: int | None = Field(default=None, ge=0)
    withdrawal_minimum: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "0.005", "BTC": "0.0002", "USDT": "10"}
    )
    withdrawal_fee: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "0.0005", "BTC": "0.00002", "USDT": "1"}
    )
    withdrawal_auto_approve_limit: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "0.5", "BTC": "0.02", "USDT": "1000"}
    )
    # More withdrawals than this in the window go to manual review.
    withdrawal_velocity_max: int = Field(default=5, ge=1, le=1000)
    withdrawal_velocity_window_s: int = Field(default=3600, ge=60, le=7 * 86400)
    # Accounts younger than this go to manual review; 0 turns the rule off.
    withdrawal_new_account_age_s: int = Field(default=86400, ge=0, le=365 * 86400)
    withdrawal_approval_reminder_s: int = Field(default=4 * 3600, ge=1, le=30 * 86400)
    # An undecided withdrawal is rejected (its hold released) after this.
    withdrawal_approval_expiry_s: int = Field(default=72 * 3600, ge=2, le=30 * 86400)
    # The hot wallet is key m/44'/60'/1'/0/<index> of the HD seed.
    hot_wallet_index: int = Field(default=0, ge=0, le=2**31 - 1)
    hot_wallet_poll_s: float = Field(default=5, ge=0.1, le=600)
    # A sent transaction still unmined after this is replaced with higher fees.
    hot_wallet_stuck_after_s: int = Field(default=180, ge=1, le=86400)

    # Treasury movements (croupier.sweeps, the Sweep, Consolidation and Refill workflows).
    # Per currency, '{"ETH": {"cap": "50", "target": "20", "floor": "5", "cold_address":
    # "0x..."}}' (whole coins; floor < target < cap): a currency left out is neither swept
    # nor refilled. Deposit addresses holding at least the consolidation minimum (whole
    # coins per currency) are swept into the hot wallet, a bounded batch per run.
    treasury_hot_wallets: dict[str, HotWalletPolicy] = Field(default_factory=dict)
    treasury_sweep_interval_s: int = Field(default=900, ge=10, le=7 * 86400)
    treasury_consolidation_interval_s: int = Field(default=3600, ge=10, le=7 * 86400)
    treasury_consolidation_minimum: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "0.05", "USDT": "50", "BTC": "0.001"}
    )
    treasury_consolidation_batch_addresses: int = Field(default=50, ge=1, le=500)
    # A refill not completed (approved twice, signed, confirmed) within this expires.
    treasury_refill_expiry_s: int = Field(default=24 * 3600, ge=60, le=30 * 86400)

    # Compliance (croupier.compliance: KYC review, responsible-gambling limits, audit log).
    # Unset kyc_upload_dir: data_dir/kyc-documents. Unset sanctions_list_path: the made-up
    # sample list shipped in croupier/compliance/data/ (replace it in production).
    kyc_upload_dir: Path | None = None
    kyc_max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    kyc_max_documents: int = Field(default=4, ge=1, le=10)
    kyc_allowed_content_types: list[KycContentType] = Field(
        default_factory=lambda: list(KYC_CONTENT_TYPES), min_length=1
    )
    sanctions_list_path: Path | None = None
    # A review waiting for compliance staff is flagged (and logged) this often.
    kyc_review_reminder_s: int = Field(default=86400, ge=60, le=30 * 86400)
    # A review waiting for the player's answer to a request for information expires.
    kyc_info_request_expiry_s: int = Field(default=14 * 86400, ge=3600, le=365 * 86400)
    # Loosening a limit waits this long; at least 24 h (the responsible-gambling rule).
    rg_limit_increase_delay_s: int = Field(default=86400, ge=86400, le=30 * 86400)

    # Crash (croupier.crash, the round workflow): a betting window, then the multiplier
    # floor(100 * e^(growth_per_ms * ms)) / 100 rises until the crash point, or until the
    # round has run max duration (bets still open cash out there: the round's cap). The
    # round workflow reads these at every round (bet routes share the bet rate limits).
    crash_betting_window_s: int = Field(default=10, ge=1, le=300)
    # 0.00006 reaches 2x after 11.55 s and the 1,000,000x target limit after 230 s.
    crash_growth_per_ms: Decimal = Field(
        default=Decimal("0.00006"), gt=0, le=Decimal("0.1"), decimal_places=12
    )
    crash_max_round_duration_s: int = Field(default=300, ge=1, le=3600)

    # Logging.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
            raise ValueError("expected a PostgreSQL URL such as postgresql://user@host:5432/db")
        return value

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("expected host:port, for example 127.0.0.1:7233")
        return value

    @field_validator("eth_rpc_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) JSON-RPC URL, for example http://127.0.0.1:8545")
        return value

    @field_validator("eth_reorg_window_blocks")
    @classmethod
    def _window_covers_confirmations(cls, value: int, info: ValidationInfo) -> int:
        confirmations = info.data.get("eth_confirmations")
        if confirmations is not None and value <= confirmations:
            raise ValueError(
                f"must be greater than CROUPIER_ETH_CONFIRMATIONS ({confirmations}), or a "
                "reorg deeper than the window could undo a deposit already counted as confirmed"
            )
        return value

    @field_validator("eth_scan_batch_blocks")
    @classmethod
    def _batch_covers_window(cls, value: int, info: ValidationInfo) -> int:
        window = info.data.get("eth_reorg_window_blocks")
        if window is not None and value < window:
            raise ValueError(
                f"must be at least CROUPIER_ETH_REORG_WINDOW_BLOCKS ({window}): the deposit "
                "scanner reads the whole remembered window in one batch to find a reorg"
            )
        return value

    @field_validator("usdt_contract_address")
    @classmethod
    def _hex_address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _HEX_ADDRESS_RE.match(value):
            raise ValueError("expected a 0x-prefixed 20-byte hex address (40 hex digits)")
        return value

    @field_validator("btc_rpc_url")
    @classmethod
    def _optional_http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                "expected an http(s) URL of bitcoind, for example http://127.0.0.1:18443"
            )
        return value

    @field_validator("btc_reorg_window_blocks")
    @classmethod
    def _btc_window_covers_confirmations(cls, value: int, info: ValidationInfo) -> int:
        confirmations = info.data.get("btc_confirmations")
        if confirmations is not None and value <= confirmations:
            raise ValueError(
                f"must be greater than CROUPIER_BTC_CONFIRMATIONS ({confirmations}), or a "
                "reorg deeper than the window could undo a deposit already counted as confirmed"
            )
        return value

    @field_validator("btc_max_fee_rate_sat_vb", "btc_fallback_fee_rate_sat_vb")
    @classmethod
    def _btc_rate_above_relay_minimum(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        minimum = info.data.get("btc_min_relay_fee_sat_vb")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be at least CROUPIER_BTC_MIN_RELAY_FEE_SAT_VB ({minimum})")
        maximum = info.data.get("btc_max_fee_rate_sat_vb")
        is_fallback = info.field_name == "btc_fallback_fee_rate_sat_vb"
        if is_fallback and maximum is not None and value > maximum:
            raise ValueError(f"must be at most CROUPIER_BTC_MAX_FEE_RATE_SAT_VB ({maximum})")
        return value

    @property
    def eth_max_fee_cap_wei(self) -> int:
        """The fee cap in wei; exact because the gwei value has at most 9 decimals."""
        return gwei_to_wei(self.eth_max_fee_gwei_cap)

    @property
    def eth_priority_fee_wei(self) -> int:
        return gwei_to_wei(self.eth_priority_fee_gwei)

    @field_validator("jwt_secret")
    @classmethod
    def _long_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if len(value.get_secret_value()) < MIN_JWT_SECRET_CHARS:
            raise ValueError(
                f"must be at least {MIN_JWT_SECRET_CHARS} characters (HS256 needs a 256-bit "
                "key); generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return value

    @field_validator(
        "withdrawal_breaker_max_amounts", "withdrawal_breaker_max_new_account_amounts", "max_bet"
    )
    @classmethod
    def _whole_coin_amounts(cls, value: dict[str, str]) -> dict[str, str]:
        """Currency tickers to positive decimal amounts in whole coins, checked exactly."""
        checked = {}
        for code, amount in value.items():
            currency = Currency.parse(code)
            parse_decimal(amount, currency)
            checked[currency.value] = amount
        return checked

    def max_bet_minor_units(self, currency: Currency) -> int:
        """The largest stake in ``currency``, in minor units; 0 when it takes no bets."""
        amount = self.max_bet.get(currency.value)
        return 0 if amount is None else parse_decimal(amount, currency)

    @field_validator(
        "deposit_dust_minimum",
        "withdrawal_minimum",
        "withdrawal_fee",
        "withdrawal_auto_approve_limit",
    )
    @classmethod
    def _payment_amounts(cls, value: dict[str, str]) -> dict[str, str]:
        """Currency tickers to whole-coin decimals (zero allowed: no fee, no dust floor)."""
        return _whole_coin_table(value)

    @field_validator("treasury_hot_wallets")
    @classmethod
    def _hot_wallet_limits(cls, value: dict[str, HotWalletPolicy]) -> dict[str, HotWalletPolicy]:
        """Currencies known, amounts exact, and floor < target < cap for each."""
        checked = {}
        for code, policy in value.items():
            currency = Currency.parse(code)
            cap = parse_decimal(policy.cap, currency)
            target = parse_decimal(policy.target, currency)
            floor = parse_decimal(policy.floor, currency, allow_zero=True)
            if not floor < target < cap:
                raise ValueError(
                    f"{currency}: needs floor < target < cap, got floor {policy.floor}, "
                    f"target {policy.target}, cap {policy.cap}"
                )
            if (currency.chain == "ethereum") != bool(_HEX_ADDRESS_RE.match(policy.cold_address)):
                raise ValueError(
                    f"{currency}: the cold address is not an address of the {currency.chain} chain"
                )
            checked[currency.value] = policy
        return checked

    @field_validator("treasury_consolidation_minimum")
    @classmethod
    def _consolidation_minimums(cls, value: dict[str, str]) -> dict[str, str]:
        """Currency tickers to positive whole-coin decimals."""
        checked = {}
        for code, amount in value.items():
            currency = Currency.parse(code)
            parse_decimal(amount, currency)
            checked[currency.value] = amount
        return checked

    @field_validator("confirmations_by_currency")
    @classmethod
    def _confirmations_within_window(
        cls, value: dict[str, int], info: ValidationInfo
    ) -> dict[str, int]:
        window = info.data.get("eth_reorg_window_blocks")
        checked = {}
        for code, confirmations in value.items():
            currency = Currency.parse(code)
            if not 1 <= confirmations <= 512:
                raise ValueError(f"{currency} confirmations must be 1..512, got {confirmations}")
            if currency.chain == "ethereum" and window is not None and confirmations >= window:
                raise ValueError(
                    f"{currency} needs {confirmations} confirmations but "
                    f"CROUPIER_ETH_REORG_WINDOW_BLOCKS is {window}; the window must be larger"
                )
            checked[currency.value] = confirmations
        return checked

    @field_validator("withdrawal_approval_expiry_s")
    @classmethod
    def _expiry_after_reminder(cls, value: int, info: ValidationInfo) -> int:
        reminder = info.data.get("withdrawal_approval_reminder_s")
        if reminder is not None and value <= reminder:
            raise ValueError(
                f"must be longer than CROUPIER_WITHDRAWAL_APPROVAL_REMINDER_S ({reminder})"
            )
        return value

    def confirmations_for(self, currency: Currency) -> int:
        """Blocks deep a transfer in ``currency`` must be before it is final: the
        currency's own setting, else its chain's (``eth_confirmations``, ``btc_confirmations``)."""
        chain_default = (
            self.btc_confirmations if currency.chain == "bitcoin" else self.eth_confirmations
        )
        return self.confirmations_by_currency.get(currency.value, chain_default)

    @field_validator("crash_max_round_duration_s")
    @classmethod
    def _crash_round_reaches_two_x(cls, value: int, info: ValidationInfo) -> int:
        growth = info.data.get("crash_growth_per_ms")
        if growth is not None and growth * value * 1000 < Decimal(2).ln():
            raise ValueError(
                f"at CROUPIER_CRASH_GROWTH_PER_MS={growth} a round of {value} s never reaches "
                "2x; give rounds more time or a faster growth"
            )
        return value

    @property
    def sqlalchemy_url(self) -> str | None:
        """The database URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        if self.database_url is None:
            return None
        return to_sqlalchemy_url(self.database_url)


def gwei_to_wei(gwei: Decimal) -> int:
    """Convert an exact gwei decimal (at most 9 places) to integer wei."""
    wei = gwei * 10**9
    assert wei == wei.to_integral_value(), f"{gwei} gwei is not a whole number of wei"
    return int(wei)


def _whole_coin_table(value: dict[str, str]) -> dict[str, str]:
    """A per-currency table of whole-coin decimals, keys normalised, every amount checked."""
    checked = {}
    for code, amount in value.items():
        currency = Currency.parse(code)
        parse_decimal(amount, currency, allow_zero=True)
        checked[currency.value] = amount
    return checked


def to_sqlalchemy_url(url: str) -> str:
    """Name the psycopg 3 driver in a plain PostgreSQL URL."""
    scheme, rest = url.split("://", 1)
    if scheme in {"postgresql", "postgres"}:
        return f"postgresql+psycopg://{rest}"
    return url


def _is_secret(field: str) -> bool:
    """Whether a setting holds a secret, whose rejected value must never be echoed."""
    info = Settings.model_fields.get(field)
    return info is not None and "SecretStr" in str(info.annotation)


def describe_validation_error(error: ValidationError) -> str:
    """One line per bad variable: ``CROUPIER_API_PORT: expected ...; got 'abc'``."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        variable = f"{ENV_PREFIX}{field.upper()}"
        message = problem["msg"].removeprefix("Value error, ")
        got = "(a secret, not shown)" if _is_secret(field) else repr(problem.get("input"))
        lines.append(f"{variable}: {message}; got {got}")
    return "\n".join(lines)


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
