"""A plausible plant for one line, published as the other services would publish it: calendar, line and
route, the year's output so far, trucks in production, andons, defects, kits and people. Used by the
dashboard's browser test (and its screenshot)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reporting_support import line_configured, new_vin, route, station_event, unique, wrap

from mes_shared.envelope import Envelope
from mes_shared.events import kits as k
from mes_shared.events import people as p
from mes_shared.events import stations as s
from mes_shared.events import vehicles as v

ZONE = ZoneInfo("Europe/Berlin")
STATIONS = ["ST-01", "ST-02", "ST-03", "ST-04", "ST-05", "ST-06"]
NAMES = ["Frame", "Axles", "Cab", "Harness", "Paint touch-up", "End of line"]
STANDARD = 3000.0  # 50 minutes per station


@dataclass
class Plant:
    line: str
    now: datetime
    model: str
    envelopes: list[Envelope] = field(default_factory=list)
    built_this_year: int = 0
    built_today: int = 0
    wip: int = 0
    open_andons: int = 0

    def add(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


def _calendar(line: str, year: int, at: datetime) -> Envelope:
    holidays = [
        d for d in (date(year, 1, 1), date(year, 5, 1), date(year, 12, 24), date(year, 12, 25)) if d.weekday() < 5
    ]
    data = p.CalendarPublished(
        line_id=line,
        version=1,
        time_zone="Europe/Berlin",
        valid_from=date(year, 1, 1),
        working_days=[1, 2, 3, 4, 5],
        holidays=holidays,
        shifts=[
            p.ShiftDefinition(
                code="A", start=time(6), end=time(14, 30), breaks=[p.BreakWindow(start=time(10), end=time(10, 30))]
            ),
            p.ShiftDefinition(
                code="B", start=time(14, 30), end=time(23), breaks=[p.BreakWindow(start=time(18, 30), end=time(19))]
            ),
        ],
    )
    return wrap(data, line, at)


def completion(
    line: str, at: datetime, *, first_pass: bool = True, defects: int = 0, model: str = "HTX-6x4"
) -> Envelope:
    vin = new_vin()
    data = v.VehicleCompleted(
        vin=vin,
        model=model,
        line_id=line,
        station="ST-06",
        kit_serial=f"KIT-{vin[-8:]}",
        started_at=at - timedelta(hours=6, minutes=10),
        lead_time_seconds=6 * 3600 + 600,
        defect_count=defects,
        first_pass=first_pass,
    )
    return wrap(data, vin, at)


def build_plant(now: datetime | None = None, seed: int = 7) -> Plant:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    line = unique("T-DASH")
    plant = Plant(line=line, now=now, model=f"HTX-{line[-8:]}")
    model, kit_type = plant.model, f"{plant.model}-T"
    local_now = now.astimezone(ZONE)
    today, year = local_now.date(), local_now.year
    start_of_year = datetime(year, 1, 1, tzinfo=ZONE)
    plant.add(_calendar(line, year, start_of_year - timedelta(days=30)))
    plant.add(line_configured(line, STATIONS, start_of_year - timedelta(days=30)))
    plant.add(route(line, model, dict.fromkeys(STATIONS, STANDARD), start_of_year - timedelta(days=30)))
    bom = k.KitTypeBomPublished(
        kit_type=kit_type,
        model=model,
        variant="6x4 tractor",
        version=1,
        lines=[k.BomLine(part_number="CAB-100", description="Cab shell", quantity=1, station="ST-03")],
    )
    plant.add(wrap(bom, kit_type, start_of_year - timedelta(days=30)))

    # The year so far: a ramp-up from 4 trucks a day to about 8, on working days only.
    day = date(year, 1, 1)
    while day < today:
        if day.weekday() < 5 and (day.month, day.day) not in ((1, 1), (5, 1)):
            progress = min(1.0, (day - date(year, 1, 1)).days / 120)
            count = max(0, round(4 + 4.3 * progress + rng.uniform(-1.6, 1.6)))
            for n in range(count):
                minute = 6 * 60 + 40 + n * (15 * 60) // max(count, 1)
                at = datetime.combine(day, time(minute // 60, minute % 60), ZONE)
                plant.add(completion(line, at.astimezone(UTC), first_pass=rng.random() > 0.15, model=model))
                plant.built_this_year += 1
        day += timedelta(days=1)

    # Today: a few trucks already off the line, spread over the time since midnight.
    midnight = datetime.combine(today, time(0), ZONE).astimezone(UTC)
    for fraction in (0.2, 0.5, 0.8):
        at = midnight + (now - midnight) * fraction
        plant.add(completion(line, at, first_pass=fraction != 0.5, defects=1 if fraction == 0.5 else 0, model=model))
        plant.built_today += 1
        plant.built_this_year += 1

    # Trucks in production: two per station, the oldest at ST-03 past its standard, one held at ST-04.
    for i, station in enumerate(STATIONS):
        for j in range(2):
            vin = new_vin()
            arrived = now - timedelta(minutes=15 + 10 * j + (60 if station == "ST-03" and j == 1 else 0))
            started = arrived - timedelta(minutes=50 * i + 10)
            kit = f"KIT-{vin[-8:]}"
            short = station == "ST-04" and j == 0
            plant.add(
                wrap(
                    v.BuildOrderCreated(
                        vin=vin,
                        model=model,
                        line_id=line,
                        route_version=1,
                        kit_serial=kit,
                        build_short=short,
                        waiting_stations=["ST-04"] if short else [],
                    ),
                    vin,
                    started - timedelta(hours=1),
                )
            )
            plant.add(
                wrap(
                    v.BuildStarted(vin=vin, model=model, line_id=line, kit_serial=kit, station="ST-01"),
                    vin,
                    started,
                )
            )
            plant.add(station_event(v.VehicleArrived, line, vin, station, arrived))
            plant.add(station_event(v.WorkStarted, line, vin, station, arrived + timedelta(minutes=2)))
            if short:
                plant.add(
                    wrap(
                        v.VehicleHeld(
                            vin=vin,
                            line_id=line,
                            station="ST-04",
                            kit_serial=kit,
                            missing_parts=[v.MissingPartHold(part_number="HRN-300", quantity=1, station="ST-04")],
                        ),
                        vin,
                        arrived + timedelta(minutes=3),
                    )
                )
            plant.wip += 1
            # Work done at the stations before, for cycle times and OEE.
            for m, before in enumerate(STATIONS[:i]):
                plant.add(
                    station_event(
                        v.WorkCompleted,
                        line,
                        vin,
                        before,
                        arrived - timedelta(minutes=5 + 50 * (i - 1 - m)),
                        cycle_seconds=STANDARD * rng.uniform(0.85, 1.25 if before == "ST-03" else 1.05),
                        standard_seconds=STANDARD,
                        rework=False,
                    )
                )

    # Andons: two open (one stopping the line), three cleared earlier today.
    for n, (station, minutes, stops, open_) in enumerate(
        [
            ("ST-03", 12, False, True),
            ("ST-05", 4, True, True),
            ("ST-02", 95, False, False),
            ("ST-03", 140, False, False),
            ("ST-06", 200, True, False),
        ]
    ):
        andon = unique("AND")
        raised = now - timedelta(minutes=minutes)
        plant.add(
            wrap(
                s.AndonRaised(
                    andon_id=andon,
                    line_id=line,
                    station=station,
                    reason=["torque tool", "part missing", "quality check", "fixture", "conveyor"][n],
                    raised_by="op-1",
                    stops_line=stops,
                    vin=None,
                ),
                station,
                raised,
            )
        )
        if open_:
            plant.open_andons += 1
        else:
            plant.add(
                wrap(
                    s.AndonCleared(
                        andon_id=andon,
                        line_id=line,
                        station=station,
                        cleared_by="lead",
                        duration_seconds=480,
                        stops_line=stops,
                    ),
                    station,
                    raised + timedelta(minutes=8),
                )
            )

    # Defects found today, for the Pareto.
    for code, station in [
        ("TORQUE-LOW", "ST-03"),
        ("TORQUE-LOW", "ST-03"),
        ("PAINT-SCRATCH", "ST-05"),
        ("GAP-DOOR", "ST-06"),
    ]:
        vin = new_vin()
        plant.add(
            station_event(
                v.DefectFound,
                line,
                vin,
                station,
                now - timedelta(minutes=rng.randint(5, 200)),
                defect_id=unique("DEF"),
                code=code,
                severity="minor",
                caused_at_station=station,
                note="",
                from_check=False,
            )
        )

    # People: the current shift's roster (two per station) and who clocked in.
    shift = "A" if local_now.time() < time(14, 30) else "B"
    employees = [unique("EMP") for _ in range(12)]
    for n, emp in enumerate(employees):
        plant.add(
            wrap(
                p.EmployeeRegistered(
                    employee_id=emp,
                    badge_id=f"B{n}",
                    name=f"Worker {n}",
                    origin="transferred" if n < 9 else "new_hire",
                    status="active",
                    status_since=date(year, 1, 2),
                ),
                emp,
                start_of_year,
            )
        )
    plant.add(
        wrap(
            p.RosterPublished(
                line_id=line,
                date=today,
                shift=shift,
                assignments=[
                    p.StationAssignment(employee_id=e, station=STATIONS[n // 2]) for n, e in enumerate(employees)
                ],
                required=[p.StationRequirement(station=st, headcount=2) for st in STATIONS],
                unqualified_assignments=[],
            ),
            line,
            now - timedelta(hours=12),
        )
    )
    for n, emp in enumerate(employees[:11]):
        plant.add(
            wrap(
                p.ClockedIn(
                    employee_id=emp,
                    badge_id=f"B{n}",
                    station=STATIONS[n // 2],
                    line_id=line,
                    shift_date=today,
                    shift=shift,
                    at=now - timedelta(minutes=30),
                    terminal_event_id=unique("T"),
                ),
                emp,
                now - timedelta(minutes=30),
            )
        )

    # Kits: released ones waiting for the line, two quarantined with claims, some on the way.
    for n in range(14):
        serial = unique("KIT")
        status = "quarantined" if n < 2 else "received"
        plant.add(
            wrap(
                k.KitReceived(
                    serial=serial,
                    kit_type=kit_type,
                    bom_version=1,
                    shipment_id="ASN-1",
                    unannounced=False,
                    dock="D1",
                    received_by="dock",
                    discrepancy_count=1 if n < 2 else 0,
                    status=status,
                ),
                serial,
                now - timedelta(days=2),
            )
        )
        if n < 2:
            plant.add(
                wrap(
                    k.DiscrepancyRecorded(
                        serial=serial,
                        discrepancy_id="D1",
                        claim_code=["M", "DT"][n],
                        part_number="AXL-200",
                        quantity=1,
                        station="ST-02",
                        note="",
                    ),
                    serial,
                    now - timedelta(days=2),
                )
            )
        elif n < 10:
            plant.add(
                wrap(
                    k.KitReleased(
                        serial=serial,
                        kit_type=kit_type,
                        bom_version=1,
                        build_short=False,
                        waiting_stations=[],
                        missing_parts=[],
                        released_by="lead",
                    ),
                    serial,
                    now - timedelta(days=1),
                )
            )
    return plant
