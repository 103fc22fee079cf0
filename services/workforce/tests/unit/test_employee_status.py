"""Employee status transitions, dated history, recall and re-registration (HR re-imports)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from workforce.domain import (
    TRANSITIONS,
    Conflict,
    Employee,
    EmployeeRegistered,
    EmployeeStatus,
    EmployeeUpdated,
    InvalidInput,
    Origin,
    Recalled,
    Reconciled,
    Reconciliation,
    StatusChanged,
    reconcile,
)

TODAY = date(2026, 3, 2)
SINCE = date(2025, 6, 1)
S = EmployeeStatus


def employee(status: EmployeeStatus = S.ACTIVE, origin: Origin = Origin.TRANSFERRED) -> Employee:
    e, _ = Employee.register(
        employee_id="E-1",
        badge_id="B-1",
        name="Ana Lima",
        origin=origin,
        status=status,
        status_since=SINCE,
        today=TODAY,
    )
    return e


def test_registration_says_who_and_where_from() -> None:
    e, events = Employee.register(
        employee_id="E-1",
        badge_id="B-1",
        name="  Ana Lima ",
        origin=Origin.TRANSFERRED,
        status=S.IDLE,
        status_since=SINCE,
        today=TODAY,
    )
    assert (e.name, e.status, e.status_since) == ("Ana Lima", S.IDLE, SINCE)
    assert events == [
        EmployeeRegistered(
            employee_id="E-1",
            badge_id="B-1",
            name="Ana Lima",
            origin=Origin.TRANSFERRED,
            status=S.IDLE,
            status_since=SINCE,
        )
    ]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("employee_id", "has space", "code.invalid"),
        ("badge_id", "", "code.invalid"),
        ("name", "   ", "text.blank"),
        ("name", "x" * 201, "text.too-long"),
        ("name", "Ana\nLima", "text.control-characters"),
        ("status_since", TODAY + timedelta(days=1), "employee.status-since.future"),
    ],
)
def test_registration_refuses_bad_values(field: str, value: object, rule: str) -> None:
    fields: dict[str, object] = {
        "employee_id": "E-1",
        "badge_id": "B-1",
        "name": "Ana",
        "origin": Origin.NEW_HIRE,
        "status": S.ACTIVE,
        "status_since": SINCE,
        "today": TODAY,
    } | {field: value}
    with pytest.raises(InvalidInput) as refused:
        Employee.register(**fields)  # type: ignore[arg-type]
    assert refused.value.rule == rule


ALLOWED = {
    (S.IDLE, S.LEFT),
    (S.ACTIVE, S.IDLE),
    (S.ACTIVE, S.ON_LEAVE),
    (S.ACTIVE, S.LEFT),
    (S.ON_LEAVE, S.ACTIVE),
    (S.ON_LEAVE, S.IDLE),
    (S.ON_LEAVE, S.LEFT),
}


def test_the_transition_table_is_the_documented_one() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


@pytest.mark.parametrize(("start", "to"), [(a, b) for a in S for b in S if a is not b])
def test_every_status_change_is_allowed_or_refused_with_its_rule(start: EmployeeStatus, to: EmployeeStatus) -> None:
    e = employee(start)
    effective = date(2026, 2, 1)
    if (start, to) in ALLOWED:
        events = e.change_status(to, effective=effective, reason="plan", today=TODAY)
        assert events == [
            StatusChanged(
                employee_id="E-1",
                origin=Origin.TRANSFERRED,
                from_status=start,
                to_status=to,
                effective_date=effective,
                reason="plan",
            )
        ]
        assert (e.status, e.status_since) == (to, effective)
        return
    with pytest.raises(Conflict) as refused:
        e.change_status(to, effective=effective, reason="plan", today=TODAY)
    expected = {
        S.LEFT: "employee.status.left-is-final",
        S.IDLE: "employee.status.recall-required" if to is S.ACTIVE else "employee.status.transition",
    }.get(start, "employee.status.transition")
    assert refused.value.rule == expected
    assert (e.status, e.status_since) == (start, SINCE), "a refused change leaves the employee as it was"


def test_the_same_status_again_changes_nothing() -> None:
    e = employee(S.ACTIVE)
    assert e.change_status(S.ACTIVE, effective=TODAY, reason="again", today=TODAY) == []
    assert e.status_since == SINCE


@pytest.mark.parametrize(
    ("effective", "rule"),
    [
        (SINCE - timedelta(days=1), "employee.status.before-current"),
        (TODAY + timedelta(days=1), "employee.status.future-date"),
    ],
)
def test_a_status_change_is_dated_between_the_current_status_and_today(effective: date, rule: str) -> None:
    e = employee(S.ACTIVE)
    with pytest.raises(InvalidInput) as refused:
        e.change_status(S.ON_LEAVE, effective=effective, reason="x", today=TODAY)
    assert refused.value.rule == rule
    assert e.status is S.ACTIVE


def test_the_change_may_be_dated_the_day_the_current_status_began_or_today() -> None:
    e = employee(S.ACTIVE)
    e.change_status(S.ON_LEAVE, effective=SINCE, reason="x", today=TODAY)
    e.change_status(S.ACTIVE, effective=TODAY, reason="back", today=TODAY)
    assert (e.status, e.status_since) == (S.ACTIVE, TODAY)


def test_a_status_change_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as refused:
        employee(S.ACTIVE).change_status(S.LEFT, effective=TODAY, reason=" ", today=TODAY)
    assert refused.value.rule == "text.blank"


def test_recall_brings_an_idle_transferred_employee_back_as_recalled() -> None:
    e = employee(S.IDLE, Origin.TRANSFERRED)
    events = e.recall(on=TODAY, goal_id="RG-1", today=TODAY, note="line 2 ramp-up")
    assert (e.status, e.status_since, e.origin) == (S.ACTIVE, TODAY, Origin.RECALLED)
    assert events == [
        Recalled(employee_id="E-1", recalled_on=TODAY, goal_id="RG-1"),
        StatusChanged(
            employee_id="E-1",
            origin=Origin.RECALLED,
            from_status=S.IDLE,
            to_status=S.ACTIVE,
            effective_date=TODAY,
            reason="recalled from idle under recall goal RG-1: line 2 ramp-up",
        ),
    ]


def test_a_recalled_new_hire_stays_a_new_hire() -> None:
    e = employee(S.IDLE, Origin.NEW_HIRE)
    e.recall(on=TODAY, goal_id=None, today=TODAY)
    assert (e.origin, e.status) == (Origin.NEW_HIRE, S.ACTIVE)


@pytest.mark.parametrize("status", [S.ACTIVE, S.ON_LEAVE, S.LEFT])
def test_only_an_idle_employee_can_be_recalled(status: EmployeeStatus) -> None:
    e = employee(status)
    with pytest.raises(Conflict) as refused:
        e.recall(on=TODAY, goal_id=None, today=TODAY)
    assert refused.value.rule == "employee.recall.not-idle"
    assert (e.status, e.origin) == (status, Origin.TRANSFERRED)


def test_a_recall_is_not_dated_before_the_idle_status_or_in_the_future() -> None:
    e = employee(S.IDLE)
    with pytest.raises(InvalidInput):
        e.recall(on=SINCE - timedelta(days=1), goal_id=None, today=TODAY)
    with pytest.raises(InvalidInput):
        e.recall(on=TODAY + timedelta(days=1), goal_id=None, today=TODAY)
    assert (e.status, e.origin) == (S.IDLE, Origin.TRANSFERRED)


def test_identity_updates_and_a_left_employee_is_frozen() -> None:
    e = employee(S.ACTIVE)
    assert e.update_identity(name="Ana Lima") == []
    assert e.update_identity(badge_id="B-9") == [EmployeeUpdated(employee_id="E-1", badge_id="B-9", name="Ana Lima")]
    e.change_status(S.LEFT, effective=TODAY, reason="resigned", today=TODAY)
    with pytest.raises(Conflict) as refused:
        e.update_identity(name="Ana L.")
    assert refused.value.rule == "employee.left"


# ---- reconciling a record that arrives again ---------------------------------------------------


def again(e: Employee, **changes: object) -> Reconciliation:
    fields: dict[str, object] = {
        "badge_id": e.badge_id,
        "name": e.name,
        "origin": e.origin,
        "status": e.status,
        "status_since": e.status_since,
        "today": TODAY,
        "reason": "HR import",
    } | changes
    return reconcile(e, **fields)  # type: ignore[arg-type]


def test_the_same_record_again_changes_nothing() -> None:
    e = employee(S.IDLE)
    done = again(e)
    assert (done.outcome, done.events, done.note) == (Reconciled.UNCHANGED, (), "")


def test_an_older_status_in_the_file_is_kept_as_recorded() -> None:
    e = employee(S.IDLE)
    e.recall(on=TODAY, goal_id=None, today=TODAY)
    done = again(e, origin=Origin.RECALLED, status=S.IDLE, status_since=SINCE)
    assert done.outcome is Reconciled.UNCHANGED
    assert "kept the recorded status active" in done.note


def test_a_newer_status_and_a_new_name_are_applied_on_a_copy() -> None:
    e = employee(S.ACTIVE)
    done = again(e, name="Ana M. Lima", status=S.ON_LEAVE, status_since=TODAY)
    assert done.outcome is Reconciled.UPDATED
    assert [type(x) for x in done.events] == [EmployeeUpdated, StatusChanged]
    assert (done.employee.status, done.employee.name) == (S.ON_LEAVE, "Ana M. Lima")
    assert (e.status, e.name) == (S.ACTIVE, "Ana Lima"), "the loaded employee is untouched"


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"origin": Origin.NEW_HIRE}, "employee.origin.immutable"),
        ({"status": S.ACTIVE, "status_since": TODAY}, "employee.status.recall-required"),
    ],
)
def test_a_record_that_cannot_apply_is_refused_whole(changes: dict[str, object], rule: str) -> None:
    e = employee(S.IDLE)
    with pytest.raises(Conflict) as refused:
        again(e, name="Someone Else", **changes)
    assert refused.value.rule == rule
    assert (e.name, e.status) == ("Ana Lima", S.IDLE)
