"""Service settings: read from prefixed env vars, refuse a mis-configured process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from mes_shared.settings import ServiceSettings

GOOD_SECRET = "k3V9sQ2mX7pL0aZ4rT8wY1uE6iO5nB2c"
GOOD_ENV = {
    "UNIT_DATABASE_URL": "postgresql+asyncpg://mes:pw@127.0.0.1:5432/mes",
    "UNIT_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "UNIT_AUTH_SECRET": GOOD_SECRET,
}


class UnitSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UNIT_")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean UNIT_ environment holding a valid minimal configuration."""
    for name in list(os.environ):
        if name.startswith("UNIT_"):
            monkeypatch.delenv(name)
    for name, value in GOOD_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def error_locs(raised: pytest.ExceptionInfo[ValidationError]) -> set[tuple[object, ...]]:
    return {tuple(e["loc"]) for e in raised.value.errors()}


def test_reads_prefixed_env_vars(env: pytest.MonkeyPatch) -> None:
    settings = UnitSettings()

    assert settings.database_url == GOOD_ENV["UNIT_DATABASE_URL"]
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.auth_secret.get_secret_value() == GOOD_SECRET
    assert settings.environment == "development"
    assert settings.database_pool_size == 10
    assert settings.run_workers is True
    assert settings.log_level == "INFO"


def test_overrides_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("UNIT_ENVIRONMENT", "production")
    env.setenv("UNIT_DATABASE_POOL_SIZE", "25")
    env.setenv("UNIT_RUN_WORKERS", "false")
    env.setenv("UNIT_LOG_LEVEL", "DEBUG")
    env.setenv("UNIT_KAFKA_SEND_TIMEOUT_S", "2.5")

    settings = UnitSettings()

    assert settings.environment == "production"
    assert settings.database_pool_size == 25
    assert settings.run_workers is False
    assert settings.log_level == "DEBUG"
    assert settings.kafka_send_timeout_s == 2.5


def test_unprefixed_vars_are_not_read(env: pytest.MonkeyPatch) -> None:
    env.delenv("UNIT_DATABASE_URL")
    env.setenv("DATABASE_URL", GOOD_ENV["UNIT_DATABASE_URL"])
    with pytest.raises(ValidationError) as raised:
        UnitSettings()
    assert ("database_url",) in error_locs(raised)


def test_secret_is_not_shown(env: pytest.MonkeyPatch) -> None:
    settings = UnitSettings()
    assert GOOD_SECRET not in repr(settings)
    assert GOOD_SECRET not in str(settings)


def test_settings_are_frozen(env: pytest.MonkeyPatch) -> None:
    settings = UnitSettings()
    with pytest.raises(ValidationError):
        settings.database_pool_size = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("UNIT_DATABASE_URL", "database_url"),
        ("UNIT_KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"),
    ],
)
def test_missing_required_value_is_refused(env: pytest.MonkeyPatch, missing: str, field: str) -> None:
    env.delenv(missing)
    with pytest.raises(ValidationError) as raised:
        UnitSettings()
    assert (field,) in error_locs(raised)
    assert raised.value.errors()[0]["type"] == "missing"


def test_without_a_key_the_process_does_not_start(env: pytest.MonkeyPatch) -> None:
    env.delenv("UNIT_AUTH_SECRET")
    with pytest.raises(ValidationError, match="exactly one of auth_secret and auth_keys_file"):
        UnitSettings()


@pytest.mark.parametrize(
    "secret",
    [
        "short",
        "x" * 31,
        "changeme",
        "",
        "a" * 32,
        "a" * 64,
        "integration-tests-" + "x" * 40,
        "abcd" * 10,
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
    ],
    ids=repr,
)
@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_weak_secret_is_refused_in_every_environment(env: pytest.MonkeyPatch, secret: str, environment: str) -> None:
    env.setenv("UNIT_AUTH_SECRET", secret)
    env.setenv("UNIT_ENVIRONMENT", environment)
    with pytest.raises(ValidationError, match="auth_secret is weak"):
        UnitSettings()


