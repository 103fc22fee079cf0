"""Dead letters: how a consumer sets an event aside, and how an operator lists, shows and replays it.

A dead letter is the original record (value and key) on `mes.dead-letter`, with headers naming the consumer it
failed in, where it came from, the event's id and type, the attempts and the error. Its id is
`<partition>:<offset>` on the dead-letter topic.

Replay sends the record to `mes.dead-letter.replay` with a header naming its consumer: every consumer reads
that topic and applies only what names it, so the event goes back to the one consumer it failed in, never to
the others and never onto its domain topic (whose log reporting is rebuilt from). The consumer's inbox makes a
repeated replay harmless. A replay record names the dead letter it came from, which is how `list` shows
what was replayed. Reporting's projections are cured by a rebuild instead (their dead letters say so).

    python -m mes_shared.dead_letters list [--consumer NAME] [--pending]
    python -m mes_shared.dead_letters show ID
    python -m mes_shared.dead_letters replay ID [ID ...] | --consumer NAME [--again]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord
from prometheus_client import Counter

from mes_shared.kafka import make_consumer, make_producer, start_with_timeout, stop_quietly, topic_partitions
from mes_shared.topics import DEAD_LETTER, DEAD_LETTER_REPLAY

log = logging.getLogger(__name__)

DEAD_LETTERED = Counter("mes_consumer_dead_lettered_total", "Events sent to the dead-letter topic", ["consumer"])

# On a replay record: the consumer it is for, and the dead letter it replays.
REPLAY_FOR = "replay_consumer"
REPLAY_OF = "replay_of"
# How a dead letter is cured: "replay" (sent back to its consumer) or "rebuild" (reporting's projections).
CURE = "dlt_cure"


@dataclass(frozen=True)
class Origin:
    """Where an event was read from: its domain topic, partition and offset (for a replay, the original's)."""

    topic: str
    partition: int
    offset: int


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (record.headers or ())}


def origin_of(record: ConsumerRecord) -> Origin:
    h = _headers(record) if record.topic == DEAD_LETTER_REPLAY.name else {}
    try:
        return Origin(h["dlt_topic"], int(h["dlt_partition"]), int(h["dlt_offset"]))
    except (KeyError, ValueError):  # not a replay, or one written by hand without them: where it was read
        return Origin(record.topic, record.partition, record.offset)


def replay_is_for(record: ConsumerRecord, consumer: str) -> bool:
    return _headers(record).get(REPLAY_FOR) == consumer


def event_identity(value: bytes | None) -> tuple[str, str]:
    """The event's id and type as far as the bytes tell them ("" when they do not parse)."""
    try:
        body = json.loads(value or b"")
        return str(body.get("id", "")), str(body.get("type", ""))
    except (ValueError, AttributeError):
        return "", ""


@dataclass(frozen=True)
class Judged:
    """An event judged poison, to be dead-lettered once the rest of its batch is done."""

    record: ConsumerRecord
    error: str
    attempts: int


class DeadLetters:
    """Sends what a consumer judged poison to the dead-letter topic, counted per consumer and logged at ERROR."""

    def __init__(self, producer: AIOKafkaProducer, *, consumer: str, timeout_s: float, cure: str = "replay") -> None:
        self._producer = producer
        self._consumer = consumer
        self._timeout_s = timeout_s
        self._cure = cure

    async def send(self, judged: Judged) -> None:
        record, origin = judged.record, origin_of(judged.record)
        event_id, event_type = event_identity(record.value)
        headers = [
            ("dlt_consumer", self._consumer),
            ("dlt_topic", origin.topic),
            ("dlt_partition", str(origin.partition)),
            ("dlt_offset", str(origin.offset)),
            ("dlt_event_id", event_id),
            ("dlt_event_type", event_type),
            ("dlt_attempts", str(judged.attempts)),
            ("dlt_error", judged.error[:4000]),
            (CURE, self._cure),
        ]
        delivery = await asyncio.wait_for(
            self._producer.send(
                DEAD_LETTER.name, value=record.value, key=record.key, headers=[(k, v.encode()) for k, v in headers]
            ),
            self._timeout_s,
        )
        await asyncio.wait_for(delivery, self._timeout_s)
        DEAD_LETTERED.labels(self._consumer).inc()
        log.error(
            "consumer %s dead-lettered event %s (%s) from %s[%d]@%d after %d attempt(s): %s",
            self._consumer,
            event_id or "?",
            event_type or "?",
            origin.topic,
            origin.partition,
            origin.offset,
            judged.attempts,
            judged.error,
        )


