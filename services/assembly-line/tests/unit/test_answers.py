"""The answer to an accepted station event is built as a plain dict on the hot path; it is exactly what the
documented response model (`StationEventResult`) gives in JSON."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from pydantic import TypeAdapter

from assembly_line.api import schemas as s
from assembly_line.domain import NO_SHORTAGE, Route, Vehicle
from assembly_line.service import wire
from assembly_line.service.station_events import result_body

from .conftest import VIN, at, occ

EVENT: TypeAdapter[s.StationEventIn] = TypeAdapter(s.StationEventIn)


def model_answer(body: dict[str, object]) -> dict[str, object]:
    return s.StationEventResult.model_validate(body).model_dump(mode="json")


@pytest.mark.parametrize(
    "when",
    [
        at(5),
        at(5) + timedelta(microseconds=120_000),
        (at(5) + timedelta(microseconds=7)).astimezone(timezone(timedelta(hours=1))),
        at(5).astimezone(timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_the_answer_is_the_documented_result_in_json(planned: Vehicle, route: Route, when: object) -> None:
    arrived = planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    started = planned.start_work(occ("ST-10", 1))
    event = EVENT.validate_python(
        {
            "type": "work_started",
            "terminal_event_id": "t-1",
            "occurred_at": when,
            "vin": VIN,
            "operator_badge": "B-1",
        }
    )
    body = result_body(event, "ST-10", at(6), "E-1", arrived + started, vehicle=planned, defect_id=None)
    assert body == model_answer(body)
    expected = s.StationEventResult(
        terminal_event_id="t-1",
        type="work_started",
        station="ST-10",
        vin=VIN,
        occurred_at=event.occurred_at,
        accepted_at=at(6),
        operator_id="E-1",
        published=[wire.event_type(e) for e in arrived + started],
        vehicle=s.VehicleState(
            status="in_progress", current_station="ST-10", step_status="in_progress", open_defects=0, held_at=None
        ),
    ).model_dump(mode="json")
    assert list(body.items()) == list(expected.items())


def test_an_andon_answer_has_no_truck(planned: Vehicle) -> None:
    event = EVENT.validate_python(
        {"type": "andon_raised", "terminal_event_id": "a-1", "occurred_at": at(1), "reason": "no air"}
    )
    body = result_body(event, "ST-10", at(2), None, [], vehicle=None)
    expected = s.StationEventResult(
        terminal_event_id="a-1",
        type="andon_raised",
        station="ST-10",
        vin=None,
        occurred_at=at(1),
        accepted_at=at(2),
        operator_id=None,
        published=[],
    ).model_dump(mode="json")
    assert list(body.items()) == list(expected.items())
