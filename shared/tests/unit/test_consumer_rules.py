"""The consumer's rule for failures, without I/O: content failures are retried then judged, an infrastructure
fault is raised at once whatever came before it; a dead letter names its origin, also through a replay."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import ConsumerRecord

from mes_shared.consumer import Failed, with_retries
from mes_shared.dead_letters import Origin, event_identity, origin_of, replay_is_for
from mes_shared.topics import DEAD_LETTER_REPLAY


def attempts_of(*outcomes: BaseException | None) -> tuple[list[int], object]:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(len(calls) + 1)
        outcome = outcomes[len(calls) - 1]
        if outcome is not None:
            raise outcome
        return "applied"

    return calls, attempt


async def test_content_failures_are_retried_then_judged() -> None:
    calls, attempt = attempts_of(ValueError("a"), ValueError("b"), ValueError("c"))
    result = await with_retries(attempt, consumer="c", what="e", max_attempts=3, retry_delay_s=0)
    assert result == Failed("ValueError: c", 3) and calls == [1, 2, 3]


async def test_a_retry_that_succeeds_is_applied() -> None:
    calls, attempt = attempts_of(ValueError("a"), None)
    assert await with_retries(attempt, consumer="c", what="e", max_attempts=3, retry_delay_s=0) == "applied"
    assert calls == [1, 2]


@pytest.mark.parametrize("fault", [ConnectionRefusedError(111, "refused"), TimeoutError(), OSError("connection reset")])
async def test_an_infrastructure_fault_after_a_content_failure_is_raised_not_judged(fault: BaseException) -> None:
    calls, attempt = attempts_of(ValueError("looks like poison"), fault, None)
    with pytest.raises(type(fault)):
        await with_retries(attempt, consumer="c", what="e", max_attempts=3, retry_delay_s=0)
    assert calls == [1, 2]


async def test_passthrough_exceptions_are_neither_retried_nor_judged() -> None:
    class Moved(Exception):
        pass

    calls, attempt = attempts_of(Moved())
    with pytest.raises(Moved):
        await with_retries(attempt, consumer="c", what="e", max_attempts=3, retry_delay_s=0, passthrough=(Moved,))
    assert calls == [1]


def record(topic: str, headers: list[tuple[str, bytes]], value: bytes = b"{}") -> ConsumerRecord:
    return ConsumerRecord(topic, 2, 40, 0, 0, b"K", value, None, len(value), 1, headers)


def test_a_replayed_record_names_its_original_place_and_consumer() -> None:
    replayed = record(
        DEAD_LETTER_REPLAY.name,
        [
            ("replay_consumer", b"assembly-line.people"),
            ("dlt_topic", b"mes.people"),
            ("dlt_partition", b"5"),
            ("dlt_offset", b"7"),
        ],
    )
    assert origin_of(replayed) == Origin("mes.people", 5, 7)
    assert replay_is_for(replayed, "assembly-line.people")
    assert not replay_is_for(replayed, "workforce.people")


def test_a_record_read_from_its_topic_or_a_replay_without_headers_is_where_it_was_read() -> None:
    assert origin_of(record("mes.kits", [])) == Origin("mes.kits", 2, 40)
    assert origin_of(record(DEAD_LETTER_REPLAY.name, [])) == Origin(DEAD_LETTER_REPLAY.name, 2, 40)


def test_event_identity_reads_what_the_bytes_tell() -> None:
    event_id = str(uuid.uuid4())
    assert event_identity(json.dumps({"id": event_id, "type": "mes.kit.received.v1"}).encode()) == (
        event_id,
        "mes.kit.received.v1",
    )
    assert event_identity(b"{not json") == ("", "")
    assert event_identity(b"[1, 2]") == ("", "")
    assert event_identity(None) == ("", "")
