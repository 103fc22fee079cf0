"""What a `change` on the live stream says: the subjects a batch's facts touched, cut to fit PostgreSQL's
NOTIFY payload, carried through the listener and merged with the rest of a burst."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from mes_shared.envelope import Envelope
from mes_shared.events import stations as s
from mes_shared.events import vehicles as v
from reporting.projections.fold import ALL_VIEWS
from reporting.projections.runner import MAX_SUBJECTS, cap_subjects, notice, subjects_of
from reporting.service.live import Change, ChangeHub, event_stream, parse_notice

NOTIFY_LIMIT = 8000  # PostgreSQL refuses a payload of this many bytes


def test_a_station_fact_touches_its_truck_and_its_station() -> None:
    at = datetime(2026, 3, 2, 8, tzinfo=UTC)
    started = v.WorkStarted(
        vin="WDB00000000000001", line_id="L1", station="L1-S04", terminal_event_id="t-1", operator_id="op-1"
    )
    andon = s.AndonRaised(
        andon_id="A-1", line_id="L1", station="L1-S04", reason="no bolts", raised_by=None, stops_line=False, vin=None
    )
    assert subjects_of(Envelope.wrap(started, source="/mes/al", subject=started.vin, time=at)) == [
        "WDB00000000000001",
        "L1-S04",
    ]
    assert subjects_of(Envelope.wrap(andon, source="/mes/al", subject="L1-S04", time=at)) == ["L1-S04"]


def test_subjects_are_named_sorted_until_cut_and_then_flagged() -> None:
    assert cap_subjects(["S2", "S1", "S2"]) == (["S1", "S2"], False)
    many = [f"S{n:03d}" for n in range(MAX_SUBJECTS + 1)]
    named, more = cap_subjects(reversed(many))
    assert named == many[:MAX_SUBJECTS] and more


def test_a_notice_fits_a_notify_payload_whatever_the_subjects() -> None:
    huge = [f"{n:04d}-" + "x€" * 500 for n in range(MAX_SUBJECTS)]
    payload = notice(sorted(ALL_VIEWS), 12, huge)
    assert len(payload.encode()) < NOTIFY_LIMIT
    body = json.loads(payload)
    assert body["more"] is True and 0 < len(body["subjects"]) < MAX_SUBJECTS
    assert body["subjects"] == sorted(huge)[: len(body["subjects"])]


def test_a_notice_round_trips_through_the_listener() -> None:
    change = parse_notice(notice(["andons", "oee"], None, {"L1-S04", "WDB00000000000001"}))
    assert change == Change(frozenset({"andons", "oee"}), None, frozenset({"L1-S04", "WDB00000000000001"}), False)
    unknown = parse_notice(notice(["targets"], 3, None))
    assert unknown.subjects == frozenset() and unknown.more and unknown.generation == 3
    older_replica = parse_notice(json.dumps({"views": ["wip"], "generation": None}))
    assert older_replica.views == {"wip"} and older_replica.more


async def changes(stream: Any, count: int) -> list[dict[str, Any]]:
    found = []
    while len(found) < count:
        message = await asyncio.wait_for(anext(stream), 2)
        if message.startswith("event: change"):
            found.append(json.loads(message.split("data: ", 1)[1]))
    return found


async def test_a_burst_is_one_change_with_every_subject() -> None:
    hub = ChangeHub("postgresql://unused")
    stream = event_stream(hub, heartbeat_s=5, coalesce_s=0.2)
    await anext(stream)  # hello, and subscribed
    hub.publish(Change(frozenset({"andons"}), None, frozenset({"L1-S04"}), False))
    hub.publish(Change(frozenset({"wip"}), 5, frozenset({"WDB00000000000001", "L1-S04"}), False))
    [change] = await changes(stream, 1)
    assert change["views"] == ["andons", "wip"] and change["generation"] == 5
    assert change["subjects"] == ["L1-S04", "WDB00000000000001"] and change["more"] is False

    hub.publish(Change(frozenset({"wip"}), None, frozenset({"L1-S01"}), False))
    hub.publish(Change(frozenset({"targets"})))  # a target change: subjects not known
    [change] = await changes(stream, 1)
    assert change["subjects"] == ["L1-S01"] and change["more"] is True
    await stream.aclose()


async def test_a_change_after_a_quiet_spell_goes_out_at_once_and_the_next_waits_its_turn() -> None:
    hub = ChangeHub("postgresql://unused")
    stream = event_stream(hub, heartbeat_s=5, coalesce_s=1.0)
    await anext(stream)
    hub.publish(Change(frozenset({"andons"}), None, frozenset({"L1-S04"}), False))
    started = time.perf_counter()
    [first] = await changes(stream, 1)
    assert first["subjects"] == ["L1-S04"] and time.perf_counter() - started < 0.5
    hub.publish(Change(frozenset({"andons"}), None, frozenset({"L1-S05"}), False))
    hub.publish(Change(frozenset({"wip"}), None, frozenset({"WDB00000000000001"}), False))
    [second] = await changes(stream, 1)
    assert second["subjects"] == ["L1-S05", "WDB00000000000001"]  # merged, and not before the window ended
    assert time.perf_counter() - started >= 1.0
    await stream.aclose()


async def test_a_burst_beyond_the_cap_is_cut_and_flagged() -> None:
    hub = ChangeHub("postgresql://unused")
    stream = event_stream(hub, heartbeat_s=5, coalesce_s=0.2)
    await anext(stream)
    half = MAX_SUBJECTS // 2
    for batch in range(3):  # each batch within the cap, together beyond it
        hub.publish(Change(frozenset({"wip"}), None, frozenset(f"VIN{batch}{n:03d}" for n in range(half)), False))
    [change] = await changes(stream, 1)
    assert len(change["subjects"]) == MAX_SUBJECTS and change["more"] is True
    assert change["subjects"][0] == "VIN0000" and change["subjects"][-1] == f"VIN1{half - 1:03d}"
    await stream.aclose()


async def test_a_reader_too_slow_for_its_queue_is_told_anything_may_have_changed() -> None:
    hub = ChangeHub("postgresql://unused")
    stream = event_stream(hub, heartbeat_s=5, coalesce_s=0.01)
    await anext(stream)
    for n in range(200):  # more than the queue holds, while the reader is not reading
        hub.publish(Change(frozenset({"wip"}), None, frozenset({f"VIN{n:03d}"}), False))
    [change] = await changes(stream, 1)
    assert change["views"] == sorted(ALL_VIEWS) and change["more"] is True
    await stream.aclose()
