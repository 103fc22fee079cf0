"""Each action as the HTTP request the plant's user sends: which service, path, role and body.

Every write carries the run's own id for the action (`Idempotency-Key`, and `terminal_event_id` from the
line terminals), so a resend after a timeout changes nothing. Facts carry their simulated time
(`occurred_at`, `received_at`, the scan's `at`, ...). Ids the services choose (a discrepancy's, a defect's)
are taken from the answers to earlier actions (`Refs`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote

from mes_shared.auth import Role
from plant_sim.actions import Action, Kind
from plant_sim.ids import RunIds

KIT_RECEIVING, WORKFORCE, ASSEMBLY_LINE, REPORTING = "kit-receiving", "workforce", "assembly-line", "reporting"
SERVICES = (KIT_RECEIVING, WORKFORCE, ASSEMBLY_LINE, REPORTING)

# The users and the roles their tokens carry (terminals get theirs per station).
LOGISTICS = ("logistics-erp", Role.LOGISTICS)
SUPERVISOR = ("line-supervisor", Role.SUPERVISOR)
HR = ("hr-office", Role.SUPERVISOR)
PLANNER = ("production-planner", Role.PLANNER)

# Fields of each station event type (the API forbids any other).
STATION_EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "arrived": ("vin", "operator_badge"),
    "work_started": ("vin", "operator_badge"),
    "work_completed": ("vin", "operator_badge"),
    "defect_found": ("vin", "code", "severity", "caused_at_station", "note", "operator_badge"),
    "defect_repaired": ("vin", "defect_id", "note", "operator_badge"),
    "andon_raised": ("reason", "stops_line", "vin", "operator_badge"),
    "andon_cleared": ("andon_id", "operator_badge"),
    "component_fitted": ("vin", "part_number", "serial", "source", "unit_value", "operator_badge"),
    "check_recorded": ("vin", "characteristic", "value", "nominal", "tolerance", "unit", "operator_badge"),
}


@dataclass(frozen=True, slots=True)
class Call:
    service: str
    method: str
    path: str
    subject: str
    role: Role
    stations: tuple[str, ...] = ()
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    idempotency_key: str | None = None


class MissingRef(Exception):
    """An id from an earlier answer is not known (that action was not accepted)."""


class Refs:
    """Ids the services gave to what the simulator created, learnt from their answers."""

    def __init__(self) -> None:
        self._discrepancies: dict[tuple[str, str, str], str] = {}
        self._defects: dict[int, str] = {}

    def learn(self, action: Action, body: Any) -> None:
        if not isinstance(body, dict):
            return
        if action.kind is Kind.RECEIVE_KIT:
            for d in body.get("discrepancies", []):
                self._discrepancies[(action.data["serial"], d["part_number"], d["claim_code"])] = d["id"]
        elif action.kind is Kind.STATION_EVENT and body.get("defect_id") and action.data["type"] != "defect_repaired":
            self._defects[action.seq] = body["defect_id"]

    def discrepancy(self, serial: str, part: str, claim_code: str) -> str:
        found = self._discrepancies.get((serial, part, claim_code))
        if found is None:
            raise MissingRef(f"no discrepancy {claim_code} on part {part} was recorded for kit {serial}")
        return found

    def defect(self, seq: int) -> str:
        found = self._defects.pop(seq, None)
        if found is None:
            raise MissingRef(f"action {seq} opened no defect that is known")
        return found

    def forget_kit(self, serial: str) -> None:
        for key in [k for k in self._discrepancies if k[0] == serial]:
            del self._discrepancies[key]


def wire(value: Any) -> Any:
    """JSON-ready: dates and times in ISO 8601 (wall-clock times as HH:MM)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    return value


def _p(value: str) -> str:
    return quote(value, safe="")


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["employee_id", "badge_id", "name", "origin", "status", "status_since"])
    writer.writeheader()
    for row in rows:
        writer.writerow(wire(row))
    return out.getvalue().encode()


