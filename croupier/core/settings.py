"""All runtime configuration, from the environment (prefix ``CROUPIER_``) or ``.env``.

One settings object for the whole process. Errors are reported one line per bad
variable, naming the variable and what it expects, because an operator reading a
traceback at 3 a.m. should not have to map field names to environment variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from croupier.core.errors import ConfigurationError

ENV_PREFIX = "CROUPIER_"

Port = Annotated[int, Field(ge=1, le=65535)]


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

    @property
    def sqlalchemy_url(self) -> str | None:
        """The database URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        if self.database_url is None:
            return None
        return to_sqlalchemy_url(self.database_url)


def to_sqlalchemy_url(url: str) -> str:
    """Name the psycopg 3 driver in a plain PostgreSQL URL."""
    scheme, rest = url.split("://", 1)
    if scheme in {"postgresql", "postgres"}:
        return f"postgresql+psycopg://{rest}"
    return url


def describe_validation_error(error: ValidationError) -> str:
    """One line per bad variable: ``CROUPIER_API_PORT: expected ...; got 'abc'``."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        variable = f"{ENV_PREFIX}{field.upper()}"
        message = problem["msg"].removeprefix("Value error, ")
        got = problem.get("input")
        lines.append(f"{variable}: {message}; got {got!r}")
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
