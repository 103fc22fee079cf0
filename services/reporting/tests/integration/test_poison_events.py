"""A poison event never blocks a partition: it is dead-lettered with its error and the projection goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from reporting_support import TEST_GROUP, Api, Bus, calendar, completed, wrap

from mes_shared.envelope import Envelope
from mes_shared.events import people as p
from mes_shared.testing import KafkaTap, eventually
from mes_shared.topics import DEAD_LETTER, VEHICLES

pytestmark = pytest.mark.integration


@pytest.fixture
async def dead_letters(bootstrap: str) -> AsyncIterator[KafkaTap]:
    tap = KafkaTap(bootstrap, DEAD_LETTER.name)
    await tap.start()
    yield tap
    await tap.stop()


async def test_broken_events_are_dead_lettered_and_the_projection_goes_on(
    bus: Bus, manager: Api, dead_letters: KafkaTap, new_line: Any
) -> None:
    line = new_line()
    broken_calendar = wrap(
        p.CalendarPublished(
            line_id=line,
            version=9,
            time_zone="Mars/Olympus_Mons",
            valid_from=date(2026, 1, 1),
            working_days=[1],
            holidays=[],
            shifts=[],
        ),
        line,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    garbage = await bus.producer.send_and_wait(VEHICLES.name, b"{not json", key=b"garbage")
    broken_contract = Envelope(
        source="/mes/assembly-line",
        type="mes.vehicle.completed.v1",
        subject="X",
        time=datetime(2026, 11, 26, 9, tzinfo=UTC),
        dataschema="urn:mes:schema:mes.vehicle.completed.v1",
        data={"vin": "X", "line_id": line},  # most fields missing
    )
    await bus.send(broken_calendar, broken_contract)
    await bus.publish(calendar(line), completed(line, datetime(2026, 11, 26, 9, tzinfo=UTC)))
    await bus.folded([garbage])

    view = await manager.json("/output", line=line, at="2026-11-26T12:00:00Z")
    assert {x["period"]: x["actual"] for x in view["periods"]}["day"] == 1

    mine = {broken_calendar.to_bytes(), broken_contract.to_bytes()}

    def ours(record: Any) -> bool:
        headers = dict(record.headers)
        if headers["dlt_consumer"].decode() != f"{TEST_GROUP}.projections":
            return False
        return record.value in mine or (record.value == b"{not json" and int(headers["dlt_offset"]) == garbage.offset)

    async def all_three() -> list[Any] | None:
        found = [r for r in dead_letters.records if ours(r)]
        return found if len(found) == 3 else None

    found = await eventually(all_three, what="this test's three dead letters from the projections")
    errors = sorted(dict(r.headers)["dlt_error"].decode() for r in found)
    assert any("Mars" in e for e in errors)
    assert any("unreadable envelope" in e for e in errors)
    assert any("mes.vehicle.completed.v1" in e for e in errors)
    assert {r.value for r in found} >= {b"{not json", broken_calendar.to_bytes()}
    # Each names the event (when it can be read) and how it is cured: reporting's by a rebuild, not a replay.
    by_value = {r.value: dict(r.headers) for r in found}
    assert by_value[broken_contract.to_bytes()]["dlt_event_id"] == str(broken_contract.id).encode()
    assert by_value[broken_contract.to_bytes()]["dlt_event_type"] == b"mes.vehicle.completed.v1"
    assert {h["dlt_cure"] for h in by_value.values()} == {b"rebuild"}
