"""Supervisor commands: lines, models, routes, build orders, send-back. One unit of work each.

The shared `commands.execute` wraps each handler in one transaction with its Idempotency-Key and outbox
rows, so a handler only loads, decides (pure domain) and saves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from assembly_line.adapters.readmodels import Kits
from assembly_line.adapters.repository import History, Lines, Models, Routes, Vehicles
from assembly_line.api import schemas
from assembly_line.domain import (
    Conflict,
    InvalidInput,
    NotFound,
    Route,
    RouteStep,
    StationFact,
    Vehicle,
    VehicleEvent,
    VehicleStatus,
    configure_line,
    define_model,
    publish_route,
    require_bindable,
    require_plausible_time,
    stations_of,
)
from assembly_line.service import queries, wire
from mes_shared.commands import Outcome, UnitOfWork
from mes_shared.envelope import EventData
from mes_shared.versions import in_force


def _now() -> datetime:
    return datetime.now(UTC)


async def publish(uow: UnitOfWork, vehicle: Vehicle, events: list[VehicleEvent], *, actor: str) -> None:
    """Emit the truck's events, and note in its history what happened outside the terminals' own log."""
    history = []
    for event in events:
        data = wire.to_wire(event)
        uow.emit(data, subject=vehicle.vin, time=event.at)
        if not isinstance(event, StationFact):
            history.append(history_entry(event, data, actor))
    await History(uow.session).record(history)


def history_entry(event: VehicleEvent, data: EventData, actor: str) -> dict[str, Any]:
    detail = {k: v for k, v in data.model_dump(mode="json").items() if k != "vin"}
    return {"vin": event.vin, "at": event.at, "action": wire.event_name(event), "actor": actor, "detail": detail}


# ---- lines, models, routes ----------------------------------------------------------------------


async def put_line(uow: UnitOfWork, line_id: str, body: schemas.LineIn) -> Outcome:
    repo = Lines(uow.session)
    current = await repo.get(line_id, for_update=True)
    requested = [(s.station_id, s.name) for s in body.stations]
    line = configure_line(
        line_id=line_id,
        name=body.name,
        stations=requested,
        current=current,
        stations_on_other_lines=await repo.station_lines(s for s, _ in requested),
        latest_routes=await Routes(uow.session).latest_of_line(line_id) if current else (),
        stations_in_use=stations_of(await Vehicles(uow.session).unfinished_of_line(line_id)) if current else (),
    )
    if line is not None:
        at = _now()
        await repo.save(line, at=at, by=uow.principal.subject)
        uow.emit(wire.line_configured(line), subject=line_id, time=at)
    view = await queries.line_view(uow.session, line_id)
    assert view is not None
    return Outcome(201 if current is None else 200, view)


async def put_model(uow: UnitOfWork, model_code: str, body: schemas.ModelIn) -> Outcome:
    repo = Models(uow.session)
    current = await repo.get(model_code, for_update=True)
    model = define_model(model_code, body.name, [(v.code, v.name) for v in body.variants])
    if model != current:
        await repo.save(model, at=_now(), by=uow.principal.subject)
    view = await queries.model_view(uow.session, model_code)
    assert view is not None
    return Outcome(201 if current is None else 200, view)


async def post_route(uow: UnitOfWork, line_id: str, body: schemas.RouteIn, *, max_age: timedelta) -> Outcome:
    effective_from = _stated_or_now(body.effective_from, "effective_from", max_age)
    line = await Lines(uow.session).get(line_id, for_update=True)  # one route version at a time per line
    if line is None:
        raise NotFound("line.not-found", f"line {line_id} is not configured")
    routes = Routes(uow.session)
    latest = await routes.latest(line_id, body.model)
    route = publish_route(
        line=line,
        model=await Models(uow.session).get(body.model),
        model_code=body.model,
        steps=[RouteStep(s.station_id, s.standard_seconds) for s in body.steps],
        latest=latest,
        effective_from=effective_from,
        last_start=await Vehicles(uow.session).last_start(line_id, body.model),
    )
    if route is not None:
        await routes.add(route, at=_now(), by=uow.principal.subject)
        # The envelope's time is the fact's: the version took effect then, whenever it was entered.
        uow.emit(wire.route_published(route), subject=line_id, time=route.effective_from)
    view = await queries.route_view(uow.session, line_id, body.model)
    assert view is not None
    return Outcome(201 if route is not None else 200, view)


async def _route_in_force(uow: UnitOfWork, line_id: str, model: str, at: datetime) -> Route:
    route = in_force(await Routes(uow.session).versions(line_id, model), at)
    if route is None:
        raise Conflict(
            "build-order.no-route",
            f"model {model} has no route on line {line_id}; publish one with POST /lines/{line_id}/routes",
        )
    return route


# ---- build orders -------------------------------------------------------------------------------


async def create_build_order(uow: UnitOfWork, body: schemas.BuildOrderIn, *, max_age: timedelta) -> Outcome:
    # Locks in the order the kits consumer takes them (the kit, then its trucks), so the two never deadlock.
    kit_facts = await Kits(uow.session).facts(body.kit_serial, for_update=True)
    vehicles = Vehicles(uow.session)
    existing = await vehicles.get(body.vin, for_update=True)
    if existing is not None and existing.status is not VehicleStatus.CANCELLED:
        same = (existing.model, existing.variant, existing.line_id, existing.kit_serial) == (
            body.model,
            body.variant,
            body.line_id,
            body.kit_serial,
        )
        if same:
            return await _build_order_outcome(uow, body.vin, 200)  # the same order again
        raise Conflict(
            "build-order.vin-exists",
            f"VIN {body.vin} already has a build order ({existing.model} on {existing.line_id} with kit "
            f"{existing.kit_serial}, {existing.status})",
            vin=body.vin,
        )
    if await Lines(uow.session).get(body.line_id) is None:
        raise InvalidInput("build-order.line-unknown", f"line {body.line_id} is not configured")
    model = await Models(uow.session).get(body.model)
    if model is None:
        raise InvalidInput("build-order.model-unknown", f"model {body.model} is not defined")
    if body.variant is not None and not model.has_variant(body.variant):
        raise InvalidInput(
            "build-order.variant-unknown",
            f"model {body.model} has no variant {body.variant} (it has: "
            f"{', '.join(v.code for v in model.variants) or 'none'})",
        )
    at = _stated_or_now(body.planned_at, "planned_at", max_age)
    route = await _route_in_force(uow, body.line_id, body.model, at)
    kit = require_bindable(kit_facts, serial=body.kit_serial, vin=body.vin, model=body.model, variant=body.variant)
    vehicle, events = Vehicle.plan(
        vin=body.vin,
        model=body.model,
        variant=body.variant,
        kit_serial=body.kit_serial,
        route=route,
        shortage=kit.shortage,
        at=at,
    )
    if existing is None:
        await vehicles.add(vehicle, by=uow.principal.subject, at=at)
    else:
        await vehicles.replace(vehicle, by=uow.principal.subject, at=at)  # a cancelled order planned anew
    await publish(uow, vehicle, events, actor=uow.principal.subject)
    return await _build_order_outcome(uow, body.vin, 201)


async def _load(uow: UnitOfWork, vin: str) -> Vehicle:
    vehicle = await Vehicles(uow.session).get(vin, for_update=True)
    if vehicle is None:
        raise NotFound("build-order.not-found", f"VIN {vin} has no build order")
    return vehicle


async def _build_order_outcome(uow: UnitOfWork, vin: str, status: int) -> Outcome:
    view = await queries.build_order_view(uow.session, vin)
    assert view is not None
    return Outcome(status, view)


def _stated_or_now(stated: datetime | None, what: str, max_age: timedelta) -> datetime:
    """The time a fact happened: the one stated (not ahead of the server, at most `max_age` old) or now."""
    now = _now()
    return require_plausible_time(stated, now, what, max_age=max_age) if stated is not None else now


async def start_build(uow: UnitOfWork, vin: str, body: schemas.BuildOrderStart, *, max_age: timedelta) -> Outcome:
    now = _now()
    at = _stated_or_now(body.started_at, "started_at", max_age)
    vehicle = await _load(uow, vin)
    events = vehicle.start(await _route_in_force(uow, vehicle.line_id, vehicle.model, at), at)
    await Vehicles(uow.session).save(vehicle, at=now)
    await publish(uow, vehicle, events, actor=uow.principal.subject)
    return await _build_order_outcome(uow, vin, 200)


async def cancel_build_order(
    uow: UnitOfWork, vin: str, body: schemas.BuildOrderCancel, *, max_age: timedelta
) -> Outcome:
    vehicle = await _load(uow, vin)
    now = _now()
    at = _stated_or_now(body.cancelled_at, "cancelled_at", max_age)
    events = vehicle.cancel(at, uow.principal.subject, body.reason)
    await Vehicles(uow.session).save(vehicle, at=now)
    await publish(uow, vehicle, events, actor=uow.principal.subject)
    return await _build_order_outcome(uow, vin, 200)


async def send_back(uow: UnitOfWork, vin: str, body: schemas.SendBackIn, *, max_age: timedelta) -> Outcome:
    vehicle = await _load(uow, vin)
    now = _now()
    events = vehicle.send_back(
        to_station=body.to_station,
        reason=body.reason,
        by=uow.principal.subject,
        at=_stated_or_now(body.sent_back_at, "sent_back_at", max_age),
        stated=body.sent_back_at is not None,
    )
    await Vehicles(uow.session).save(vehicle, at=now)
    await publish(uow, vehicle, events, actor=uow.principal.subject)
    view = await queries.vehicle_view(uow.session, vin, now=now)
    assert view is not None
    return Outcome(200, view)
