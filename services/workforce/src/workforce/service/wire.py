"""Maps workforce's domain events to the versioned contracts of `mes.people`, and to history rows.

Each returns the contract, the Kafka key (subject) and when the fact happened (the envelope's time).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from mes_shared.commands import UnitOfWork
from mes_shared.envelope import EventData
from mes_shared.events import people as wire
from workforce import domain as d


def employee_event(event: d.EmployeeEvent) -> EventData:
    match event:
        case d.EmployeeRegistered():
            return wire.EmployeeRegistered(
                employee_id=event.employee_id,
                badge_id=event.badge_id,
                name=event.name,
                origin=event.origin.value,
                status=event.status.value,
                status_since=event.status_since,
            )
        case d.EmployeeUpdated():
            return wire.EmployeeUpdated(employee_id=event.employee_id, badge_id=event.badge_id, name=event.name)
        case d.StatusChanged():
            return wire.EmployeeStatusChanged(
                employee_id=event.employee_id,
                origin=event.origin.value,
                from_status=event.from_status.value,
                to_status=event.to_status.value,
                effective_date=event.effective_date,
                reason=event.reason,
            )
        case d.Recalled():
            return wire.EmployeeRecalled(
                employee_id=event.employee_id, recalled_on=event.recalled_on, goal_id=event.goal_id
            )
    raise TypeError(f"workforce does not publish {type(event).__name__}")


def emit_employee_events(uow: UnitOfWork, events: Iterable[d.EmployeeEvent], *, at: datetime) -> None:
    for event in events:
        uow.emit(employee_event(event), subject=event.employee_id, time=at)


def status_history(events: Iterable[d.EmployeeEvent], *, at: datetime, by: str, reason: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, d.EmployeeRegistered):
            rows.append(
                {
                    "employee_id": event.employee_id,
                    "from_status": None,
                    "to_status": event.status.value,
                    "origin": event.origin.value,
                    "effective_date": event.status_since,
                    "reason": reason,
                    "recorded_at": at,
                    "recorded_by": by,
                }
            )
        elif isinstance(event, d.StatusChanged):
            rows.append(
                {
                    "employee_id": event.employee_id,
                    "from_status": event.from_status.value,
                    "to_status": event.to_status.value,
                    "origin": event.origin.value,
                    "effective_date": event.effective_date,
                    "reason": event.reason,
                    "recorded_at": at,
                    "recorded_by": by,
                }
            )
    return rows


# ---- qualifications -----------------------------------------------------------------------------


def qualification_event(event: d.QualificationEvent) -> tuple[EventData, datetime]:
    common = {"employee_id": event.employee_id, "station": event.station, "level": event.level.value}
    match event:
        case d.QualificationGranted():
            return (
                wire.QualificationGranted(**common, valid_from=event.valid_from, valid_until=event.valid_until),
                event.at,
            )
        case d.QualificationRenewed():
            return (
                wire.QualificationRenewed(**common, valid_from=event.valid_from, valid_until=event.valid_until),
                event.at,
            )
        case d.QualificationRevoked():
            return wire.QualificationRevoked(**common, revoked_at=event.at, reason=event.reason), event.at
        case d.QualificationExpired():
            return wire.QualificationExpired(**common, expired_at=event.at), event.at
    raise TypeError(f"workforce does not publish {type(event).__name__}")


def emit_qualification_events(uow: UnitOfWork, events: Iterable[d.QualificationEvent]) -> None:
    for event in events:
        data, at = qualification_event(event)
        uow.emit(data, subject=event.employee_id, time=at)


def qualification_history(events: Iterable[d.QualificationEvent], *, by: str) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        row: dict[str, Any] = {
            "employee_id": event.employee_id,
            "station": event.station,
            "level": event.level.value,
            "at": event.at,
            "actor": by,
            "valid_from": None,
            "valid_until": None,
            "reason": None,
        }
        match event:
            case d.QualificationGranted() | d.QualificationRenewed():
                action = "granted" if isinstance(event, d.QualificationGranted) else "renewed"
                row |= {"action": action, "valid_from": event.valid_from, "valid_until": event.valid_until}
            case d.QualificationRevoked():
                row |= {"action": "revoked", "reason": event.reason}
            case d.QualificationExpired():
                row |= {"action": "expired", "valid_until": event.at}
        rows.append(row)
    return rows


# ---- presence -----------------------------------------------------------------------------------


def presence_event(event: d.PresenceEvent) -> EventData:
    common = {
        "employee_id": event.employee_id,
        "badge_id": event.badge_id,
        "station": event.station,
        "line_id": event.line_id,
        "shift_date": event.shift_date,
        "shift": event.shift,
        "shift_start": event.shift_start,
        "shift_end": event.shift_end,
        "at": event.at,
    }
    match event:
        case d.ClockedIn():
            return wire.ClockedIn(**common, terminal_event_id=event.terminal_event_id)
        case d.ClockedOut():
            return wire.ClockedOut(
                **common,
                automatic=event.automatic,
                terminal_event_id=event.terminal_event_id,
                reason=event.reason.value,
            )
    raise TypeError(f"workforce does not publish {type(event).__name__}")


def emit_presence_events(uow: UnitOfWork, events: Iterable[d.PresenceEvent]) -> None:
    for event in events:
        uow.emit(presence_event(event), subject=event.employee_id, time=event.at)
