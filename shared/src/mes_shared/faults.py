"""Infrastructure faults told apart from faults of the input, and a quiet log for outages.

One rule, used by every consumer, by the HTTP problem handlers and by batch endpoints: a failure of the
service's own database or broker (unreachable, starting up or shutting down, a serialization failure, a
deadlock, a timeout) says nothing about the event or request being handled. It is retried later (a
consumer rolls back and re-reads; an HTTP client gets 503 with Retry-After), never dead-lettered or refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

# SQLSTATE classes and codes that mean "the database could not do it now", not "this input is wrong".
_TRANSIENT_SQLSTATE_CLASSES = (
    "08",  # connection exception
    "53",  # insufficient resources (too many connections, disk full, out of memory)
    "57",  # operator intervention: shutting down, starting up, statement timeout / cancel
    "58",  # system error (I/O)
)
_TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization failure
        "40P01",  # deadlock detected
        "55P03",  # lock not available (lock_timeout)
        "55000",  # "database is not currently accepting connections" (ALLOW_CONNECTIONS false)
        "55006",  # object in use (a database being dropped or recreated)
        "28000",  # invalid authorization: a credentials change or pg_hba reload, never the event's fault
        "28P01",  # invalid password, likewise
        "3D000",  # database does not exist (yet): a restore or a migration job still running
    }
)

# Exception class names, matched along the cause chain so this module needs neither asyncpg, SQLAlchemy nor
# aiokafka at import time (and each of them wraps the others' errors in its own classes).
_TRANSIENT_CLASS_NAMES = frozenset(
    {
        # asyncpg
        "PostgresConnectionError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
        "InterfaceError",  # asyncpg: "connection is closed", "cannot perform operation: another operation..."
        "InternalClientError",
        # SQLAlchemy
        "DisconnectionError",
        "InvalidatePoolError",
        # aiokafka
        "KafkaConnectionError",
        "KafkaTimeoutError",
        "NodeNotReadyError",
        "RequestTimedOutError",
        "NotLeaderForPartitionError",
        "LeaderNotAvailableError",
        "NotCoordinatorForGroupError",
        "CoordinatorNotAvailableError",
        "CoordinatorLoadInProgressError",
        "UnknownTopicOrPartitionError",
        "GroupCoordinatorNotAvailableError",
        "KafkaUnavailableError",
    }
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                stack.append(linked)


def _sqlstate(exc: BaseException) -> str | None:
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(exc, attribute, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    return None


def input_fault(exc: BaseException) -> BaseException | None:
    """The database's refusal of a value in `exc`'s cause chain, if any: a data exception (SQLSTATE class 22: NUL
    in text, a number or an instant out of range) or asyncpg's own refusal of a parameter before sending it.
    The driver's own exception is preferred to a wrapper's: it names the column or type where it can."""
    found: BaseException | None = None
    for current in _chain(exc):
        state = _sqlstate(current)
        is_asyncpg = type(current).__module__.startswith("asyncpg")
        if (state is not None and state.startswith("22")) or (is_asyncpg and type(current).__name__ == "DataError"):
            if is_asyncpg:
                return current
            found = found or current
    return found


def is_infrastructure_fault(exc: BaseException) -> bool:
    """True when `exc` (or anything in its cause chain) is a database or broker fault, not the input's."""
    for current in _chain(exc):
        if isinstance(current, (OSError, TimeoutError, asyncio.TimeoutError)):
            return True  # connection refused or reset, host unreachable, any timeout
        if type(current).__name__ in _TRANSIENT_CLASS_NAMES:
            return True
        # SQLAlchemy's own pool timeout ("QueuePool limit ... reached") and a connection it invalidated.
        if type(current).__module__.startswith("sqlalchemy") and type(current).__name__ == "TimeoutError":
            return True
        if getattr(current, "connection_invalidated", False):
            return True
        state = _sqlstate(current)
        if state is not None and (state in _TRANSIENT_SQLSTATES or state[:2] in _TRANSIENT_SQLSTATE_CLASSES):
            return True
    return False


def describe(exc: BaseException) -> str:
    """One short line for logs and problem details: the innermost cause's class and message (a cancellation
    is passed over: `asyncio.wait_for` raises its TimeoutError from the CancelledError of the task it ended)."""
    innermost = exc
    for current in _chain(exc):
        if not isinstance(current, asyncio.CancelledError):
            innermost = current
    text = str(innermost).strip().splitlines()[0] if str(innermost).strip() else ""
    return f"{type(innermost).__name__}: {text}"[:300] if text else type(innermost).__name__


class OutageLog:
    """Logs an outage in a few lines: the first failure, a reminder with counts every `remind_s`, and the
    recovery with its duration. Everything in between is counted, not logged (a broker outage must not
    write thousands of lines)."""

    def __init__(self, logger: logging.Logger, what: str, *, remind_s: float = 60.0) -> None:
        self._log = logger
        self._what = what
        self._remind_s = remind_s
        self._since: float | None = None
        self._last_logged = 0.0
        self._failures = 0
        self.last_error: str | None = None

    @property
    def in_outage(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException | str) -> None:
        now = time.monotonic()
        self._failures += 1
        self.last_error = exc if isinstance(exc, str) else describe(exc)
        if self._since is None:
            self._since = self._last_logged = now
            self._log.warning("%s unavailable: %s", self._what, self.last_error)
        elif now - self._last_logged >= self._remind_s:
            self._last_logged = now
            self._log.warning(
                "%s still unavailable after %.0f s (%d failures): %s",
                self._what,
                now - self._since,
                self._failures,
                self.last_error,
            )

    def recovered(self) -> None:
        if self._since is None:
            return
        self._log.warning(
            "%s recovered after %.1f s (%d failures)", self._what, time.monotonic() - self._since, self._failures
        )
        self._since, self._failures = None, 0


class Backoff:
    """Exponential, capped back-off; `reset()` only after real progress (a batch applied), never on start."""

    def __init__(self, *, initial_s: float = 0.5, cap_s: float = 30.0) -> None:
        self._initial = initial_s
        self._cap = cap_s
        self._next = initial_s

    def next_delay(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self._cap)
        return delay

    def reset(self) -> None:
        self._next = self._initial
