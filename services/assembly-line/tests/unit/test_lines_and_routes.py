"""Lines, models and versioned routes are data; a route follows its line's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assembly_line.domain import (
    Conflict,
    InvalidInput,
    Line,
    Route,
    RouteStep,
    VehicleModel,
    configure_line,
    define_model,
    publish_route,
)

STATIONS = [("ST-10", "Cab"), ("ST-20", "Axles"), ("ST-30", "Harness"), ("ST-40", "End of line")]
HTX = VehicleModel("HTX", "Heavy tractor", ())
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def line(stations: list[tuple[str, str]] = STATIONS, **kw: object) -> Line | None:
    args: dict[str, object] = {
        "line_id": "L1",
        "name": "Main line",
        "stations": stations,
        "current": None,
        "stations_on_other_lines": {},
        "latest_routes": (),
        "stations_in_use": (),
    }
    return configure_line(**{**args, **kw})  # type: ignore[arg-type]


def steps(*ids: str) -> list[RouteStep]:
    return [RouteStep(s, 600.0) for s in ids]


def test_a_line_lists_its_stations_in_order_and_is_revised_only_when_it_changes() -> None:
    first = line()
    assert first is not None and first.revision == 1
    assert [(s.station_id, s.position) for s in first.stations] == [
        ("ST-10", 1),
        ("ST-20", 2),
        ("ST-30", 3),
        ("ST-40", 4),
    ]
    assert line(current=first) is None
    renamed = line(current=first, name="Line one")
    assert renamed is not None and renamed.revision == 2


def test_station_ids_are_unique_in_the_line_and_in_the_plant() -> None:
    with pytest.raises(InvalidInput) as twice:
        line([("ST-10", "a"), ("ST-10", "b")])
    assert twice.value.rule == "line.station-duplicate"
    with pytest.raises(Conflict) as elsewhere:
        line(stations_on_other_lines={"ST-20": "L2", "ST-10": "L1"})
    assert elsewhere.value.rule == "line.station-on-other-line" and elsewhere.value.extensions["stations"] == ["ST-20"]


def test_a_station_trucks_still_need_stays() -> None:
    current = line()
    with pytest.raises(Conflict) as caught:
        line(STATIONS[:3], current=current, stations_in_use={"ST-40"})
    assert caught.value.rule == "line.station-in-use"
    assert line(STATIONS[:3], current=current, stations_in_use={"ST-10"}) is not None


def test_a_change_that_breaks_a_current_route_is_refused() -> None:
    current = line()
    route = Route("L1", "HTX", 2, tuple(steps("ST-10", "ST-30")), T0)
    reordered = [STATIONS[2], STATIONS[1], STATIONS[0], STATIONS[3]]
    with pytest.raises(Conflict) as caught:
        line(reordered, current=current, latest_routes=[route])
    assert caught.value.rule == "line.route-broken" and caught.value.extensions == {"model": "HTX", "route_version": 2}
    with pytest.raises(Conflict):
        line([STATIONS[0], STATIONS[1], STATIONS[3]], current=current, latest_routes=[route])
    assert line([*STATIONS, ("ST-50", "Test")], current=current, latest_routes=[route]) is not None


def publish(*stations: str, latest: Route | None = None, at: datetime = T0, **kw: Any) -> Route | None:
    current = line()
    assert current is not None
    args: dict[str, Any] = {
        "line": current,
        "model": HTX,
        "model_code": "HTX",
        "latest": latest,
        "effective_from": at,
        "last_start": None,
    }
    return publish_route(**(args | kw), steps=steps(*stations))


def test_routes_are_versioned_and_republishing_the_same_steps_changes_nothing() -> None:
    v1 = publish("ST-10", "ST-30")
    assert v1 is not None and v1.version == 1 and v1.first_station == "ST-10" and v1.effective_from == T0
    assert publish("ST-10", "ST-30", latest=v1, at=T0 + timedelta(hours=1)) is None
    v2 = publish("ST-10", "ST-20", "ST-30", latest=v1, at=T0 + timedelta(hours=1))
    assert v2 is not None and v2.version == 2 and v2.effective_from == T0 + timedelta(hours=1)


def test_a_version_takes_effect_no_earlier_than_the_current_one() -> None:
    v1 = publish("ST-10", "ST-30", at=T0)
    assert v1 is not None
    with pytest.raises(Conflict) as caught:
        publish("ST-10", "ST-20", "ST-30", latest=v1, at=T0 - timedelta(minutes=1))
    assert caught.value.rule == "route.effective-before-current"
    assert caught.value.extensions["current_effective_from"] == T0.isoformat()
    assert T0.isoformat() in caught.value.message and "v1" in caught.value.message
    # The same steps dated earlier are refused as well: they would rewrite when v1 took effect.
    with pytest.raises(Conflict):
        publish("ST-10", "ST-30", latest=v1, at=T0 - timedelta(minutes=1))
    same_instant = publish("ST-10", "ST-20", "ST-30", latest=v1, at=T0)
    assert same_instant is not None and same_instant.version == 2  # it replaces v1 from v1's own instant


def test_a_version_takes_effect_after_the_last_truck_started_which_keeps_the_version_it_started_with() -> None:
    v1 = publish("ST-10", "ST-30", at=T0)
    started = T0 + timedelta(hours=2)
    for effective_from in (T0 + timedelta(hours=1), started):
        with pytest.raises(Conflict) as caught:
            publish("ST-10", "ST-20", "ST-30", latest=v1, at=effective_from, last_start=started)
        assert caught.value.rule == "route.effective-before-started-truck"
        assert (
            caught.value.extensions["last_start"] == started.isoformat() and started.isoformat() in caught.value.message
        )
    later = publish("ST-10", "ST-20", "ST-30", latest=v1, at=started + timedelta(seconds=1), last_start=started)
    assert later is not None and later.version == 2


@pytest.mark.parametrize(
    ("stations", "fragment"),
    [
        (("ST-30", "ST-10"), "comes before"),
        (("ST-10", "ST-10"), "listed twice"),
        (("ST-10", "ST-99"), "not on line L1"),
    ],
)
def test_a_route_follows_the_line(stations: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(Conflict) as caught:
        publish(*stations)
    assert caught.value.rule == "route.invalid-stations" and fragment in caught.value.message


def test_a_route_needs_a_defined_model_and_sane_standard_times() -> None:
    current = line()
    assert current is not None
    with pytest.raises(Conflict) as caught:
        publish("ST-10", model=None, model_code="NEW")
    assert caught.value.rule == "route.model-unknown" and "PUT /models/NEW" in caught.value.message
    with pytest.raises(InvalidInput):
        publish_route(
            line=current,
            model=HTX,
            model_code="HTX",
            steps=[RouteStep("ST-10", 0)],
            latest=None,
            effective_from=T0,
            last_start=None,
        )


def test_models_have_distinct_variants() -> None:
    model = define_model("HTX", "Heavy tractor", [("6x4", "Tractor 6x4"), ("4x2", "Tractor 4x2")])
    assert model.has_variant("4x2") and not model.has_variant("8x4")
    with pytest.raises(InvalidInput):
        define_model("HTX", "Heavy tractor", [("6x4", "a"), ("6x4", "b")])