def test_a_32_character_random_secret_is_accepted(env: pytest.MonkeyPatch) -> None:
    env.setenv("UNIT_AUTH_SECRET", GOOD_SECRET[:32])
    assert len(UnitSettings().auth_secret.get_secret_value()) == 32  # type: ignore[union-attr]


def test_a_key_file_is_read_at_start(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"{GOOD_SECRET}-next\n{GOOD_SECRET}\n")
    env.delenv("UNIT_AUTH_SECRET")
    env.setenv("UNIT_AUTH_KEYS_FILE", str(key_file))
    env.setenv("UNIT_AUTH_REVOKED_FILE", str(tmp_path / "revoked"))

    settings = UnitSettings()

    assert settings.auth_keys_file == key_file
    assert settings.auth_revoked_file == tmp_path / "revoked"
    assert settings.auth_secret is None


def test_a_secret_and_a_key_file_together_are_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(GOOD_SECRET)
    env.setenv("UNIT_AUTH_KEYS_FILE", str(key_file))
    with pytest.raises(ValidationError, match="exactly one"):
        UnitSettings()


@pytest.mark.parametrize(("content", "why"), [(None, "path_not_file"), ("", "no key"), ("b" * 40, "weak")])
def test_a_missing_empty_or_weak_key_file_is_refused(
    env: pytest.MonkeyPatch, tmp_path: Path, content: str | None, why: str
) -> None:
    key_file = tmp_path / "keys"
    if content is not None:
        key_file.write_text(content)
    env.delenv("UNIT_AUTH_SECRET")
    env.setenv("UNIT_AUTH_KEYS_FILE", str(key_file))
    with pytest.raises(ValidationError) as raised:
        UnitSettings()
    assert why in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://mes:pw@127.0.0.1/mes",
        "postgresql+psycopg://mes:pw@127.0.0.1/mes",
        "sqlite+aiosqlite:///mes.db",
        "mysql+asyncmy://mes@h/mes",
    ],
)
def test_non_asyncpg_url_is_refused(env: pytest.MonkeyPatch, url: str) -> None:
    env.setenv("UNIT_DATABASE_URL", url)
    with pytest.raises(ValidationError, match=r"postgresql\+asyncpg") as raised:
        UnitSettings()
    assert error_locs(raised) == {("database_url",)}


def test_too_short_kafka_bootstrap_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("UNIT_KAFKA_BOOTSTRAP_SERVERS", "k:")
    with pytest.raises(ValidationError) as raised:
        UnitSettings()
    assert error_locs(raised) == {("kafka_bootstrap_servers",)}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "101"),
        ("RELAY_BATCH_SIZE", "0"),
        ("RELAY_BATCH_SIZE", "10001"),
        ("KAFKA_SEND_TIMEOUT_S", "0"),
        ("KAFKA_SEND_TIMEOUT_S", "120.5"),
        ("CONSUMER_MAX_ATTEMPTS", "0"),
        ("CONSUMER_MAX_ATTEMPTS", "21"),
        ("READY_MAX_CONSUMER_LAG", "-1"),
        ("DATABASE_POOL_SIZE", "many"),
    ],
)
def test_out_of_range_number_is_refused(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(f"UNIT_{name}", value)
    with pytest.raises(ValidationError) as raised:
        UnitSettings()
    assert error_locs(raised) == {(name.lower(),)}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_POOL_SIZE", "100"),
        ("RELAY_BATCH_SIZE", "10000"),
        ("READY_MAX_CONSUMER_LAG", "0"),
    ],
)
def test_boundary_numbers_are_accepted(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(f"UNIT_{name}", value)
    assert getattr(UnitSettings(), name.lower()) == int(value)


@pytest.mark.parametrize(("name", "value"), [("ENVIRONMENT", "staging"), ("LOG_LEVEL", "TRACE")])
def test_unknown_choice_is_refused(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(f"UNIT_{name}", value)
    with pytest.raises(ValidationError) as raised:
        UnitSettings()
    assert error_locs(raised) == {(name.lower(),)}


def test_unknown_prefixed_vars_are_ignored(env: pytest.MonkeyPatch) -> None:
    env.setenv("UNIT_SOMETHING_ELSE", "x")
    assert not hasattr(UnitSettings(), "something_else")
