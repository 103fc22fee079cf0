"""Stopping a consumer's task must end even when a cancellation is swallowed, as aiokafka's fetch can do."""

from __future__ import annotations

import asyncio
import contextlib
import time

from mes_shared.kafka import cancel_consuming


async def _swallows_first_cancellation(swallowed: list[bool]) -> None:
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(True)


async def test_a_swallowed_cancellation_is_repeated_until_the_task_ends() -> None:
    swallowed: list[bool] = []
    task = asyncio.create_task(_swallows_first_cancellation(swallowed))
    await asyncio.sleep(0)
    await cancel_consuming(task, timeout_s=5)
    assert swallowed == [True] and task.cancelled()


async def test_a_task_that_never_ends_is_left_after_the_timeout() -> None:
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await released.wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    began = time.monotonic()
    await cancel_consuming(task, timeout_s=1)
    assert not task.done() and 1 <= time.monotonic() - began < 3
    released.set()
    await task
