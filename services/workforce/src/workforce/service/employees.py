"""Command handlers for people: registration (one, or HR's CSV), identity, status, recall and its goals.

Each runs inside one unit of work (shared `commands.execute`): state, history and outbox commit
together, and a refusal rolls everything back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from mes_shared.commands import Outcome, UnitOfWork
from mes_shared.events import people as contracts
from workforce.adapters.repository import Employees, Presences, Recall
from workforce.api import schemas
from workforce.domain import (
    Conflict,
    DomainError,
    Employee,
    EmployeeEvent,
    EmployeeStatus,
    NotFound,
    Origin,
    RecallGoal,
    Reconciled,
    reconcile,
)
from workforce.service import queries
from workforce.service.importing import CheckedRow
from workforce.service.policy import Policy, utc_now
from workforce.service.wire import emit_employee_events, emit_presence_events, status_history


async def load_employee(uow: UnitOfWork, employee_id: str) -> Employee:
    """The employee, locked for this unit of work."""
    employee = await Employees(uow.session).get(employee_id, for_update=True)
    if employee is None:
        raise NotFound("employee.not-found", f"employee {employee_id} is not known")
    return employee


async def _employee_outcome(uow: UnitOfWork, employee_id: str, status: int) -> Outcome:
    view = await queries.employee_view(uow.session, employee_id)
    assert view is not None
    return Outcome(status, view)


async def _refuse_taken_badge(uow: UnitOfWork, badge_id: str, employee_id: str) -> None:
    owner = (await Employees(uow.session).badge_owners([badge_id])).get(badge_id)
    if owner is not None and owner != employee_id:
        raise Conflict("employee.badge.taken", f"badge {badge_id} belongs to employee {owner}")


async def _end_presence_if_inactive(uow: UnitOfWork, employee: Employee, policy: Policy, now: datetime) -> None:
    """Someone who is no longer active is no longer at work: their open presence ends now."""
    if employee.is_active:
        return
    presences = Presences(uow.session)
    open_presence = await presences.open_for(employee.employee_id)
    if open_presence is None:
        return
    event = open_presence.end_for_status_change(now, policy.grace)
    await presences.save_closed(open_presence, terminal=None)
    emit_presence_events(uow, [event])


async def _record(uow: UnitOfWork, events: list[EmployeeEvent], *, now: datetime, reason: str) -> None:
    await Employees(uow.session).record_status(status_history(events, at=now, by=uow.principal.subject, reason=reason))
    emit_employee_events(uow, events, at=now)


# ---- registration -------------------------------------------------------------------------------


def _same_registration(current: Employee, body: schemas.EmployeeIn) -> bool:
    return (current.badge_id, current.name, current.origin.value, current.status.value, current.status_since) == (
        body.badge_id,
        body.name.strip(),
        body.origin,
        body.status,
        body.status_since,
    )


async def register_employee(uow: UnitOfWork, body: schemas.EmployeeIn, policy: Policy) -> Outcome:
    repo = Employees(uow.session)
    now = utc_now()
    current = await repo.get(body.employee_id, for_update=True)
    if current is not None:
        if _same_registration(current, body):
            return await _employee_outcome(uow, body.employee_id, 200)
        raise Conflict(
            "employee.exists",
            f"employee {body.employee_id} is already registered with other data; change it with "
            f"PATCH /employees/{body.employee_id} or POST /employees/{body.employee_id}/status",
        )
    await _refuse_taken_badge(uow, body.badge_id, body.employee_id)
    employee, events = Employee.register(
        employee_id=body.employee_id,
        badge_id=body.badge_id,
        name=body.name,
        origin=Origin(body.origin),
        status=EmployeeStatus(body.status),
        status_since=body.status_since,
        today=policy.today(now),
    )
    await repo.add_many([employee], at=now)
    await _record(uow, events, now=now, reason="registered")
    return await _employee_outcome(uow, employee.employee_id, 201)


async def update_employee(uow: UnitOfWork, employee_id: str, body: schemas.EmployeePatch) -> Outcome:
    employee = await load_employee(uow, employee_id)
    if body.badge_id is not None:
        await _refuse_taken_badge(uow, body.badge_id, employee_id)
    events = employee.update_identity(name=body.name, badge_id=body.badge_id)
    if events:
        now = utc_now()
        await Employees(uow.session).save_many([employee], at=now)
        await _record(uow, events, now=now, reason="")
    return await _employee_outcome(uow, employee_id, 200)


async def change_status(uow: UnitOfWork, employee_id: str, body: schemas.StatusChangeIn, policy: Policy) -> Outcome:
    employee = await load_employee(uow, employee_id)
    now = utc_now()
    today = policy.today(now)
    events = employee.change_status(
        EmployeeStatus(body.to_status), effective=body.effective_date or today, reason=body.reason, today=today
    )
    if events:
        await Employees(uow.session).save_many([employee], at=now)
        await _end_presence_if_inactive(uow, employee, policy, now)
        await _record(uow, events, now=now, reason=body.reason)
    return await _employee_outcome(uow, employee_id, 200)


# ---- recall -------------------------------------------------------------------------------------


async def recall_employee(uow: UnitOfWork, employee_id: str, body: schemas.RecallIn, policy: Policy) -> Outcome:
    employee = await load_employee(uow, employee_id)
    now = utc_now()
    today = policy.today(now)
    on = body.recalled_on or today
    goal = await Recall(uow.session).current_goal()
    goal_id = goal.goal_id if goal is not None and goal.covers(on) else None
    events = employee.recall(on=on, goal_id=goal_id, today=today, note=body.note)
    await Employees(uow.session).save_many([employee], at=now)
    await Recall(uow.session).add_recall(
        employee_id=employee_id, on=on, goal_id=goal_id, at=now, by=uow.principal.subject
    )
    await _record(uow, events, now=now, reason="")
    return await _employee_outcome(uow, employee_id, 200)


async def set_recall_goal(uow: UnitOfWork, body: schemas.RecallGoalIn, policy: Policy) -> Outcome:
    repo = Recall(uow.session)
    await repo.lock()
    now = utc_now()
    today = policy.today(now)
    goal_id = body.goal_id or f"RG-{today:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    existing = await repo.goal(goal_id)
    if existing is not None:
        if (existing.target_count, existing.by_date, existing.note) == (
            body.target_count,
            body.by_date,
            body.note.strip(),
        ):
            return Outcome(200, await queries.recall_goal_view(uow.session, goal_id))
        raise Conflict("recall.goal.exists", f"recall goal {goal_id} was already set with other figures")
    goal = RecallGoal.set(
        goal_id=goal_id, target_count=body.target_count, by_date=body.by_date, note=body.note, today=today
    )
    await repo.add_goal(goal, at=now, by=uow.principal.subject)
    uow.emit(
        contracts.RecallGoalSet(
            goal_id=goal.goal_id, target_count=goal.target_count, by_date=goal.by_date, note=goal.note
        ),
        subject="recall",
        time=now,
    )
    return Outcome(201, await queries.recall_goal_view(uow.session, goal_id))


# ---- HR's CSV import ----------------------------------------------------------------------------


def _row(line: int, employee_id: str | None, outcome: str, reason: str | None = None) -> schemas.ImportRow:
    return schemas.ImportRow(line=line, employee_id=employee_id, outcome=outcome, reason=reason)  # type: ignore[arg-type]


async def import_employees(uow: UnitOfWork, checked: list[CheckedRow], policy: Policy) -> Outcome:
    """Take every valid row, report every other one; the same file twice changes nothing."""
    repo = Employees(uow.session)
    now = utc_now()
    today = policy.today(now)
    valid = [c for c in checked if c.row is not None]
    existing = await repo.load_many((c.row.employee_id for c in valid if c.row), for_update=True)
    owners = await repo.badge_owners(c.row.badge_id for c in valid if c.row)
    results: list[schemas.ImportRow] = []
    created: list[Employee] = []
    changed: dict[str, Employee] = {}
    events: list[EmployeeEvent] = []
    for c in checked:
        if c.row is None:
            results.append(_row(c.line, c.employee_id, "rejected", c.problem))
            continue
        row = c.row
        owner = owners.get(row.badge_id)
        if owner is not None and owner != row.employee_id:
            results.append(
                _row(c.line, row.employee_id, "rejected", f"badge_id {row.badge_id} belongs to employee {owner}")
            )
            continue
        try:
            current = existing.get(row.employee_id)
            if current is None:
                employee, new_events = Employee.register(
                    employee_id=row.employee_id,
                    badge_id=row.badge_id,
                    name=row.name,
                    origin=Origin(row.origin),
                    status=EmployeeStatus(row.status),
                    status_since=row.status_since,
                    today=today,
                )
                created.append(employee)
                events += new_events
                results.append(_row(c.line, row.employee_id, "created"))
            else:
                done = reconcile(
                    current,
                    badge_id=row.badge_id,
                    name=row.name,
                    origin=Origin(row.origin),
                    status=EmployeeStatus(row.status),
                    status_since=row.status_since,
                    today=today,
                    reason="HR import",
                )
                if done.outcome is Reconciled.UPDATED:
                    changed[row.employee_id] = done.employee
                    events += done.events
                results.append(_row(c.line, row.employee_id, done.outcome.value, done.note or None))
        except DomainError as exc:
            results.append(_row(c.line, row.employee_id, "rejected", exc.message))
            continue
        owners[row.badge_id] = row.employee_id
    await repo.add_many(created, at=now)
    await repo.save_many(changed.values(), at=now)
    for employee in changed.values():
        await _end_presence_if_inactive(uow, employee, policy, now)
    await repo.record_status(status_history(events, at=now, by=uow.principal.subject, reason="HR import"))
    emit_employee_events(uow, events, at=now)
    return Outcome(200, _import_result(results))


def _import_result(rows: Iterable[schemas.ImportRow]) -> schemas.ImportResult:
    listed = list(rows)
    count = {o: sum(1 for r in listed if r.outcome == o) for o in ("created", "updated", "unchanged", "rejected")}
    return schemas.ImportResult(summary=schemas.ImportSummary(rows=len(listed), **count), rows=listed)
