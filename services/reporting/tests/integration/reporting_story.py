"""One line's Thursday, 26 November 2026, as the other services would publish it: the calendar, line and
route, trucks through three stations (one held by a shortage), defects, andons, components and kits;
read at 12:00 in Berlin. `test_views.py` holds the figures computed by hand from it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reporting_support import calendar, line_configured, new_vin, route, station_event, unique, wrap

from mes_shared.events import kits as k
from mes_shared.events import people as p
from mes_shared.events import stations as s
from mes_shared.events import vehicles as v

BERLIN = ZoneInfo("Europe/Berlin")


AT = datetime(2026, 11, 26, 12, tzinfo=BERLIN)


def t(hh: int, mm: int = 0, day: int = 26) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=BERLIN)


class Story:
    def __init__(self, line: str) -> None:
        self.line = line
        self.events: list[Any] = []
        self.vins = {name: new_vin() for name in ("V1", "V2", "V3", "V4", "V5")}
        self.kit_type = unique("KT")
        self.kits = {name: unique("KIT") for name in ("K1", "K2", "K3", "K4", "K5", "K6", "K7")}

    def add(self, *events: Any) -> None:
        self.events.extend(events)

    def work(self, vin: str, station: str, at: datetime, cycle: float, standard: float, rework: bool = False) -> Any:
        return station_event(
            v.WorkCompleted, self.line, vin, station, at, cycle_seconds=cycle, standard_seconds=standard, rework=rework
        )

    def start(self, vin: str, at: datetime, *, kit: str | None = None, short: bool = False) -> None:
        kit = kit or f"KIT-{vin}"
        self.add(
            wrap(
                v.BuildOrderCreated(
                    vin=vin,
                    model="HTX",
                    line_id=self.line,
                    route_version=1,
                    kit_serial=kit,
                    build_short=short,
                    waiting_stations=["ST-03"] if short else [],
                ),
                vin,
                at - timedelta(hours=1),
            ),
            wrap(v.BuildStarted(vin=vin, model="HTX", line_id=self.line, kit_serial=kit, station="ST-01"), vin, at),
        )

    def defect(self, vin: str, defect_id: str, code: str, station: str, caused: str, found: datetime) -> Any:
        return station_event(
            v.DefectFound,
            self.line,
            vin,
            station,
            found,
            defect_id=defect_id,
            code=code,
            severity="major",
            caused_at_station=caused,
            note="",
            from_check=False,
        )

    def repaired(self, vin: str, defect_id: str, code: str, at: datetime) -> Any:
        return station_event(v.DefectRepaired, self.line, vin, "REPAIR", at, defect_id=defect_id, code=code, note="")

    def completed(self, vin: str, at: datetime, lead: float, first_pass: bool, defects: int, kit: str) -> Any:
        data = v.VehicleCompleted(
            vin=vin,
            model="HTX",
            line_id=self.line,
            station="ST-03",
            kit_serial=kit,
            started_at=at - timedelta(seconds=lead),
            lead_time_seconds=lead,
            defect_count=defects,
            first_pass=first_pass,
        )
        return wrap(data, vin, at)

    def andon(self, andon_id: str, station: str, raised: datetime, cleared: datetime | None, stops: bool) -> None:
        self.add(
            wrap(
                s.AndonRaised(
                    andon_id=andon_id,
                    line_id=self.line,
                    station=station,
                    reason="help",
                    raised_by="op",
                    stops_line=stops,
                    vin=None,
                ),
                station,
                raised,
            )
        )
        if cleared is not None:
            self.add(
                wrap(
                    s.AndonCleared(
                        andon_id=andon_id,
                        line_id=self.line,
                        station=station,
                        cleared_by="lead",
                        duration_seconds=(cleared - raised).total_seconds(),
                        stops_line=stops,
                    ),
                    station,
                    cleared,
                )
            )

    def component(self, vin: str, source: str, value: float | None) -> Any:
        return station_event(
            v.ComponentFitted,
            self.line,
            vin,
            "ST-02",
            t(9),
            part_number=f"P-{uuid.uuid4().hex[:6]}",
            serial=uuid.uuid4().hex,
            source=source,
            unit_value=value,
        )


def build_story(line: str) -> Story:
    st = Story(line)
    V1, V2, V3, V4, V5 = (st.vins[n] for n in ("V1", "V2", "V3", "V4", "V5"))
    st.add(
        calendar(line),
        line_configured(line, ["ST-01", "ST-02", "ST-03"]),
        route(line, "HTX", {"ST-01": 3000, "ST-02": 2400, "ST-03": 1800}),
    )
    # V1: at ST-02 since 07:05, working; 295 minutes against a 40-minute standard.
    st.start(V1, t(6, 10))
    st.add(
        station_event(v.WorkStarted, line, V1, "ST-01", t(6, 12)),
        st.work(V1, "ST-01", t(7), 2880, 3000),
        station_event(v.VehicleArrived, line, V1, "ST-02", t(7, 5)),
        station_event(v.WorkStarted, line, V1, "ST-02", t(7, 6)),
        st.defect(V1, "D-3", "TORQUE", "ST-02", "ST-02", t(7, 30)),
    )
    # V2: just entered the line.
    st.start(V2, t(11, 30))
    # V3: build short, held at ST-03 since its arrival at 09:50.
    st.start(V3, t(8), kit=st.kits["K6"], short=True)
    st.add(
        st.work(V3, "ST-01", t(9), 3600, 3000),
        station_event(v.VehicleArrived, line, V3, "ST-02", t(9, 5)),
        st.work(V3, "ST-02", t(9, 45), 2400, 2400),
        station_event(v.VehicleArrived, line, V3, "ST-03", t(9, 50)),
        wrap(
            v.VehicleHeld(
                vin=V3,
                line_id=line,
                station="ST-03",
                kit_serial=st.kits["K6"],
                missing_parts=[v.MissingPartHold(part_number="P-9", quantity=1, station="ST-03")],
            ),
            V3,
            t(9, 51),
        ),
    )
    # V4: built from kit K4 (BOM of 10 parts), two defects repaired, completed at 10:45.
    st.start(V4, t(6), kit=st.kits["K4"])
    st.add(
        st.work(V4, "ST-01", t(6, 50), 3000, 3000),
        st.defect(V4, "D-1", "TORQUE", "ST-02", "ST-02", t(7, 35)),
        st.work(V4, "ST-02", t(7, 40), 2700, 2400),
        st.repaired(V4, "D-1", "TORQUE", t(8)),
        st.defect(V4, "D-2", "GAP", "ST-03", "ST-01", t(8, 20)),
        st.work(V4, "ST-03", t(8, 30), 1500, 1800),
        st.repaired(V4, "D-2", "GAP", t(10, 30)),
        st.component(V4, "local", 100.0),
        st.component(V4, "local", 50.0),
        st.component(V4, "kit", 400.0),
        st.completed(V4, t(10, 45), 17100, first_pass=False, defects=2, kit=st.kits["K4"]),
    )
    # V5: an unknown kit; a rework cycle at ST-03; completed first pass at 11:15.
    st.add(
        st.work(V5, "ST-03", t(11), 600, 1800, rework=True),
        st.component(V5, "kit", None),
        st.component(V5, "local", 30.0),
        st.completed(V5, t(11, 15), 18000, first_pass=True, defects=0, kit=f"KIT-{V5}"),
    )
    # Andons.
    st.andon(unique("A1"), "ST-02", t(7, 10), t(7, 30), stops=False)
    st.andon(unique("A2"), "ST-03", t(9, 55), t(10, 40), stops=True)  # across the break
    st.andon(unique("A3"), "ST-01", t(5, 50), t(6, 20), stops=True)  # starts before the shift
    st.andon(unique("A4"), "ST-02", t(11, 50), None, stops=False)  # still open at 12:00
    return st


def kit_events(st: Story) -> list[Any]:
    kt, K = st.kit_type, st.kits
    now = t(6, day=20)

    def received(serial: str, status: str, count: int) -> Any:
        return wrap(
            k.KitReceived(
                serial=serial,
                kit_type=kt,
                bom_version=1,
                shipment_id="ASN-1",
                unannounced=False,
                dock="D1",
                received_by="dock",
                discrepancy_count=count,
                status=status,  # type: ignore[arg-type]
            ),
            serial,
            now,
        )

    def released(serial: str, short: bool) -> Any:
        return wrap(
            k.KitReleased(
                serial=serial,
                kit_type=kt,
                bom_version=1,
                build_short=short,
                waiting_stations=["ST-03"] if short else [],
                missing_parts=[],
                released_by="lead",
            ),
            serial,
            now + timedelta(hours=2),
        )

    def discrepancy(serial: str, did: str, code: str) -> Any:
        return wrap(
            k.DiscrepancyRecorded(
                serial=serial,
                discrepancy_id=did,
                claim_code=code,
                part_number="P-9",
                quantity=1,
                station="ST-03",
                note="",
            ),
            serial,
            now,
        )

    bom = k.KitTypeBomPublished(
        kit_type=kt,
        model="HTX",
        variant="6x4",
        version=1,
        lines=[
            k.BomLine(part_number="CAB", description="cab", quantity=1, station="ST-01"),
            k.BomLine(part_number="BOLT", description="bolt", quantity=9, station="ST-02"),
        ],
    )
    return [
        wrap(bom, kt, now - timedelta(days=30)),
        wrap(
            k.KitAnnounced(
                serial=K["K1"],
                kit_type=kt,
                bom_version=1,
                shipment_id="ASN-2",
                cases=["C1"],
                expected_arrival=t(8, day=30),
            ),
            K["K1"],
            now,
        ),
        received(K["K2"], "received", 0),
        received(K["K3"], "quarantined", 1),
        discrepancy(K["K3"], "D1", "M"),
        wrap(k.KitQuarantined(serial=K["K3"], open_discrepancy_ids=["D1"], claim_codes=["M"]), K["K3"], now),
        received(K["K4"], "received", 0),
        released(K["K4"], False),
        received(K["K5"], "received", 0),
        released(K["K5"], False),
        wrap(k.KitConsumed(serial=K["K5"], vin=new_vin()), K["K5"], now + timedelta(hours=5)),
        received(K["K6"], "quarantined", 1),
        discrepancy(K["K6"], "D1", "DT"),
        wrap(
            k.DiscrepancyResolved(
                serial=K["K6"],
                discrepancy_id="D1",
                claim_code="DT",
                part_number="P-9",
                quantity=1,
                station="ST-03",
                resolution="shortage_accepted",
                discrepancy_status="shortage_accepted",
                resolved_by="qa",
                note="",
                kit_status="received",
                build_short=False,
                waiting_stations=[],
            ),
            K["K6"],
            now + timedelta(hours=1),
        ),
        wrap(k.KitQuarantineLifted(serial=K["K6"], accepted_shortages=[]), K["K6"], now + timedelta(hours=1)),
        released(K["K6"], True),
        received(K["K7"], "received", 0),
        released(K["K7"], False),
    ]


@dataclass
class People:
    """Six employees of a day of their own in the past, one recall goal, qualifications at a station of its
    own, and one line's roster and clock-ins for shift A on Thursday 26 November 2026."""

    line: str
    prefix: str  # every employee id of the story starts with it
    hired: date
    recalled_on: date
    station: str
    people: list[str]
    goal: str
    events: list[Any]
    at: datetime  # the qualifications expire 10, 40 (and, revoked, 5) days after this


