"""Clock-in and clock-out decisions, and the automatic clock-out at shift end + grace."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from workforce.domain import (
    Calendar,
    ClockedIn,
    ClockedOut,
    ClockOutReason,
    ClockResult,
    Conflict,
    EmployeeStatus,
    Presence,
    ShiftInstance,
    ShiftPattern,
    clock_in,
    clock_out,
)

MONDAY = date(2026, 3, 2)
GRACE = timedelta(minutes=30)
TICK = timedelta(microseconds=1)
CAL = Calendar.define(
    line_id="L1",
    time_zone="UTC",
    valid_from=date(2026, 1, 1),
    working_days=[1, 2, 3, 4, 5],
    holidays=[],
    shifts=[ShiftPattern("E", time(6), time(14)), ShiftPattern("L", time(14), time(22))],
)


def shift(code: str = "E", day: date = MONDAY) -> ShiftInstance:
    found = CAL.instance(day, code)
    assert found is not None
    return found


def at(hhmm: str, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=UTC)


def scan_in(
    when: datetime,
    *,
    station: str = "ST-01",
    on: ShiftInstance | None = None,
    open_presence: Presence | None = None,
    last_clock_out: datetime | None = None,
    status: EmployeeStatus = EmployeeStatus.ACTIVE,
    event_id: str = "T1-0001",
):  # type: ignore[no-untyped-def]
    return clock_in(
        employee_id="E-1",
        badge_id="B-1",
        status=status,
        station=station,
        shift=on or shift("E"),
        at=when,
        terminal_event_id=event_id,
        open_presence=open_presence,
        last_clock_out=last_clock_out,
        grace=GRACE,
    )


def present(station: str = "ST-01", since: str = "05:55", on: ShiftInstance | None = None) -> Presence:
    decision = scan_in(at(since), station=station, on=on)
    return decision.presence


# ---- automatic clock-out ------------------------------------------------------------------------


def test_a_presence_is_forgotten_exactly_at_shift_end_plus_grace() -> None:
    p = present()
    due = shift("E").end + GRACE
    assert p.auto_close_at(GRACE) == due == at("14:30")
    assert not p.forgotten(due - TICK, GRACE)
    assert p.forgotten(due, GRACE)


def test_the_automatic_clock_out_is_at_the_due_instant_whenever_it_runs() -> None:
    late_sweep, p = at("23:59"), present()
    assert p.forgotten(late_sweep, GRACE)
    event = p.close_forgotten(GRACE)
    assert event == ClockedOut(
        employee_id="E-1",
        badge_id="B-1",
        station="ST-01",
        line_id="L1",
        shift_date=MONDAY,
        shift="E",
        shift_start=at("06:00"),
        shift_end=at("14:00"),
        at=at("14:30"),
        automatic=True,
        terminal_event_id=None,
        reason=ClockOutReason.SHIFT_ENDED,
    )
    assert not p.is_open and not p.forgotten(late_sweep, GRACE), "closed once, never again"


def test_a_closed_presence_is_never_forgotten() -> None:
    p = present()
    clock_out(employee_id="E-1", open_presence=p, last_closed=None, at=at("14:05"), terminal_event_id="x", grace=GRACE)
    assert not p.forgotten(at("23:00"), GRACE)


def test_zero_grace_closes_at_the_shift_end() -> None:
    p = present()
    assert p.forgotten(at("14:00"), timedelta(0))
    assert p.close_forgotten(timedelta(0)).at == at("14:00")


def test_a_status_change_ends_the_presence_now() -> None:
    p = present()
    event = p.end_for_status_change(at("10:00"), GRACE)
    assert (event.at, event.automatic, event.reason) == (at("10:00"), True, ClockOutReason.STATUS_CHANGED)
    q = present()
    assert q.end_for_status_change(at("16:00"), GRACE).reason is ClockOutReason.SHIFT_ENDED


# ---- clock-in -----------------------------------------------------------------------------------


def test_clock_in_opens_a_presence_for_the_shift() -> None:
    decision = scan_in(at("05:55"))
    assert decision.result is ClockResult.CLOCKED_IN
    assert decision.events == (
        ClockedIn(
            employee_id="E-1",
            badge_id="B-1",
            station="ST-01",
            line_id="L1",
            shift_date=MONDAY,
            shift="E",
            shift_start=at("06:00"),
            shift_end=at("14:00"),
            at=at("05:55"),
            terminal_event_id="T1-0001",
        ),
    )
    assert decision.presence.is_open and decision.closed is None


@pytest.mark.parametrize("status", [EmployeeStatus.IDLE, EmployeeStatus.ON_LEAVE, EmployeeStatus.LEFT])
def test_only_an_active_employee_clocks_in(status: EmployeeStatus) -> None:
    with pytest.raises(Conflict) as refused:
        scan_in(at("06:00"), status=status)
    assert refused.value.rule == "clock-in.employee-not-active"
    assert refused.value.details["employee_status"] == status.value


def test_a_second_scan_at_the_same_station_changes_nothing() -> None:
    p = present()
    decision = scan_in(at("06:10"), open_presence=p, event_id="T1-0002")
    assert (decision.result, decision.events, decision.presence) == (ClockResult.ALREADY_CLOCKED_IN, (), p)


def test_a_scan_at_another_station_moves_the_presence() -> None:
    p = present()
    decision = scan_in(at("09:00"), station="ST-02", open_presence=p, event_id="T2-0001")
    closed, opened = decision.events
    assert isinstance(closed, ClockedOut) and isinstance(opened, ClockedIn)
    assert (closed.station, closed.at, closed.automatic, closed.reason) == (
        "ST-01",
        at("09:00"),
        False,
        ClockOutReason.MOVED,
    )
    assert closed.terminal_event_id == "T2-0001"
    assert (opened.station, opened.at) == ("ST-02", at("09:00"))
    assert decision.closed is p and not p.is_open


def test_a_double_shift_starts_a_new_presence_for_the_second_shift() -> None:
    p = present()
    decision = scan_in(at("13:50"), on=shift("L"), open_presence=p, event_id="T1-0002")
    assert [type(e) for e in decision.events] == [ClockedOut, ClockedIn]
    assert decision.presence.shift == "L"


def test_a_forgotten_presence_is_closed_automatically_before_the_next_clock_in() -> None:
    p = present()
    tuesday = MONDAY + timedelta(days=1)
    decision = scan_in(at("05:50", tuesday), on=shift("E", tuesday), open_presence=p, event_id="T1-0009")
    closed, opened = decision.events
    assert isinstance(closed, ClockedOut) and (closed.at, closed.automatic) == (at("14:30"), True)
    assert isinstance(opened, ClockedIn) and opened.shift_date == tuesday


def test_a_scan_older_than_what_is_recorded_is_refused() -> None:
    p = present(since="07:00")
    with pytest.raises(Conflict) as before_open:
        scan_in(at("06:30"), station="ST-02", open_presence=p)
    assert before_open.value.rule == "clock-in.before-open-clock-in"
    with pytest.raises(Conflict) as overlapping:
        scan_in(at("06:30"), last_clock_out=at("09:00"))
    assert overlapping.value.rule == "clock-in.overlaps-recorded-presence"


# ---- clock-out ----------------------------------------------------------------------------------


def test_clock_out_closes_the_presence_at_the_scan() -> None:
    p = present()
    decision = clock_out(
        employee_id="E-1", open_presence=p, last_closed=None, at=at("14:05"), terminal_event_id="T1-0100", grace=GRACE
    )
    [event] = decision.events
    assert decision.result is ClockResult.CLOCKED_OUT
    assert isinstance(event, ClockedOut)
    assert (event.at, event.automatic, event.terminal_event_id, event.reason) == (
        at("14:05"),
        False,
        "T1-0100",
        ClockOutReason.SCANNED,
    )


def test_a_clock_out_scan_after_shift_end_plus_grace_is_the_automatic_clock_out() -> None:
    p = present()
    decision = clock_out(
        employee_id="E-1", open_presence=p, last_closed=None, at=at("15:00"), terminal_event_id="T1-0100", grace=GRACE
    )
    [event] = decision.events
    assert decision.result is ClockResult.CLOSED_AUTOMATICALLY
    assert isinstance(event, ClockedOut) and (event.at, event.automatic) == (at("14:30"), True)
    # The same scan after the workers closed it: the same answer, and nothing more happens.
    again = clock_out(
        employee_id="E-1", open_presence=None, last_closed=p, at=at("15:00"), terminal_event_id="T1-0100", grace=GRACE
    )
    assert (again.result, again.events) == (ClockResult.CLOSED_AUTOMATICALLY, ())


def test_clock_out_without_a_presence_is_refused() -> None:
    with pytest.raises(Conflict) as refused:
        clock_out(
            employee_id="E-1", open_presence=None, last_closed=None, at=at("14:00"), terminal_event_id="x", grace=GRACE
        )
    assert refused.value.rule == "clock-out.not-clocked-in"
    scanned_out = present()
    clock_out(
        employee_id="E-1",
        open_presence=scanned_out,
        last_closed=None,
        at=at("13:00"),
        terminal_event_id="y",
        grace=GRACE,
    )
    with pytest.raises(Conflict):
        clock_out(
            employee_id="E-1",
            open_presence=None,
            last_closed=scanned_out,
            at=at("14:00"),
            terminal_event_id="z",
            grace=GRACE,
        )


def test_clock_out_before_the_clock_in_is_refused() -> None:
    p = present(since="07:00")
    with pytest.raises(Conflict) as refused:
        clock_out(
            employee_id="E-1", open_presence=p, last_closed=None, at=at("06:59"), terminal_event_id="x", grace=GRACE
        )
    assert refused.value.rule == "clock-out.before-clock-in"
    assert p.is_open
