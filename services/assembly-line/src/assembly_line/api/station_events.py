"""Station events from line terminals: one at a time, or a backlog after the network came back."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from assembly_line.api import schemas
from assembly_line.api.access import StationPath, StationTerminal
from assembly_line.api.errors import concurrent_conflict, problem_body
from assembly_line.domain import DomainError, InvalidInput
from assembly_line.service.station_events import Recorded, record_event, terminal_connection
from mes_shared.auth import Principal
from mes_shared.commands import REPLAYED_HEADER
from mes_shared.correlation import correlation_id_var
from mes_shared.faults import is_infrastructure_fault
from mes_shared.problems import PROBLEM_RESPONSES, Problem, faults_of

router = APIRouter(tags=["station events"])

EVENT = TypeAdapter(schemas.StationEventIn)

DESCRIPTION = """Every operator action at a station, as the terminal saw it: `type` is one of arrived,
work_started, work_completed, defect_found, defect_repaired, andon_raised, andon_cleared,
component_fitted, check_recorded; `occurred_at` is the terminal's clock (with its offset); `terminal_event_id`
is the terminal's own id. A resend with the same id answers the first result (header `Idempotent-Replayed`)
and changes nothing; the same id with other content is a 422. work_started, work_completed,
defect_repaired, component_fitted and check_recorded need `operator_badge`: clocked in at this station and
qualified here at `occurred_at`. A refusal is a 409 problem naming the broken `rule`; nothing is written
and the terminal may send the event again once the reason is gone."""


class _EncodedJSON(JSONResponse):
    """A JSONResponse that takes a body encoded already (the hot path encodes it once, for the stored answer)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.terminal_pool  # type: ignore[no-any-return]


async def _record(
    conn: asyncpg.Connection, request: Request, principal: Principal, station: str, event: schemas.StationEventIn
) -> Recorded:
    state = request.app.state
    return await record_event(
        conn,
        principal=principal,
        station=station,
        event=event,
        source=f"/mes/{state.service}",
        cache=state.line_cache,
        max_age=state.settings.max_event_age,
    )


@router.post(
    "/stations/{station}/events",
    status_code=201,
    response_model=schemas.StationEventResult,
    responses=PROBLEM_RESPONSES,
    summary="Record one station event from a terminal of this station",
    description=DESCRIPTION,
)
async def post_station_event(
    station: StationPath, body: schemas.StationEventIn, request: Request, principal: StationTerminal
) -> JSONResponse:
    async with terminal_connection(_pool(request)) as conn:
        recorded = await _record(conn, request, principal, station, body)
    headers = {REPLAYED_HEADER: "true"} if recorded.replayed else None
    content = recorded.raw if recorded.raw is not None else recorded.body
    return _EncodedJSON(content, status_code=recorded.status_code, headers=headers)


@router.post(
    "/stations/{station}/events:batch",
    response_model=schemas.BatchResult,
    responses=PROBLEM_RESPONSES,
    summary="Record a terminal's backlog in its own order; each event is accepted or refused on its own",
    description="Each item is exactly a body of `POST /stations/{station}/events` and is handled as if posted "
    "alone, in the order given: its own transaction, its own idempotency, its own result (`results[i]`). Sending "
    "the same backlog again changes nothing and gives the same results: accepted items as `replayed`, a refused "
    "item judged again (refused the same way unless its reason is gone, as for a single post). Whatever is wrong "
    "with one item (malformed, refused by a rule, a value the database refuses, a failure of the service with "
    "that item) is that item's `refused` result with its problem; the items after it are still judged. Only a "
    "database outage stops the batch (503): the items before it stay recorded, and sending the backlog again "
    "replays them and goes on.",
)
async def post_station_events_batch(
    station: StationPath, body: schemas.StationEventBatchIn, request: Request, principal: StationTerminal
) -> schemas.BatchResult:
    limit = request.app.state.settings.max_batch_events
    if len(body.events) > limit:
        raise InvalidInput(
            "station-event.batch-too-large", f"a batch holds at most {limit} events, got {len(body.events)}; split it"
        )
    results = []
    async with terminal_connection(_pool(request)) as conn:
        for index, item in enumerate(body.events):
            results.append(await _one_of_batch(conn, index, item, station, principal, request))
    return schemas.BatchResult(
        station=station,
        accepted=sum(r.outcome == "accepted" for r in results),
        replayed=sum(r.outcome == "replayed" for r in results),
        refused=sum(r.outcome == "refused" for r in results),
        results=results,
    )


async def _one_of_batch(
    conn: asyncpg.Connection, index: int, item: Any, station: str, principal: Principal, request: Request
) -> schemas.BatchItemResult:
    """One event of a backlog, judged alone: whatever is wrong with it is its own refusal, never the batch's."""
    event_id = item.get("terminal_event_id") if isinstance(item, dict) else None
    event_id = event_id if isinstance(event_id, str) else None
    try:
        event = EVENT.validate_python(item)
        recorded = await _record(conn, request, principal, station, event)
    except Exception as exc:  # every fault of the event is its own result; the infrastructure's is re-raised
        problem = _problem_of_item(exc, request)
        if problem is None:
            # The database failed, not the event: stop here with the service's 503. The events before it are
            # committed (each in its own transaction), so the terminal's resend replays them and goes on.
            raise
        return _refused(index, event_id, problem)
    return schemas.BatchItemResult(
        index=index,
        terminal_event_id=event.terminal_event_id,
        status=recorded.status_code,
        outcome="replayed" if recorded.replayed else "accepted",
        result=schemas.StationEventResult.model_validate(recorded.body),
    )


def _problem_of_item(exc: Exception, request: Request) -> dict[str, Any] | None:
    """The problem a backlog event gets for `exc`, the one it would get posted alone; None for a fault of the
    infrastructure, which says nothing about the event."""
    instance = request.url.path
    if isinstance(exc, ValidationError):
        return _invalid(exc, instance)
    if isinstance(exc, DomainError | Problem):
        return problem_body(exc, instance)
    if is_infrastructure_fault(exc):
        return None
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):  # raced with the same event sent meanwhile
        return concurrent_conflict(instance)
    # A value the database refuses (422) or a failure of ours with this event alone (500, logged): refused, the
    # same way on every resend, so the backlog behind it is still recorded.
    return problem_body(faults_of(request.scope).problem_for(exc, request.method, instance), instance)


def _refused(index: int, event_id: str | None, problem: dict[str, Any]) -> schemas.BatchItemResult:
    return schemas.BatchItemResult(
        index=index, terminal_event_id=event_id, status=problem["status"], outcome="refused", problem=problem
    )


def _invalid(exc: ValidationError, instance: str) -> dict[str, Any]:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    return {
        "type": "/problems/invalid-request",
        "title": "Invalid request",
        "status": 422,
        "detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
        "instance": instance,
        "correlation_id": correlation_id_var.get(),
        "errors": errors,
    }
