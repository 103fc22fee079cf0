"""A simulated plant-year of events for the rebuild benchmark, built from the shared contracts and
published straight to the topics (a year through the HTTP APIs would take hours; the rebuild only reads
the log). 2,000 trucks over ~247 working days through a 12-station line, with the people, kits and andons
around them: well over 500,000 events.

    .venv/bin/python -m bench.plant_year [--trucks 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from mes_shared.envelope import Envelope, EventData
from mes_shared.events import kits, people, stations, vehicles
from mes_shared.kafka import make_producer

STATIONS = 12
CHECKS_PER_STATION = 14
PARTS_PER_STATION = 4


def _wrap(data: EventData, subject: str, at: datetime, source: str) -> Envelope:
    return Envelope.wrap(data, source=source, subject=subject, time=at)


def plant_year(run: str, trucks: int, seed: int = 7) -> Iterator[Envelope]:
    rng = random.Random(seed)
    line = f"LY-{run}"
    model = f"MY-{run}"
    station_ids = [f"{line}-S{n:02d}" for n in range(1, STATIONS + 1)]
    start = datetime(datetime.now(UTC).year - 1, 1, 2, 6, 0, tzinfo=UTC)
    al, wf, kr = "/mes/assembly-line", "/mes/workforce", "/mes/kit-receiving"
    yield _wrap(
        stations.LineConfigured(
            line_id=line,
            name="year line",
            stations=[
                stations.StationDefinition(station_id=s, name=s, position=n) for n, s in enumerate(station_ids, 1)
            ],
        ),
        line,
        start,
        al,
    )
    yield _wrap(
        stations.RoutePublished(
            line_id=line,
            model=model,
            version=1,
            steps=[stations.RouteStep(station_id=s, standard_seconds=3000) for s in station_ids],
        ),
        line,
        start,
        al,
    )
    yield _wrap(
        people.CalendarPublished(
            line_id=line,
            version=1,
            time_zone="UTC",
            valid_from=start.date(),
            working_days=[1, 2, 3, 4, 5],
            holidays=[],
            shifts=[
                people.ShiftDefinition(
                    code="A",
                    start=datetime.min.time().replace(hour=6),
                    end=datetime.min.time().replace(hour=14),
                    breaks=[],
                )
            ],
        ),
        line,
        start,
        wf,
    )
    operators = {s: f"EY-{run}-{n:03d}" for n, s in enumerate(station_ids, 1)}
    for station, emp in operators.items():
        yield _wrap(
            people.EmployeeRegistered(
                employee_id=emp,
                badge_id=emp,
                name=emp,
                origin="transferred",
                status="active",
                status_since=start.date(),
            ),
            emp,
            start,
            wf,
        )
        yield _wrap(
            people.QualificationGranted(
                employee_id=emp,
                station=station,
                level="qualified",
                valid_from=start,
                valid_until=start + timedelta(days=400),
            ),
            emp,
            start,
            wf,
        )
    per_day = max(1, trucks // 247)
    day, made = start, 0
    while made < trucks:
        if day.weekday() < 5:
            for station, emp in operators.items():
                shift_args = {
                    "employee_id": emp,
                    "badge_id": emp,
                    "station": station,
                    "line_id": line,
                    "shift_date": day.date(),
                    "shift": "A",
                    "terminal_event_id": uuid.uuid4().hex,
                }
                yield _wrap(people.ClockedIn(**shift_args, at=day), emp, day, wf)
                yield _wrap(
                    people.ClockedOut(**shift_args, at=day + timedelta(hours=8), automatic=False),
                    emp,
                    day + timedelta(hours=8),
                    wf,
                )
            for n in range(min(per_day, trucks - made)):
                made += 1
                yield from _truck(
                    rng, run, made, line, model, station_ids, operators, day + timedelta(minutes=20 * n), kr, al
                )
        day += timedelta(days=1)


def _truck(
    rng: random.Random,
    run: str,
    n: int,
    line: str,
    model: str,
    station_ids: list[str],
    operators: dict[str, str],
    t: datetime,
    kr: str,
    al: str,
) -> Iterator[Envelope]:
    serial, vin = f"KY-{run}-{n:05d}", f"Y{run}{n:06d}".ljust(17, "0")[:17].replace("O", "0").replace("I", "1")
    yield _wrap(
        kits.KitAnnounced(
            serial=serial, kit_type=model, bom_version=1, shipment_id=f"AY-{run}-{n}", cases=[], expected_arrival=t
        ),
        serial,
        t - timedelta(days=20),
        kr,
    )
    yield _wrap(
        kits.KitReceived(
            serial=serial,
            kit_type=model,
            bom_version=1,
            shipment_id=f"AY-{run}-{n}",
            unannounced=False,
            dock="D1",
            received_by="dock",
            discrepancy_count=0,
            status="received",
        ),
        serial,
        t - timedelta(days=5),
        kr,
    )
    yield _wrap(
        kits.KitReleased(
            serial=serial,
            kit_type=model,
            bom_version=1,
            build_short=False,
            waiting_stations=[],
            missing_parts=[],
            released_by="dock",
        ),
        serial,
        t - timedelta(days=4),
        kr,
    )
    yield _wrap(
        vehicles.BuildOrderCreated(
            vin=vin,
            model=model,
            line_id=line,
            route_version=1,
            kit_serial=serial,
            build_short=False,
            waiting_stations=[],
        ),
        vin,
        t - timedelta(hours=1),
        al,
    )
    yield _wrap(
        vehicles.BuildStarted(vin=vin, model=model, line_id=line, kit_serial=serial, station=station_ids[0]), vin, t, al
    )
    defects = 0
    for k, station in enumerate(station_ids):
        base = {"vin": vin, "line_id": line, "station": station, "operator_id": operators[station]}
        at = t + timedelta(minutes=50 * k)
        yield _wrap(vehicles.VehicleArrived(**base, terminal_event_id=uuid.uuid4().hex), vin, at, al)
        yield _wrap(vehicles.WorkStarted(**base, terminal_event_id=uuid.uuid4().hex), vin, at, al)
        for c in range(CHECKS_PER_STATION):
            value = 120 + rng.gauss(0, 2)
            yield _wrap(
                vehicles.CheckRecorded(
                    **base,
                    terminal_event_id=uuid.uuid4().hex,
                    characteristic=f"T{c}",
                    value=value,
                    nominal=120,
                    tolerance=8,
                    unit="Nm",
                    passed=True,
                ),
                vin,
                at + timedelta(minutes=5 + c),
                al,
            )
        for p in range(PARTS_PER_STATION):
            yield _wrap(
                vehicles.ComponentFitted(
                    **base,
                    terminal_event_id=uuid.uuid4().hex,
                    part_number=f"P-{station}-{p}",
                    serial=f"S-{vin}-{k}-{p}",
                    source="kit" if p else "local",
                    unit_value=None,
                ),
                vin,
                at + timedelta(minutes=20 + p),
                al,
            )
        if rng.random() < 0.01:
            defects += 1
            yield _wrap(
                vehicles.DefectFound(
                    **base,
                    terminal_event_id=uuid.uuid4().hex,
                    defect_id=f"DY-{vin}-{k}",
                    code="PAINT",
                    severity="minor",
                    caused_at_station=station,
                    note="",
                    from_check=False,
                ),
                vin,
                at + timedelta(minutes=20),
                al,
            )
            yield _wrap(
                vehicles.DefectRepaired(
                    **base, terminal_event_id=uuid.uuid4().hex, defect_id=f"DY-{vin}-{k}", code="PAINT", note=""
                ),
                vin,
                at + timedelta(minutes=30),
                al,
            )
        cycle = rng.uniform(2400, 3300)
        yield _wrap(
            vehicles.WorkCompleted(
                **base, terminal_event_id=uuid.uuid4().hex, cycle_seconds=cycle, standard_seconds=3000, rework=False
            ),
            vin,
            at + timedelta(seconds=cycle),
            al,
        )
    end = t + timedelta(minutes=50 * len(station_ids))
    yield _wrap(
        vehicles.VehicleCompleted(
            vin=vin,
            model=model,
            line_id=line,
            station=station_ids[-1],
            kit_serial=serial,
            started_at=t,
            lead_time_seconds=(end - t).total_seconds(),
            defect_count=defects,
            first_pass=defects == 0,
        ),
        vin,
        end,
        al,
    )


async def publish(trucks: int) -> int:
    run = uuid.uuid4().hex[:5].upper()
    import os

    producer = make_producer(os.environ["MES_KAFKA_BOOTSTRAP"], client_id="bench-plant-year")
    await producer.start()
    count, began = 0, time.perf_counter()
    try:
        pending = []
        for envelope in plant_year(run, trucks):
            pending.append(await producer.send(envelope.topic, envelope.to_bytes(), key=envelope.subject.encode()))
            count += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    print(f"published {count} events of plant-year {run} in {time.perf_counter() - began:.0f} s")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plant_year")
    parser.add_argument("--trucks", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(publish(args.trucks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