# --- The operator's side -------------------------------------------------------------------------------------


@dataclass
class Entry:
    id: str
    time: datetime
    consumer: str
    topic: str
    partition: int
    offset: int
    event_id: str
    event_type: str
    attempts: int
    error: str
    cure: str
    key: bytes | None
    value: bytes
    replays: list[datetime] = field(default_factory=list)

    def summary(self) -> str:
        replayed = f"replayed {len(self.replays)}x, last {self.replays[-1]:%Y-%m-%d %H:%M:%S}Z" if self.replays else "-"
        error = self.error.splitlines()[0][:100] if self.error else ""
        return "\t".join(
            [
                self.id,
                f"{self.time:%Y-%m-%d %H:%M:%S}Z",
                self.consumer,
                f"{self.topic}[{self.partition}]@{self.offset}",
                self.event_id or "?",
                self.event_type or "?",
                f"attempts={self.attempts}",
                replayed if self.cure == "replay" else "cure: rebuild",
                error,
            ]
        )


def _timestamp(record: ConsumerRecord) -> datetime:
    return datetime.fromtimestamp(record.timestamp / 1000, UTC)


def _entry(record: ConsumerRecord) -> Entry:
    h = _headers(record)
    event_id, event_type = event_identity(record.value)
    return Entry(
        id=f"{record.partition}:{record.offset}",
        time=_timestamp(record),
        consumer=h.get("dlt_consumer", ""),
        topic=h.get("dlt_topic", ""),
        partition=int(h.get("dlt_partition", "-1")),
        offset=int(h.get("dlt_offset", "-1")),
        event_id=event_id,
        event_type=event_type,
        attempts=int(h.get("dlt_attempts", "0")),
        error=h.get("dlt_error", ""),
        cure=h.get(CURE, "replay"),
        key=record.key,
        value=record.value,
    )


async def _read_all(bootstrap: str, topic: str, timeout_s: float) -> list[ConsumerRecord]:
    """Every record of `topic`, from the start to its end as it is now (no consumer group)."""
    partitions = await topic_partitions(bootstrap, topic, timeout_s=timeout_s)
    consumer = make_consumer(bootstrap, group_id=None, client_id="mes-dead-letters")
    await start_with_timeout(consumer, timeout_s)
    try:
        consumer.assign(partitions)
        ends = await asyncio.wait_for(consumer.end_offsets(partitions), timeout_s)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord] = []
        waiting = set(partitions)
        while waiting:
            for tp in list(waiting):
                if await asyncio.wait_for(consumer.position(tp), timeout_s) >= ends[tp]:
                    waiting.discard(tp)
            if waiting:
                batches = await asyncio.wait_for(consumer.getmany(*waiting, timeout_ms=500), timeout_s)
                for tp, part in batches.items():
                    records.extend(r for r in part if r.offset < ends[tp])
        return records
    finally:
        await stop_quietly(consumer)


async def entries(bootstrap: str, timeout_s: float = 15.0) -> list[Entry]:
    """Every dead letter, oldest first, with the times it was replayed."""
    dead, replays = await asyncio.gather(
        _read_all(bootstrap, DEAD_LETTER.name, timeout_s), _read_all(bootstrap, DEAD_LETTER_REPLAY.name, timeout_s)
    )
    found = sorted((_entry(r) for r in dead), key=lambda e: (e.time, e.id))
    by_id = {e.id: e for e in found}
    for record in sorted(replays, key=lambda r: r.timestamp):
        entry = by_id.get(_headers(record).get(REPLAY_OF, ""))
        if entry is not None:
            entry.replays.append(_timestamp(record))
    return found


class NotReplayable(Exception):
    """The entry's consumer is cured another way (reporting's projections: a rebuild)."""


