"""Maps domain events to the versioned wire contracts, with the subject (Kafka key) each is published under.

Truck events are keyed by VIN; andons by station; line and route definitions by line id.
"""

from __future__ import annotations

from assembly_line import domain as d
from mes_shared.envelope import EventData
from mes_shared.events import stations as st
from mes_shared.events import vehicles as wire


def _fact(e: d.StationFact) -> dict[str, object]:
    return {
        "vin": e.vin,
        "line_id": e.line_id,
        "station": e.station,
        "terminal_event_id": e.terminal_event_id,
        "operator_id": e.operator_id,
    }


def to_wire(event: d.VehicleEvent) -> EventData:
    """The contract for one truck event (published with subject = VIN, time = event.at)."""
    match event:
        case d.BuildOrderCreated():
            return wire.BuildOrderCreated(
                vin=event.vin,
                model=event.model,
                variant=event.variant,
                line_id=event.line_id,
                route_version=event.route_version,
                kit_serial=event.kit_serial,
                build_short=event.build_short,
                waiting_stations=list(event.waiting_stations),
            )
        case d.BuildOrderCancelled():
            return wire.BuildOrderCancelled(
                vin=event.vin, line_id=event.line_id, kit_serial=event.kit_serial, reason=event.reason, by=event.by
            )
        case d.BuildStarted():
            return wire.BuildStarted(
                vin=event.vin,
                model=event.model,
                line_id=event.line_id,
                kit_serial=event.kit_serial,
                station=event.station,
                route_version=event.route_version,
            )
        case d.VehicleArrived():
            return wire.VehicleArrived(**_fact(event), rework=event.rework)
        case d.WorkStarted():
            return wire.WorkStarted(**_fact(event), rework=event.rework)
        case d.WorkCompleted():
            return wire.WorkCompleted(
                **_fact(event),
                cycle_seconds=event.cycle_seconds,
                standard_seconds=event.standard_seconds,
                rework=event.rework,
            )
        case d.DefectFound():
            return wire.DefectFound(
                **_fact(event),
                defect_id=event.defect_id,
                code=event.code,
                severity=event.severity,  # type: ignore[arg-type]  # validated by the domain
                caused_at_station=event.caused_at_station,
                note=event.note,
                from_check=event.from_check,
            )
        case d.DefectRepaired():
            return wire.DefectRepaired(**_fact(event), defect_id=event.defect_id, code=event.code, note=event.note)
        case d.ComponentFitted():
            return wire.ComponentFitted(
                **_fact(event),
                part_number=event.part_number,
                serial=event.serial,
                source=event.source,  # type: ignore[arg-type]  # validated by the domain
                unit_value=event.unit_value,
            )
        case d.CheckRecorded():
            return wire.CheckRecorded(
                **_fact(event),
                characteristic=event.characteristic,
                value=event.value,
                nominal=event.nominal,
                tolerance=event.tolerance,
                unit=event.unit,
                passed=event.passed,
                defect_id=event.defect_id,
            )
        case d.SentBackForRework():
            return wire.SentBackForRework(
                vin=event.vin,
                line_id=event.line_id,
                from_station=event.from_station,
                to_station=event.to_station,
                reason=event.reason,
                by=event.by,
            )
        case d.VehicleHeld():
            return wire.VehicleHeld(
                vin=event.vin,
                line_id=event.line_id,
                station=event.station,
                kit_serial=event.kit_serial,
                missing_parts=[
                    wire.MissingPartHold(part_number=p.part_number, quantity=p.quantity, station=p.station)
                    for p in event.missing_parts
                ],
            )
        case d.VehicleHoldReleased():
            return wire.VehicleHoldReleased(
                vin=event.vin,
                line_id=event.line_id,
                station=event.station,
                kit_serial=event.kit_serial,
                reason=event.reason,  # type: ignore[arg-type]  # set by the domain
                held_seconds=event.held_seconds,
            )
        case d.VehicleCompleted():
            return wire.VehicleCompleted(
                vin=event.vin,
                model=event.model,
                line_id=event.line_id,
                station=event.station,
                kit_serial=event.kit_serial,
                started_at=event.started_at,
                lead_time_seconds=event.lead_time_seconds,
                defect_count=event.defect_count,
                first_pass=event.first_pass,
            )
    raise TypeError(f"assembly-line does not publish {type(event).__name__}")


def andon_to_wire(event: d.AndonRaised | d.AndonCleared) -> EventData:
    """Andon contracts (published with subject = station, time = event.at)."""
    if isinstance(event, d.AndonRaised):
        return st.AndonRaised(
            andon_id=event.andon_id,
            line_id=event.line_id,
            station=event.station,
            reason=event.reason,
            raised_by=event.raised_by,
            stops_line=event.stops_line,
            vin=event.vin,
        )
    return st.AndonCleared(
        andon_id=event.andon_id,
        line_id=event.line_id,
        station=event.station,
        cleared_by=event.cleared_by,
        duration_seconds=event.duration_seconds,
        stops_line=event.stops_line,
    )


def line_configured(line: d.Line) -> st.LineConfigured:
    return st.LineConfigured(
        line_id=line.line_id,
        name=line.name,
        stations=[
            st.StationDefinition(station_id=s.station_id, name=s.name, position=s.position) for s in line.stations
        ],
    )


def route_published(route: d.Route) -> st.RoutePublished:
    return st.RoutePublished(
        line_id=route.line_id,
        model=route.model,
        version=route.version,
        steps=[st.RouteStep(station_id=s.station_id, standard_seconds=s.standard_seconds) for s in route.steps],
    )


_WIRE_TYPES: dict[type, type[EventData]] = {
    d.BuildOrderCreated: wire.BuildOrderCreated,
    d.BuildOrderCancelled: wire.BuildOrderCancelled,
    d.BuildStarted: wire.BuildStarted,
    d.VehicleArrived: wire.VehicleArrived,
    d.WorkStarted: wire.WorkStarted,
    d.WorkCompleted: wire.WorkCompleted,
    d.DefectFound: wire.DefectFound,
    d.DefectRepaired: wire.DefectRepaired,
    d.ComponentFitted: wire.ComponentFitted,
    d.CheckRecorded: wire.CheckRecorded,
    d.SentBackForRework: wire.SentBackForRework,
    d.VehicleHeld: wire.VehicleHeld,
    d.VehicleHoldReleased: wire.VehicleHoldReleased,
    d.VehicleCompleted: wire.VehicleCompleted,
    d.AndonRaised: st.AndonRaised,
    d.AndonCleared: st.AndonCleared,
}


def event_type(event: d.VehicleEvent | d.AndonRaised | d.AndonCleared) -> str:
    """The versioned type a domain event is published as (mes.vehicle.arrived.v1)."""
    return _WIRE_TYPES[type(event)].event_type


def event_name(event: d.VehicleEvent | d.AndonRaised | d.AndonCleared) -> str:
    """history action name: VehicleHoldReleased -> vehicle-hold-released."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in type(event).__name__).lstrip("-")
