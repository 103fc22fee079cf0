"""Sign-off: clocked in at the station and qualified there at the event's own time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from assembly_line.domain import ClockIn, Conflict, OperatorFacts, Qualification, authorize_sign_off

from .conftest import at

CLOCKED = ClockIn("E-1", "B-1", "ST-10", at(-60), None)


def qualification(start: float, end: float, **kw: object) -> Qualification:
    return Qualification(level=str(kw.pop("level", "qualified")), valid_from=at(start), valid_until=at(end), **kw)  # type: ignore[arg-type]


def decide(facts: OperatorFacts, minutes: float = 0) -> str:
    return authorize_sign_off(badge="B-1", station="ST-10", at=at(minutes), facts=facts)


def refusal(facts: OperatorFacts, minutes: float = 0) -> Conflict:
    with pytest.raises(Conflict) as caught:
        decide(facts, minutes)
    return caught.value


def test_a_clocked_in_qualified_active_operator_signs_off() -> None:
    facts = OperatorFacts(CLOCKED, (qualification(-600, 600),), status="active", status_since=date(2026, 1, 5))
    assert decide(facts) == "E-1"


def test_not_clocked_in_is_a_conflict_the_terminal_may_retry() -> None:
    error = refusal(OperatorFacts(clock_in=None))
    assert error.rule == "operator.not-clocked-in"
    assert error.extensions["retryable"] is True and "B-1" in error.message and "ST-10" in error.message


def test_only_an_active_employee_signs_off() -> None:
    error = refusal(
        OperatorFacts(CLOCKED, (qualification(-600, 600),), status="on_leave", status_since=date(2026, 3, 1))
    )
    assert error.rule == "operator.not-active" and "on_leave since 2026-03-01" in error.message


@pytest.mark.parametrize("level", ["trainee", "qualified", "trainer"])
def test_every_level_counts_as_qualified(level: str) -> None:
    assert decide(OperatorFacts(CLOCKED, (qualification(-600, 600, level=level),))) == "E-1"


def test_valid_from_is_inclusive_and_valid_until_exclusive() -> None:
    facts = OperatorFacts(CLOCKED, (qualification(0, 10),))
    assert decide(facts, 0) == "E-1"
    assert decide(facts, 9.99) == "E-1"
    error = refusal(facts, 10)
    assert error.rule == "operator.not-qualified" and "expired" in error.message
    assert "valid only from" in refusal(facts, -1).message


def test_a_revocation_ends_the_qualification_from_its_instant() -> None:
    facts = OperatorFacts(CLOCKED, (qualification(-600, 600, ended_at=at(5), end_reason="revoked"),))
    assert decide(facts, 4) == "E-1"  # a backlog event from before the revocation is still good
    error = refusal(facts, 5)
    assert "revoked" in error.message


def test_never_qualified_here() -> None:
    error = refusal(OperatorFacts(CLOCKED, ()))
    assert error.rule == "operator.not-qualified" and "no qualification" in error.message


def test_a_renewal_after_a_gap_is_named() -> None:
    facts = OperatorFacts(CLOCKED, (qualification(-600, -10), qualification(30, 600)))
    message = refusal(facts, 0).message
    assert "expired" in message and (at(30)).isoformat() in message
    assert decide(facts, 30 + timedelta(0).total_seconds()) == "E-1"