async def replay(bootstrap: str, chosen: Sequence[Entry], timeout_s: float = 15.0) -> None:
    """Send each chosen entry back to its consumer only, through the replay topic."""
    refused = [e.id for e in chosen if e.cure != "replay"]
    if refused:
        raise NotReplayable(f"{', '.join(refused)}: cured by rebuilding the consumer's projections, not by replay")
    producer = make_producer(bootstrap, client_id="mes-dead-letters-replay")
    await start_with_timeout(producer, timeout_s)
    try:
        for entry in chosen:
            headers = {
                REPLAY_FOR: entry.consumer,
                REPLAY_OF: entry.id,
                "dlt_topic": entry.topic,
                "dlt_partition": str(entry.partition),
                "dlt_offset": str(entry.offset),
            }
            await asyncio.wait_for(
                producer.send_and_wait(
                    DEAD_LETTER_REPLAY.name,
                    value=entry.value,
                    key=entry.key,
                    headers=[(k, v.encode()) for k, v in headers.items()],
                ),
                timeout_s,
            )
    finally:
        await stop_quietly(producer)


def _show(entry: Entry) -> str:
    try:
        body = json.dumps(json.loads(entry.value), indent=2, ensure_ascii=False)
    except ValueError:
        body = repr(entry.value)
    replays = ", ".join(f"{t:%Y-%m-%d %H:%M:%S}Z" for t in entry.replays) or "never"
    return "\n".join(
        [
            f"id:         {entry.id}",
            f"time:       {entry.time:%Y-%m-%d %H:%M:%S}Z",
            f"consumer:   {entry.consumer}",
            f"origin:     {entry.topic} partition {entry.partition} offset {entry.offset}",
            f"key:        {entry.key.decode(errors='replace') if entry.key is not None else ''}",
            f"event:      {entry.event_id or '?'} ({entry.event_type or '?'})",
            f"attempts:   {entry.attempts}",
            f"cure:       {entry.cure}",
            f"replayed:   {replays}",
            f"error:      {entry.error}",
            "event body:",
            body,
        ]
    )


async def _main(args: argparse.Namespace) -> int:
    found = await entries(args.bootstrap)
    if args.command == "list":
        shown = [e for e in found if args.consumer in (None, e.consumer) and (not args.pending or not e.replays)]
        for entry in shown:
            print(entry.summary())
        print(f"{len(shown)} dead letter(s) shown of {len(found)}", file=sys.stderr)
        return 0
    by_id = {e.id: e for e in found}
    if args.command == "show":
        if args.id not in by_id:
            print(f"no dead letter {args.id}", file=sys.stderr)
            return 1
        print(_show(by_id[args.id]))
        return 0
    if args.ids:
        unknown = [i for i in args.ids if i not in by_id]
        if unknown:
            print(f"no dead letter {', '.join(unknown)}", file=sys.stderr)
            return 1
        chosen = [by_id[i] for i in args.ids]
    else:
        chosen = [e for e in found if e.consumer == args.consumer and (args.again or not e.replays)]
    try:
        await replay(args.bootstrap, chosen)
    except NotReplayable as exc:
        print(f"not replayed: {exc}", file=sys.stderr)
        return 1
    for entry in chosen:
        print(f"replayed {entry.id} to {entry.consumer}: event {entry.event_id or '?'} ({entry.event_type or '?'})")
    print(f"{len(chosen)} dead letter(s) replayed", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mes_shared.dead_letters", description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default=os.environ.get("MES_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="one line per dead letter, with when it was replayed")
    listing.add_argument("--consumer", help="only this consumer's")
    listing.add_argument("--pending", action="store_true", help="only those not replayed yet")
    show = commands.add_parser("show", help="one dead letter in full, with its event")
    show.add_argument("id", help="the dead letter's id, <partition>:<offset>, as `list` prints it")
    again = commands.add_parser("replay", help="send dead letters back to the consumer each failed in")
    again.add_argument("ids", nargs="*", metavar="ID", help="these dead letters (even if replayed before)")
    again.add_argument("--consumer", help="every dead letter of this consumer not replayed yet")
    again.add_argument("--again", action="store_true", help="with --consumer: those replayed before as well")
    args = parser.parse_args(argv)
    if args.command == "replay" and bool(args.ids) == bool(args.consumer):
        parser.error("replay takes either IDs or --consumer NAME")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
