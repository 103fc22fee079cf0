"""The topic catalogue: every topic, its key, its fixed partition count and unlimited retention.

`python -m mes_shared.topics create` creates missing topics (run by `./mes up`); existing topics are
checked against the catalogue so a drifted partition count is reported, never silently accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# The log is what reporting is rebuilt from, so nothing expires.
UNLIMITED_RETENTION = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    partitions: int
    description: str
    config: dict[str, str] = field(default_factory=lambda: dict(UNLIMITED_RETENTION))


KITS = TopicSpec(
    name="mes.kits",
    key="kit serial; shipment id for shipment events; kit type code for kit type events",
    partitions=6,
    description="Kit types, shipments (ASN), receipts, discrepancies, quarantine and release of kits.",
)
PEOPLE = TopicSpec(
    name="mes.people",
    key="employee id; line id for calendar and roster events; 'recall' for the recall programme",
    partitions=6,
    description="Employees and their origin and status, recall, qualifications, plant calendar, rosters, clock-in/out.",
)
VEHICLES = TopicSpec(
    name="mes.vehicles",
    key="VIN",
    partitions=12,
    description="Build orders and every station event of each truck, from line entry to end of line.",
)
STATIONS = TopicSpec(
    name="mes.stations",
    key="station id for andons; line id for line and route definitions",
    partitions=6,
    description="Lines, stations and routes per model, and andon calls at each station.",
)
DEAD_LETTER = TopicSpec(
    name="mes.dead-letter",
    key="the original record's key",
    partitions=3,
    description="Events a consumer could not process after bounded retries, with the error in headers.",
)

DEAD_LETTER_REPLAY = TopicSpec(
    name="mes.dead-letter.replay",
    key="the original record's key",
    partitions=3,
    description="Dead letters an operator sent back (`./mes dead-letters replay`); every consumer reads it and "
    "applies only the records whose `replay_consumer` header names it.",
)

CATALOGUE: tuple[TopicSpec, ...] = (KITS, PEOPLE, VEHICLES, STATIONS, DEAD_LETTER, DEAD_LETTER_REPLAY)


def by_name(name: str) -> TopicSpec:
    for spec in CATALOGUE:
        if spec.name == name:
            return spec
    raise KeyError(f"topic {name!r} is not in the catalogue")


async def ensure_topics(
    bootstrap_servers: str, specs: tuple[TopicSpec, ...] = CATALOGUE, timeout_s: float = 30.0
) -> list[str]:
    """Create missing topics; return the names created. Raise when an existing one drifted."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await asyncio.wait_for(admin.list_topics(), timeout_s))
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await asyncio.wait_for(
                admin.create_topics([NewTopic(s.name, s.partitions, 1, topic_configs=s.config) for s in missing]),
                timeout_s,
            )
        present = [s for s in specs if s.name in existing]
        if present:
            described = await asyncio.wait_for(admin.describe_topics([s.name for s in present]), timeout_s)
            counts = {d["topic"]: len(d["partitions"]) for d in described}
            drifted = [
                f"{s.name} has {counts[s.name]} partitions, catalogue says {s.partitions}"
                for s in present
                if counts.get(s.name) != s.partitions
            ]
            if drifted:
                raise RuntimeError("; ".join(drifted))
        return [s.name for s in missing]
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mes_shared.topics")
    parser.add_argument("command", choices=["create", "list"])
    parser.add_argument("--bootstrap", default=os.environ.get("MES_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    args = parser.parse_args(argv)
    if args.command == "list":
        for spec in CATALOGUE:
            print(f"{spec.name}\tpartitions={spec.partitions}\tkey={spec.key}")
        return 0
    created = asyncio.run(ensure_topics(args.bootstrap))
    print(f"topics: created {', '.join(created)}" if created else "topics: all present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
