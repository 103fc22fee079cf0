"""What takes effect by itself: forgotten clock-outs are closed at shift end + grace, and the passing
of a qualification's valid_until is announced. The workers run `sweep_once` periodically.

Both are safe with several replicas and idempotent: a batch locks its employees with
`FOR UPDATE SKIP LOCKED` (another replica or a request holding one simply leaves it to the next round),
re-checks under the lock, and writes its events through the same outbox as any command. The instant
they record is the due instant itself (shift end + grace, valid_until), never the sweep's clock, so
when a sweep runs changes nothing about what it publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared import outbox
from mes_shared.auth import Principal, Role
from mes_shared.commands import UnitOfWork
from mes_shared.correlation import correlation_id_var
from mes_shared.db import SessionFactory
from workforce.adapters.repository import Presences, Qualifications, presence_of, qualification_of
from workforce.adapters.tables import employees, presences, qualifications
from workforce.service.policy import utc_now
from workforce.service.wire import emit_presence_events, emit_qualification_events, qualification_history

log = logging.getLogger(__name__)

SWEEPER = Principal(subject="workforce-sweeper", role=Role.ADMIN)

AUTO_CLOCK_OUTS = Counter("workforce_automatic_clock_outs_total", "Forgotten clock-outs closed at shift end + grace")
EXPIRIES = Counter("workforce_qualification_expiries_total", "Qualification expiries announced")


async def _lock_employees(session: AsyncSession, candidates: sa.Select[tuple[str]], batch: int) -> list[str]:
    """Lock up to `batch` of the candidate employees, skipping those another transaction holds."""
    locked = await session.scalars(
        sa.select(employees.c.employee_id)
        .where(employees.c.employee_id.in_(candidates))
        .order_by(employees.c.employee_id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    return list(locked)


def _uow(session: AsyncSession, source: str, what: str, now: datetime) -> UnitOfWork:
    return UnitOfWork(session, source, SWEEPER, f"{what}-{now:%Y%m%dT%H%M%S}")


async def close_forgotten_clock_outs(
    sessions: SessionFactory, *, now: datetime, grace: timedelta, source: str = "/mes/workforce", batch: int = 200
) -> int:
    """Close every presence still open at its shift end + grace; return how many were closed."""
    closed = 0
    while True:
        async with sessions() as session, session.begin():
            due = presences.c.clocked_out_at.is_(None) & (presences.c.shift_end <= now - grace)
            ids = await _lock_employees(session, sa.select(presences.c.employee_id).where(due), batch)
            if not ids:
                return closed
            rows = await session.execute(
                sa.select(presences).where(due, presences.c.employee_id.in_(ids)).with_for_update()
            )
            uow = _uow(session, source, "auto-clock-out", now)
            repo = Presences(session)
            for row in rows:
                p = presence_of(row)
                if not p.forgotten(now, grace):
                    continue
                event = p.close_forgotten(grace)
                await repo.save_closed(p, terminal=None)
                emit_presence_events(uow, [event])
                closed += 1
            await outbox.append(session, uow.events)
        AUTO_CLOCK_OUTS.inc(len(uow.events))
        if len(ids) < batch or not uow.events:
            return closed


async def announce_expiries(
    sessions: SessionFactory, *, now: datetime, source: str = "/mes/workforce", batch: int = 200
) -> int:
    """Announce once each qualification whose valid_until has passed; return how many were announced."""
    announced = 0
    while True:
        async with sessions() as session, session.begin():
            due = (
                (qualifications.c.valid_until <= now)
                & qualifications.c.revoked_at.is_(None)
                & (
                    qualifications.c.expiry_announced_for.is_(None)
                    | (qualifications.c.expiry_announced_for != qualifications.c.valid_until)
                )
            )
            ids = await _lock_employees(session, sa.select(qualifications.c.employee_id).where(due), batch)
            if not ids:
                return announced
            rows = await session.execute(
                sa.select(qualifications)
                .where(due, qualifications.c.employee_id.in_(ids))
                .order_by(qualifications.c.employee_id, qualifications.c.valid_until, qualifications.c.station)
                .with_for_update()
            )
            uow = _uow(session, source, "qualification-expiry", now)
            repo = Qualifications(session)
            for row in rows:
                q = qualification_of(row)
                events = q.expire(now)
                if not events:
                    continue
                await repo.save(q, at=now, by=SWEEPER.subject)
                await repo.record_history(qualification_history(events, by=SWEEPER.subject))
                emit_qualification_events(uow, events)
                announced += len(events)
            await outbox.append(session, uow.events)
        EXPIRIES.inc(len(uow.events))
        if len(ids) < batch or not uow.events:
            return announced


@dataclass
class SweepResult:
    clock_outs: int
    expiries: int


async def sweep_once(
    sessions: SessionFactory, *, now: datetime, grace: timedelta, source: str = "/mes/workforce", batch: int = 200
) -> SweepResult:
    token = correlation_id_var.set(None)
    try:
        return SweepResult(
            clock_outs=await close_forgotten_clock_outs(sessions, now=now, grace=grace, source=source, batch=batch),
            expiries=await announce_expiries(sessions, now=now, source=source, batch=batch),
        )
    finally:
        correlation_id_var.reset(token)


@dataclass
class Sweeper:
    """Runs `sweep_once` every `interval_s` in the workers; survives any single failure."""

    sessions: SessionFactory
    grace: timedelta
    interval_s: float
    batch: int = 200
    source: str = "/mes/workforce"
    last_success_monotonic: float | None = None
    last_error: str | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="workforce-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            try:
                result = await sweep_once(
                    self.sessions, now=utc_now(), grace=self.grace, source=self.source, batch=self.batch
                )
                if result.clock_outs or result.expiries:
                    log.info(
                        "sweep closed %d forgotten clock-outs, announced %d expiries",
                        result.clock_outs,
                        result.expiries,
                    )
                self.last_success_monotonic, self.last_error = time.monotonic(), None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the sweeper must outlive any single failure
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("sweep failed, retrying in %.0fs: %s", self.interval_s, self.last_error)
            await asyncio.sleep(self.interval_s)
