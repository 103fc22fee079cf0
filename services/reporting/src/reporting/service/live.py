"""Live changes: PostgreSQL LISTEN on the projections' channel, fanned out to every Server-Sent Events stream
of this replica. Any replica's consumer (or a target change, or a rebuild's swap) notifies at commit, so
every replica's streams hear of it; a stream announces which views changed and what the facts touched
(subjects), and the page re-reads them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import asyncpg

from reporting.projections.fold import ALL_VIEWS
from reporting.projections.runner import NOTIFY_CHANNEL, cap_subjects

log = logging.getLogger(__name__)

QUEUE_SIZE = 64


@dataclass(frozen=True)
class Change:
    views: frozenset[str]
    generation: int | None = None
    subjects: frozenset[str] = frozenset()
    more: bool = True  # the subjects are incomplete: anything may have changed


def parse_notice(payload: str) -> Change:
    """A notification's change; a payload without subjects (an older replica) names none, with `more`."""
    body = json.loads(payload)
    views = frozenset(str(v) for v in body.get("views", []))
    generation = body.get("generation")
    subjects = body.get("subjects")
    named = frozenset(str(s) for s in subjects) if isinstance(subjects, list) else frozenset()
    more = body.get("more") is not False or not isinstance(subjects, list)
    return Change(views, generation if isinstance(generation, int) else None, named, more)


class ChangeHub:
    def __init__(self, dsn: str, *, channel: str = NOTIFY_CHANNEL, reconnect_max_s: float = 10.0) -> None:
        self._dsn = dsn
        self._channel = channel
        self._subscribers: set[asyncio.Queue[Change | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._reconnect_max_s = reconnect_max_s
        self.listening = asyncio.Event()
        self.last_error: str | None = None
        self.closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="reporting-change-hub")

    def close_streams(self) -> None:
        """End every stream (the server is shutting down); streams opened after this end at once."""
        self.closing = True
        for queue in list(self._subscribers):
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(None)

    async def stop(self) -> None:
        self.close_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, change: Change) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                # A slow reader: forget the backlog, tell it to re-read everything.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(Change(ALL_VIEWS, change.generation, more=True))

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Change | None]]:
        queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        if self.closing:
            queue.put_nowait(None)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            change = parse_notice(payload)
        except (ValueError, AttributeError, TypeError):
            log.warning("ignoring an unreadable notification: %r", payload[:200])
            return
        self.publish(change)

    async def _listen(self) -> None:
        backoff, first = 0.5, True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=10)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self._channel, self._on_notify)
                self.listening.set()
                self.last_error = None
                if not first:
                    self.publish(Change(ALL_VIEWS))  # notifications may have been missed meanwhile
                first, backoff = False, 0.5
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5.0)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.execute("SELECT 1"), 5.0)  # detects a silently dead socket
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep listening whatever happens
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("change listener failed, reconnecting in %.1fs: %s", backoff, self.last_error)
            finally:
                self.listening.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 5.0)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._reconnect_max_s)


def close_streams_on_exit(hub: ChangeHub) -> None:
    """uvicorn waits for every response in flight before it shuts down, and a live stream never ends by
    itself: a wall screen would hold a stopping server until it is killed. So the server's SIGTERM and
    SIGINT handlers (installed before the app starts) are wrapped to end every stream first."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if not callable(previous):
            continue

        def handler(number: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
            loop.call_soon_threadsafe(hub.close_streams)
            previous(number, frame)

        signal.signal(signum, handler)


def sse(event: str, data: Any, event_id: str | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return "\n".join(lines) + "\n\n"


def change_data(changes: list[Change]) -> dict[str, Any]:
    """One `change` event's data for a burst of changes: the union of their views and subjects, cut to
    MAX_SUBJECTS; `more` when any was incomplete or the union was cut."""
    subjects, cut = cap_subjects(s for c in changes for s in c.subjects)
    return {
        "views": sorted({v for c in changes for v in c.views}),
        "generation": next((c.generation for c in reversed(changes) if c.generation), changes[0].generation),
        "subjects": subjects,
        "more": cut or any(c.more for c in changes),
        "at": datetime.now(UTC).isoformat(),
    }


async def event_stream(hub: ChangeHub, heartbeat_s: float, *, coalesce_s: float = 0.05) -> AsyncIterator[str]:
    """`hello` first, then a `change` per committed batch with the views and subjects it touched, and a
    `heartbeat` every `heartbeat_s` while nothing happens. A change after a quiet spell goes out at once;
    what arrives within `coalesce_s` of the last `change` sent is merged into the next one, so a busy plant
    costs a screen at most one re-read per `coalesce_s` and a quiet one no delay."""
    loop = asyncio.get_running_loop()
    with hub.subscribe() as queue:
        yield "retry: 2000\n\n" + sse("hello", {"at": datetime.now(UTC).isoformat(), "views": sorted(ALL_VIEWS)})
        counter, quiet_from = 0, loop.time()
        while True:
            try:
                change = await asyncio.wait_for(queue.get(), heartbeat_s)
            except TimeoutError:
                yield sse("heartbeat", {"at": datetime.now(UTC).isoformat()})
                continue
            if change is None:
                return
            burst = [change]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(quiet_from):  # already past: takes only what is queued
                    while True:
                        later = await queue.get()
                        if later is None:
                            return
                        burst.append(later)
            counter += 1
            yield sse("change", change_data(burst), event_id=str(counter))
            quiet_from = loop.time() + coalesce_s
