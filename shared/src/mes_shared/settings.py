"""Base settings for every service. Each service subclasses with its own env prefix (`KIT_RECEIVING_`).

Required values have no defaults so a mis-configured process refuses to start instead of limping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mes_shared.keys import parse_key_file, weak_secret_reason


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(description="SQLAlchemy URL, postgresql+asyncpg://user:pass@host:port/db")
    database_pool_size: int = Field(default=10, ge=1, le=100)
    kafka_bootstrap_servers: str = Field(min_length=3)
    # The key tokens are checked with: one secret, or a key file (one secret per line, re-read when it changes,
    # so a key can be rotated without a restart; see the README). Exactly one of the two.
    auth_secret: SecretStr | None = None
    auth_keys_file: FilePath | None = None
    # Revoked token ids (jti), one a line; re-read when it changes. A file not there yet revokes nothing.
    auth_revoked_file: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # An API-only replica sets this false; `python -m <service>.workers` runs only the workers.
    run_workers: bool = True
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How long the relay lets commits gather before publishing a batch that is not full (see relay.py): the
    # latency it adds to every event's way to Kafka, for fewer, larger batches downstream.
    relay_linger_ms: int = Field(default=20, ge=0, le=1000)
    kafka_send_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Consumer groups are named "<prefix>.<subscription>"; tests give their in-process app its own prefix so
    # it never joins the groups of the service that `./mes up` runs.
    consumer_group_prefix: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9._-]*$")
    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    # A consumer this far behind is reported degraded by /health/ready (never unready: see service_app.py).
    ready_max_consumer_lag: int = Field(default=10_000, ge=0)
    # Limits before work: a request body larger than this is refused 413 while it is read (never buffered
    # whole); routes that take a backlog or a file declare a larger limit of their own (see service_app.py).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    max_bulk_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # What a caller is told to wait (Retry-After) before resending a request the database could not take.
    retry_after_s: int = Field(default=5, ge=1, le=300)

    @field_validator("database_url")
    @classmethod
    def _async_postgres(cls, value: str) -> str:
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql+asyncpg:// URL")
        return value

    @model_validator(mode="after")
    def _strong_keys(self) -> ServiceSettings:
        """One source of keys, every key strong, in every environment: a test secret is as easy to make
        random as a production one."""
        if (self.auth_secret is None) == (self.auth_keys_file is None):
            raise ValueError("set exactly one of auth_secret and auth_keys_file")
        if self.auth_secret is not None:
            if (reason := weak_secret_reason(self.auth_secret.get_secret_value())) is not None:
                raise ValueError(f"auth_secret is weak: {reason}; use a random one (./mes up generates one)")
        elif self.auth_keys_file is not None:
            parse_key_file(self.auth_keys_file.read_text())  # fail fast on a bad file, as on a bad secret
        return self
