"""Which kit a build order may take, and the andon rules of a station."""

from __future__ import annotations

import dataclasses

import pytest

from assembly_line.domain import (
    Conflict,
    KitFacts,
    OpenAndon,
    StationAndons,
    clear_andon,
    raise_andon,
    require_bindable,
)

from .conftest import VIN, at

RELEASED = KitFacts(
    serial="KIT-1",
    status="released",
    kit_type="HTX-6X4",
    model="HTX",
    variant="6x4",
    build_short=False,
    waiting_stations=(),
    missing_parts=(),
    held_by_vin=None,
)


def bind(kit: KitFacts | None, model: str = "HTX", variant: str | None = None) -> KitFacts:
    return require_bindable(kit, serial="KIT-1", vin=VIN, model=model, variant=variant)


def test_a_released_kit_of_the_model_is_bound() -> None:
    assert bind(RELEASED) is RELEASED
    assert bind(RELEASED, variant="6x4") is RELEASED
    assert bind(dataclasses.replace(RELEASED, held_by_vin=VIN)) is not None  # the same order again


@pytest.mark.parametrize(
    ("kit", "rule"),
    [
        (None, "kit.unknown"),
        (dataclasses.replace(RELEASED, status="announced"), "kit.not-released"),
        (dataclasses.replace(RELEASED, status="received"), "kit.not-released"),
        (dataclasses.replace(RELEASED, status="quarantined"), "kit.quarantined"),
        (dataclasses.replace(RELEASED, status="consumed"), "kit.consumed"),
        (dataclasses.replace(RELEASED, status="cancelled"), "kit.cancelled"),
        (dataclasses.replace(RELEASED, held_by_vin="2HTMKADN43H561298"), "kit.consumed"),
        (dataclasses.replace(RELEASED, model=None), "kit.type-unknown"),
        (dataclasses.replace(RELEASED, model="LTX"), "kit.model-mismatch"),
    ],
)
def test_other_kits_are_refused_each_by_its_rule(kit: KitFacts | None, rule: str) -> None:
    with pytest.raises(Conflict) as caught:
        bind(kit)
    assert caught.value.rule == rule


def test_a_variant_must_match_the_kit_type_variant() -> None:
    with pytest.raises(Conflict) as caught:
        bind(RELEASED, variant="4x2")
    assert caught.value.rule == "kit.variant-mismatch"


def test_the_lag_prone_refusals_say_the_caller_may_retry() -> None:
    with pytest.raises(Conflict) as caught:
        bind(None)
    assert caught.value.extensions["retryable"] is True


IDLE = StationAndons(line_id="L1", station="ST-10", open=None, last_change_at=None, raised_count=2)


def test_one_andon_open_per_station_and_lost_time_from_raise_to_clear() -> None:
    raised = raise_andon(IDLE, at=at(0), reason="torque tool down", stops_line=True, raised_by="E-1", vin=None)
    assert (raised.andon_id, raised.stops_line) == ("ST-10-A3", True)
    busy = dataclasses.replace(IDLE, open=OpenAndon(raised.andon_id, at(0), True), last_change_at=at(0))
    with pytest.raises(Conflict) as caught:
        raise_andon(busy, at=at(1), reason="again", stops_line=False, raised_by=None, vin=None)
    assert caught.value.rule == "andon.already-open"
    cleared = clear_andon(busy, at=at(7.5), andon_id=None, cleared_by="E-2")
    assert (cleared.andon_id, cleared.duration_seconds, cleared.stops_line) == ("ST-10-A3", 450.0, True)
    for state, andon_id, when, rule in (
        (IDLE, None, at(1), "andon.none-open"),
        (busy, "ST-10-A1", at(1), "andon.not-open"),
        (busy, None, at(-1), "station-event.out-of-order"),
    ):
        with pytest.raises(Conflict) as refused:
            clear_andon(state, at=when, andon_id=andon_id, cleared_by=None)
        assert refused.value.rule == rule
