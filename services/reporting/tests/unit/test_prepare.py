"""Preparing a batch for the rebuild: records of types the fold ignores are set apart after reading only
their id and type; everything else is prepared exactly as the live consumer prepares it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from mes_shared.envelope import Envelope, EventData
from mes_shared.events import vehicles as v
from reporting.projections import decode, runner
from reporting.projections.tables import MERGERS

T0 = datetime(2026, 11, 26, 6, tzinfo=UTC)
VIN = "XLRTE47MS0E123456"


@dataclass(frozen=True)
class Record:
    """What prepare reads of an aiokafka ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    value: bytes


def env(data: EventData, minutes: float) -> Envelope:
    return Envelope.wrap(data, source="/mes/test", subject=VIN, time=T0 + timedelta(minutes=minutes))


def station(n: int) -> dict[str, str | None]:
    return {"vin": VIN, "line_id": "L1", "station": f"S{n}", "terminal_event_id": f"T{n}", "operator_id": "E1"}


def check(n: int) -> Envelope:
    return env(
        v.CheckRecorded(
            **station(n), characteristic="torque", value=41.5, nominal=42, tolerance=2, unit="Nm", passed=True
        ),
        n,
    )


def edited(envelope: Envelope, **fields: str | None) -> bytes:
    """The envelope's JSON with `fields` replaced (None: left out)."""
    raw = json.loads(envelope.to_bytes())
    raw.update(fields)
    return json.dumps({name: value for name, value in raw.items() if value is not None}).encode()


def as_records(values: list[bytes]) -> list[Record]:
    return [Record("mes.vehicles", 0, offset, value) for offset, value in enumerate(values)]


def test_a_batch_prepares_as_the_live_consumer_prepares_it() -> None:
    arrived = env(v.VehicleArrived(**station(1)), 0)
    checks = [check(n) for n in range(1, 4)]
    started = env(v.WorkStarted(**station(1)), 1)
    broken_contract = Envelope(
        source="/mes/test",
        type="mes.vehicle.completed.v1",
        subject=VIN,
        time=T0,
        dataschema="urn:mes:schema:mes.vehicle.completed.v1",
        data={"vin": VIN},
    )
    records = as_records(
        [
            arrived.to_bytes(),
            *(c.to_bytes() for c in checks),
            checks[0].to_bytes(),  # redelivered in the same batch
            started.to_bytes(),
            arrived.to_bytes(),
            b"{not json",
            broken_contract.to_bytes(),
            edited(started, id="not-a-uuid"),  # no id to tell what it is
        ]
    )

    live, fast = runner.prepare(records), decode.prepare(records)

    assert fast.records is records
    assert [(r.offset, e) for r, e, _ in fast.folded] == [(r.offset, e) for r, e, _ in live.folded]
    assert [(r.offset, e) for r, e, _ in fast.folded] == [(0, arrived), (5, started)]
    assert [(d.record.offset, d.error) for d in fast.dead] == [(d.record.offset, d.error) for d in live.dead]
    assert [d.record.offset for d in fast.dead] == [7, 8, 9]
    assert sorted(r.offset for r in fast.ignored) == sorted(r.offset for r in live.ignored) == [1, 2, 3]
    assert fast.repeated == live.repeated == 2
    assert fast.buffer.tables() == live.buffer.tables()
    assert len(fast.buffer) == 2


def test_an_ignored_event_is_not_checked_beyond_its_id_and_type() -> None:
    """The one difference from the live consumer: it dead-letters this, a rebuild skips it. Either way it
    changes no projection."""
    records = as_records([edited(check(1), source=None)])
    assert [d.record.offset for d in runner.prepare(records).dead] == [0]
    fast = decode.prepare(records)
    assert not fast.dead and not fast.folded and [r.offset for r in fast.ignored] == [0]


def test_a_row_completes_with_nulls_and_refuses_unknown_columns_or_a_missing_key() -> None:
    kits = MERGERS["kits"]
    row = kits.complete({"serial": "KIT-1", "status": "received"})
    assert list(row) == list(kits.columns)
    assert (row["serial"], row["status"], row["kit_type"]) == ("KIT-1", "received", None)
    with pytest.raises(KeyError, match="colour"):
        kits.complete({"serial": "KIT-1", "colour": "red"})
    with pytest.raises(ValueError, match="serial"):
        kits.complete({"serial": None, "status": "received"})
