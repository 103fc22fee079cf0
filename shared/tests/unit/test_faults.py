"""Telling the database's and broker's faults from the input's: the rule every consumer and handler uses."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mes_shared.faults import Backoff, OutageLog, describe, is_infrastructure_fault


def _wrapped(inner: BaseException) -> OperationalError:
    return OperationalError("SELECT 1", {}, inner)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(),
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.TooManyConnectionsError("too many clients"),
        asyncpg.SerializationError("could not serialize access"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.ObjectNotInPrerequisiteStateError('database "x" is not currently accepting connections'),
        asyncpg.InterfaceError("connection is closed"),
        _wrapped(ConnectionRefusedError(111, "refused")),
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached"),
        KafkaConnectionError("no broker"),
        KafkaTimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_infrastructure_faults_are_recognised(exc: BaseException) -> None:
    assert is_infrastructure_fault(exc)


def test_a_fault_found_only_in_the_cause_chain_counts() -> None:
    try:
        try:
            raise asyncpg.CannotConnectNowError("starting up")
        except asyncpg.CannotConnectNowError as inner:
            raise RuntimeError("handler failed") from inner
    except RuntimeError as outer:
        assert is_infrastructure_fault(outer)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad payload"),
        KeyError("vin"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.CharacterNotInRepertoireError("invalid byte sequence"),
        asyncpg.DataError("value out of range"),
        DataError("INSERT", {}, asyncpg.DataError("invalid input")),
        IntegrityError("INSERT", {}, asyncpg.ForeignKeyViolationError("fk")),
    ],
    ids=lambda e: type(e).__name__,
)
def test_faults_of_the_content_are_not_infrastructure(exc: BaseException) -> None:
    assert not is_infrastructure_fault(exc)


def test_describe_names_the_innermost_cause() -> None:
    assert describe(_wrapped(ConnectionRefusedError(111, "Connection refused"))).startswith("ConnectionRefusedError")


async def test_describe_says_timeout_for_a_wait_that_timed_out() -> None:
    try:
        await asyncio.wait_for(asyncio.sleep(1), 0.001)
    except TimeoutError as exc:
        assert describe(exc) == "TimeoutError"


def test_outage_log_writes_first_failure_reminders_and_recovery_only(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog(logging.getLogger("test.outage"), "database", remind_s=3600)
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        for _ in range(1000):
            outage.failed(ConnectionRefusedError(111, "refused"))
        assert outage.in_outage
        outage.recovered()
        outage.recovered()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "unavailable" in messages[0]
    assert "recovered" in messages[1] and "1000 failures" in messages[1]
    assert not outage.in_outage


def test_backoff_grows_to_its_cap_and_resets_only_when_told() -> None:
    backoff = Backoff(initial_s=0.5, cap_s=4)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    backoff.reset()
    assert backoff.next_delay() == 0.5