def call_for(action: Action, ids: RunIds, refs: Refs, *, backdated_kits: bool = True) -> Call:
    """The request for `action`. `backdated_kits`: kit-receiving takes the time of an ASN, a decision on a
    discrepancy and a release (`announced_at`, `resolved_at`, `released_at`), as it does a receipt's."""
    d, key = action.data, ids.request_id(action.seq)

    def write(service: str, method: str, path: str, user: tuple[str, Role], body: Any) -> Call:
        return Call(service, method, path, user[0], user[1], json=wire(body), idempotency_key=key)

    match action.kind:
        case Kind.CONFIGURE_LINE:
            return write(
                ASSEMBLY_LINE,
                "PUT",
                f"/lines/{_p(d['line_id'])}",
                SUPERVISOR,
                {"name": d["name"], "stations": d["stations"]},
            )
        case Kind.DEFINE_MODEL:
            return write(
                ASSEMBLY_LINE,
                "PUT",
                f"/models/{_p(d['model'])}",
                SUPERVISOR,
                {"name": d["name"], "variants": d["variants"]},
            )
        case Kind.PUBLISH_ROUTE:
            return write(
                ASSEMBLY_LINE,
                "POST",
                f"/lines/{_p(d['line_id'])}/routes",
                SUPERVISOR,
                # In force from the simulated time, so the replayed history is governed by it from its start.
                {"model": d["model"], "steps": d["steps"], "effective_from": action.at},
            )
        case Kind.DEFINE_KIT_TYPE:
            return write(
                KIT_RECEIVING, "POST", "/kit-types", LOGISTICS, d | _time("effective_from", action, backdated_kits)
            )
        case Kind.PUBLISH_CALENDAR:
            body = {k: v for k, v in d.items() if k != "line_id"}
            return write(WORKFORCE, "PUT", f"/lines/{_p(d['line_id'])}/calendar", SUPERVISOR, body)
        case Kind.IMPORT_EMPLOYEES:
            return Call(
                WORKFORCE,
                "POST",
                "/employees/import",
                HR[0],
                HR[1],
                content=_csv(d["rows"]),
                content_type="text/csv; charset=utf-8",
                idempotency_key=key,
            )
        case Kind.GRANT_QUALIFICATION:
            body = {k: d[k] for k in ("station", "level", "valid_from", "valid_until")}
            body["granted_at"] = d.get("granted_at", action.at)
            return write(WORKFORCE, "POST", f"/employees/{_p(d['employee_id'])}/qualifications", HR, body)
        case Kind.RENEW_QUALIFICATION:
            path = f"/employees/{_p(d['employee_id'])}/qualifications/{_p(d['station'])}/renewal"
            body = {"level": d["level"], "valid_until": d["valid_until"], "renewed_at": action.at}
            return write(WORKFORCE, "POST", path, HR, body)
        case Kind.SET_RECALL_GOAL:
            body = {**d, "note": "recall of the idle people of the previous operator"}
            return write(WORKFORCE, "POST", "/recall/goals", HR, body)
        case Kind.SET_ANNUAL_TARGET:
            path = f"/targets/{_p(d['line_id'])}/{d['year']}"
            return write(REPORTING, "PUT", path, PLANNER, {"annual": d["annual"]})
        case Kind.SET_WIP_RAMP:
            return write(REPORTING, "PUT", f"/targets/{_p(d['line_id'])}/wip-ramp", PLANNER, {"points": d["points"]})
        case Kind.REGISTER_EMPLOYEE:
            return write(WORKFORCE, "POST", "/employees", HR, d)
        case Kind.RECALL_EMPLOYEE:
            path = f"/employees/{_p(d['employee_id'])}/recall"
            return write(WORKFORCE, "POST", path, HR, {"recalled_on": d["recalled_on"], "note": "recall programme"})
        case Kind.CHANGE_STATUS:
            body = {k: d[k] for k in ("to_status", "effective_date", "reason")}
            return write(WORKFORCE, "POST", f"/employees/{_p(d['employee_id'])}/status", HR, body)
        case Kind.PUBLISH_ROSTER:
            path = f"/lines/{_p(d['line_id'])}/rosters/{wire(d['date'])}/{_p(d['shift'])}"
            return write(
                WORKFORCE, "PUT", path, SUPERVISOR, {"required": d["required"], "assignments": d["assignments"]}
            )
        case Kind.CLOCK_IN | Kind.CLOCK_OUT:
            # `at`: when the badge was scanned; a scan uploaded late says so (else the action's own time)
            at = d.get("at", action.at)
            body = {"terminal_event_id": key, "badge_id": d["badge_id"], "station": d["station"], "at": at}
            if action.kind is Kind.CLOCK_IN:
                body["shift"] = d["shift"]
            path = "/clock-ins" if action.kind is Kind.CLOCK_IN else "/clock-outs"
            return Call(
                WORKFORCE,
                "POST",
                path,
                f"terminal-{d['station']}",
                Role.TERMINAL,
                (d["station"],),
                json=wire(body),
                idempotency_key=key,
            )
        case Kind.ANNOUNCE_SHIPMENT:
            return write(
                KIT_RECEIVING, "POST", "/shipments", LOGISTICS, d | _time("announced_at", action, backdated_kits)
            )
        case Kind.RECEIVE_KIT:
            body = {"dock": d["dock"], "received_at": action.at, "lines": d["lines"]}
            return write(KIT_RECEIVING, "POST", f"/kits/{_p(d['serial'])}/receipt", LOGISTICS, body)
        case Kind.RESOLVE_DISCREPANCY:
            discrepancy = refs.discrepancy(d["serial"], d["part_number"], d["claim_code"])
            body = {"resolution": d["resolution"], "note": d["note"]} | _time("resolved_at", action, backdated_kits)
            path = f"/kits/{_p(d['serial'])}/discrepancies/{_p(discrepancy)}/resolution"
            return write(KIT_RECEIVING, "POST", path, LOGISTICS, body)
        case Kind.RELEASE_KIT:
            body = _time("released_at", action, backdated_kits) or None
            return write(KIT_RECEIVING, "POST", f"/kits/{_p(d['serial'])}/release", LOGISTICS, body)
        case Kind.CREATE_BUILD_ORDER:
            return write(ASSEMBLY_LINE, "POST", "/build-orders", SUPERVISOR, d)
        case Kind.SEND_BACK:
            body = {"to_station": d["to_station"], "reason": d["reason"], "sent_back_at": action.at}
            return write(ASSEMBLY_LINE, "POST", f"/vehicles/{_p(d['vin'])}/send-back", SUPERVISOR, body)
        case Kind.STATION_EVENT:
            return _station_event(action, key, refs)
    raise AssertionError(f"no request for {action.kind}")


def _time(name: str, action: Action, backdated_kits: bool) -> dict[str, Any]:
    """The simulated time of a kit fact, when kit-receiving takes one (else it records its own clock)."""
    return {name: action.at} if backdated_kits else {}


def _station_event(action: Action, key: str, refs: Refs) -> Call:
    d = action.data
    kind = d["type"]
    body: dict[str, Any] = {"type": kind, "terminal_event_id": key, "occurred_at": action.at}
    for name in STATION_EVENT_FIELDS[kind]:
        if d.get(name) is not None:
            body[name] = d[name]
    if kind == "defect_repaired":
        body["defect_id"] = refs.defect(d["defect_ref"])
    station = d["station"]
    return Call(
        ASSEMBLY_LINE,
        "POST",
        f"/stations/{_p(station)}/events",
        f"terminal-{station}",
        Role.TERMINAL,
        (station,),
        json=wire(body),
    )