def people_story(line: str, hired: date) -> People:
    recalled_on = hired + timedelta(days=10)
    station = unique("ST")
    prefix = unique("EMP")
    people = [f"{prefix}-{n}" for n in range(6)]
    goal = unique("GOAL")
    events: list[Any] = [calendar(line, valid_from=date(2026, 1, 1))]
    origins = ["transferred", "transferred", "transferred", "new_hire", "transferred", "recalled"]
    statuses = ["active", "idle", "idle", "active", "on_leave", "active"]
    for n, (emp, origin, status) in enumerate(zip(people, origins, statuses, strict=True)):
        events.append(
            wrap(
                p.EmployeeRegistered(
                    employee_id=emp,
                    badge_id=f"B{n}",
                    name=f"Person {n}",
                    origin=origin,
                    status=status,
                    status_since=hired,
                ),
                emp,
                datetime(2026, 1, 5, tzinfo=UTC),
            )
        )
    events.append(
        wrap(
            p.RecallGoalSet(goal_id=goal, target_count=2, by_date=recalled_on + timedelta(days=20), note="start-up"),
            "recall",
            datetime(2026, 1, 6, tzinfo=UTC),
        )
    )
    # A recall naming no goal counts toward the latest goal set before it, plant-wide: a goal set a second later
    # fences ours off from the goal-less recalls other tests publish into the same log.
    events.append(
        wrap(
            p.RecallGoalSet(goal_id=unique("FENCE"), target_count=1, by_date=recalled_on, note="test fence"),
            "recall",
            datetime(2026, 1, 6, 0, 0, 1, tzinfo=UTC),
        )
    )
    events += [
        wrap(
            p.EmployeeRecalled(employee_id=people[1], recalled_on=recalled_on, goal_id=goal),
            people[1],
            datetime(2026, 1, 7, tzinfo=UTC),
        ),
        wrap(
            p.EmployeeStatusChanged(
                employee_id=people[1],
                origin="recalled",
                from_status="idle",
                to_status="active",
                effective_date=recalled_on,
                reason="recall",
            ),
            people[1],
            datetime(2026, 1, 7, tzinfo=UTC),
        ),
    ]
    # Qualifications at a station of its own: one expires in 10 days, one in 40, one revoked.
    at = datetime(2026, 11, 26, 11, tzinfo=UTC)
    for emp, days in ((people[0], 10), (people[3], 40), (people[5], 5)):
        events.append(
            wrap(
                p.QualificationGranted(
                    employee_id=emp,
                    station=station,
                    level="qualified",
                    valid_from=at - timedelta(days=300),
                    valid_until=at + timedelta(days=days),
                ),
                emp,
                at - timedelta(days=300),
            )
        )
    events.append(
        wrap(
            p.QualificationRevoked(
                employee_id=people[5],
                station=station,
                level="qualified",
                revoked_at=at - timedelta(days=1),
                reason="audit",
            ),
            people[5],
            at - timedelta(days=1),
        )
    )
    # The roster of shift A on Thursday 26 November: ST-01 needs 2, ST-02 needs 1.
    events.append(
        wrap(
            p.RosterPublished(
                line_id=line,
                date=date(2026, 11, 26),
                shift="A",
                assignments=[
                    p.StationAssignment(employee_id=people[0], station="ST-01"),
                    p.StationAssignment(employee_id=people[3], station="ST-01"),
                    p.StationAssignment(employee_id=people[5], station="ST-02"),
                ],
                required=[
                    p.StationRequirement(station="ST-01", headcount=2),
                    p.StationRequirement(station="ST-02", headcount=1),
                ],
                unqualified_assignments=[p.StationAssignment(employee_id=people[5], station="ST-02")],
            ),
            line,
            datetime(2026, 11, 25, 12, tzinfo=UTC),
        )
    )

    def clock(kind: type, emp: str, st: str, when: datetime, **extra: Any) -> Any:
        return wrap(
            kind(
                employee_id=emp,
                badge_id="B",
                station=st,
                line_id=line,
                shift_date=date(2026, 11, 26),
                shift="A",
                at=when,
                **extra,
            ),
            emp,
            when,
        )

    events += [
        clock(p.ClockedIn, people[0], "ST-01", t(5, 55), terminal_event_id="t1"),
        clock(p.ClockedIn, people[5], "ST-02", t(6, 1), terminal_event_id="t2"),
        clock(p.ClockedOut, people[5], "ST-02", t(9), automatic=False, terminal_event_id="t3"),
    ]

    return People(line, prefix, hired, recalled_on, station, people, goal, events, at)
