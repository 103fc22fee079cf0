"""A truck held twice at the same station: every as-of view shows each hold at instants inside it.

Reporting once kept one hold row per (truck, station) with the latest times, so an instant inside the first
hold of a truck held twice showed it not held (found by an independent plant scenario).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from reporting_story import Story, t
from reporting_support import Api, Bus, calendar, line_configured, route, station_event, unique, wrap

from mes_shared.auth import Role
from mes_shared.events import vehicles as v

pytestmark = pytest.mark.integration


def _held(line: str, vin: str, kit: str, at: datetime) -> Any:
    missing = [v.MissingPartHold(part_number="P-9", quantity=1, station="ST-02")]
    return wrap(v.VehicleHeld(vin=vin, line_id=line, station="ST-02", kit_serial=kit, missing_parts=missing), vin, at)


def _released(line: str, vin: str, kit: str, at: datetime, reason: str) -> Any:
    return wrap(
        v.VehicleHoldReleased(vin=vin, line_id=line, station="ST-02", kit_serial=kit, reason=reason),  # type: ignore[arg-type]
        vin,
        at,
    )


@pytest.fixture(scope="module")
async def held_twice(producer: Any, client: Any) -> Story:
    st = Story(unique("T-H"))
    line, vin, kit = st.line, st.vins["V1"], st.kits["K1"]
    st.add(
        calendar(line),
        line_configured(line, ["ST-01", "ST-02"]),
        route(line, "HTX", {"ST-01": 3000, "ST-02": 2400}),
    )
    st.start(vin, t(8), kit=kit, short=True)
    # Published out of time order on purpose: the second hold's facts arrive before the first's.
    st.add(
        station_event(v.VehicleArrived, line, vin, "ST-02", t(10, 30)),
        _held(line, vin, kit, t(10, 31)),
        _released(line, vin, kit, t(11), "part_arrived"),
        st.work(vin, "ST-01", t(9), 3600, 3000),
        station_event(v.VehicleArrived, line, vin, "ST-02", t(9, 50)),
        _held(line, vin, kit, t(9, 51)),
        wrap(
            v.SentBackForRework(
                vin=vin, line_id=line, from_station="ST-02", to_station="ST-01", reason="rework", by="sup-1"
            ),
            vin,
            t(10, 10),
        ),
        _released(line, vin, kit, t(10, 10), "sent_back"),
        st.work(vin, "ST-01", t(10, 25), 900, 3000, rework=True),
    )
    await Bus(producer, Api(client, Role.ADMIN)).publish(*st.events)
    return st


@pytest.mark.parametrize(
    ("at", "held_since"),
    [
        (t(7, 30), None),  # not started yet
        (t(9, 50), None),  # arrived, not yet held
        (t(10), t(9, 51)),  # inside the first hold
        (t(10, 20), None),  # sent back: released
        (t(10, 45), t(10, 31)),  # inside the second hold
        (t(11, 30), None),  # the part arrived
    ],
)
async def test_every_hold_of_a_truck_held_twice_is_seen_as_of_an_instant_inside_it(
    held_twice: Story, manager: Api, at: datetime, held_since: datetime | None
) -> None:
    line, vin = held_twice.line, held_twice.vins["V1"]
    held = await manager.json("/kits/held-trucks", line=line, at=at.isoformat())
    trucks = await manager.json("/wip/trucks", line=line, at=at.isoformat())
    wip = await manager.json("/wip", line=line, at=at.isoformat())
    kits = await manager.json("/kits", line=line, at=at.isoformat())
    stations = {s["station"]: s for s in wip["stations"]}
    if at < t(8):
        assert trucks["total"] == 0 and held["total"] == 0
        return
    (truck,) = [x for x in trucks["items"] if x["vin"] == vin]
    assert kits["build_short_in_production"] == (1 if at >= t(8) else 0)
    if held_since is None:
        assert held["total"] == 0
        assert truck["held"] is False
        assert stations["ST-02"]["held"] == 0
        assert kits["trucks_held_by_shortage"] == 0
    else:
        assert [(h["vin"], h["station"]) for h in held["items"]] == [(vin, "ST-02")]
        assert datetime.fromisoformat(held["items"][0]["held_at"]) == held_since
        assert (truck["station"], truck["status"], truck["held"]) == ("ST-02", "held", True)
        assert stations["ST-02"]["held"] == 1
        assert kits["trucks_held_by_shortage"] == 1
