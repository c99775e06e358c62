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

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from croupier.core.errors import ConfigurationError

ENV_PREFIX = "CROUPIER_"

Port = Annotated[int, Field(ge=1, le=65535)]
MIN_JWT_SECRET_CHARS = 32
_HEX_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")


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
    btc_max_fee_rate_sat_vb: Decimal = Field(default=Decimal(500), gt=0, le=10_000, decimal_places=3)
    # Used when the node has no estimate yet (fresh node, regtest).
    btc_fallback_fee_rate_sat_vb: Decimal = Field(
        default=Decimal(2), gt=0, le=10_000, decimal_places=3
    )
    btc_dust_threshold_sat: int = Field(default=546, ge=294, le=100_000)
    btc_max_inputs: int = Field(default=100, ge=1, le=500)

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
    password_hash_time_cost: int = Field(default=3, ge=1, le=10)
    password_hash_memory_kib: int = Field(default=65536, ge=8192, le=1_048_576)
    login_attempts_per_ip: int = Field(default=30, ge=1, le=100_000)
    login_attempts_per_account: int = Field(default=10, ge=1, le=10_000)
    login_window_s: int = Field(default=60, ge=1, le=86400)
    registrations_per_ip: int = Field(default=10, ge=1, le=100_000)
    registration_window_s: int = Field(default=3600, ge=1, le=86400)
    idempotency_key_ttl_s: int = Field(default=86400, ge=60, le=7 * 86400)
    idempotency_lock_timeout_s: int = Field(default=60, ge=1, le=3600)

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
            raise ValueError("expected an http(s) URL of bitcoind, for example http://127.0.0.1:18443")
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
        if info.field_name == "btc_fallback_fee_rate_sat_vb" and maximum is not None and (
            value > maximum
        ):
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
                "key); generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
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
