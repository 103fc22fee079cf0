"""Qualification validity at an instant (expiry exactly at the boundary), grant, renew, revoke, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workforce.domain import (
    Conflict,
    InvalidInput,
    Level,
    Qualification,
    QualificationExpired,
    QualificationGranted,
    QualificationRenewed,
    QualificationRevoked,
    QualificationState,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FROM = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def granted(station: str = "ST-01", level: Level = Level.QUALIFIED, now: datetime = NOW) -> Qualification:
    q, _ = Qualification.grant(
        employee_id="E-1", station=station, level=level, valid_from=FROM, valid_until=UNTIL, now=now
    )
    return q


@pytest.mark.parametrize(
    ("at", "valid"),
    [
        (FROM - TICK, False),
        (FROM, True),  # valid_from is inclusive
        (UNTIL - TICK, True),
        (UNTIL, False),  # at valid_until it has expired
        (UNTIL + TICK, False),
    ],
)
def test_valid_from_inclusive_until_exclusive(at: datetime, valid: bool) -> None:
    assert granted().is_valid_at(at) is valid


def test_the_boundary_holds_in_any_time_zone() -> None:
    q = granted()
    assert not q.is_valid_at(UNTIL.astimezone(datetime.fromisoformat("2026-01-01T00:00+05:30").tzinfo))
    with pytest.raises(InvalidInput):
        q.is_valid_at(UNTIL.replace(tzinfo=None))


def test_a_revocation_ends_validity_at_its_instant() -> None:
    q = granted()
    q.revoke(reason="failed audit", now=NOW)
    assert q.is_valid_at(NOW - TICK)
    assert not q.is_valid_at(NOW)
    assert q.state(NOW) is QualificationState.REVOKED


def test_validity_throughout_a_shift() -> None:
    q = granted()
    assert q.is_valid_throughout(FROM, UNTIL)
    assert q.is_valid_throughout(UNTIL - timedelta(hours=8), UNTIL), "ending exactly at valid_until is fine"
    assert not q.is_valid_throughout(UNTIL - timedelta(hours=8), UNTIL + TICK)
    assert not q.is_valid_throughout(FROM - TICK, FROM + timedelta(hours=8))


@pytest.mark.parametrize(
    ("at", "state"),
    [
        (FROM - TICK, QualificationState.PENDING),
        (FROM, QualificationState.VALID),
        (UNTIL, QualificationState.EXPIRED),
    ],
)
def test_state(at: datetime, state: QualificationState) -> None:
    assert granted(now=min(at, NOW)).state(at) is state


def test_grant_says_everything_the_sign_off_check_needs() -> None:
    q, events = Qualification.grant(
        employee_id="E-1", station="skill:forklift", level=Level.TRAINEE, valid_from=FROM, valid_until=UNTIL, now=NOW
    )
    assert events == [
        QualificationGranted(
            employee_id="E-1", station="skill:forklift", level=Level.TRAINEE, valid_from=FROM, valid_until=UNTIL, at=NOW
        )
    ]
    assert q.level is Level.TRAINEE


@pytest.mark.parametrize(
    ("station", "valid_from", "valid_until", "rule"),
    [
        ("ST 01", FROM, UNTIL, "qualification.station.invalid"),
        ("skill:", FROM, UNTIL, "qualification.station.invalid"),
        ("ST-01", UNTIL, UNTIL, "qualification.validity.empty"),
        ("ST-01", FROM, NOW, "qualification.validity.past"),
        ("ST-01", FROM, UNTIL.replace(tzinfo=None), "time.naive"),
    ],
)
def test_grant_refuses(station: str, valid_from: datetime, valid_until: datetime, rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Qualification.grant(
            employee_id="E-1",
            station=station,
            level=Level.QUALIFIED,
            valid_from=valid_from,
            valid_until=valid_until,
            now=NOW,
        )
    assert refused.value.rule == rule


def test_a_current_qualification_is_renewed_not_granted_again() -> None:
    q = granted()
    with pytest.raises(Conflict) as refused:
        q.grant_again(level=Level.TRAINER, valid_from=NOW, valid_until=UNTIL + timedelta(days=365), now=NOW)
    assert refused.value.rule == "qualification.exists"


def test_granting_again_after_a_lapse_announces_the_lapse_first() -> None:
    q = granted()
    later = UNTIL + timedelta(days=3)
    events = q.grant_again(level=Level.TRAINEE, valid_from=later, valid_until=later + timedelta(days=90), now=later)
    assert [type(e) for e in events] == [QualificationExpired, QualificationGranted]
    assert events[0].at == UNTIL
    assert q.expire(later + timedelta(days=1)) == []


def test_granting_again_after_a_revocation_starts_afresh() -> None:
    q = granted()
    q.revoke(reason="unsafe", now=NOW)
    events = q.grant_again(level=Level.TRAINEE, valid_from=NOW, valid_until=UNTIL, now=NOW + TICK)
    assert [type(e) for e in events] == [QualificationGranted]
    assert q.revoked_at is None and q.is_valid_at(NOW + TICK)


def test_renewal_while_valid_keeps_validity_continuous() -> None:
    q = granted()
    new_until = UNTIL + timedelta(days=365)
    events = q.renew(level=Level.TRAINER, valid_until=new_until, now=NOW)
    assert events == [
        QualificationRenewed(
            employee_id="E-1", station="ST-01", level=Level.TRAINER, valid_from=FROM, valid_until=new_until, at=NOW
        )
    ]
    assert q.is_valid_at(UNTIL)
    assert q.renew(level=Level.TRAINER, valid_until=new_until, now=NOW) == [], "the same renewal changes nothing"


def test_renewal_after_a_lapse_is_valid_from_now_and_announces_the_lapse() -> None:
    q = granted()
    later = UNTIL + timedelta(days=2)
    events = q.renew(level=Level.QUALIFIED, valid_until=later + timedelta(days=365), now=later)
    assert [type(e) for e in events] == [QualificationExpired, QualificationRenewed]
    assert q.valid_from == later
    assert not q.is_valid_at(UNTIL + timedelta(days=1)), "the lapse stays a lapse"


def test_renewal_refuses_a_revoked_qualification_and_a_past_expiry() -> None:
    q = granted()
    with pytest.raises(InvalidInput) as past:
        q.renew(level=Level.QUALIFIED, valid_until=NOW, now=NOW)
    assert past.value.rule == "qualification.validity.past"
    q.revoke(reason="unsafe", now=NOW)
    with pytest.raises(Conflict) as revoked:
        q.renew(level=Level.QUALIFIED, valid_until=UNTIL, now=NOW)
    assert revoked.value.rule == "qualification.revoked"


def test_revocation_is_said_once_and_not_after_expiry() -> None:
    q = granted()
    assert [type(e) for e in q.revoke(reason="unsafe", now=NOW)] == [QualificationRevoked]
    assert q.revoke(reason="unsafe", now=NOW + TICK) == []
    lapsed = granted()
    with pytest.raises(Conflict) as refused:
        lapsed.revoke(reason="late", now=UNTIL)
    assert refused.value.rule == "qualification.not-current"


def test_expiry_is_due_exactly_at_valid_until_and_announced_once() -> None:
    q = granted()
    assert not q.expiry_due(UNTIL - TICK)
    assert q.expire(UNTIL - TICK) == []
    assert q.expiry_due(UNTIL)
    assert q.expire(UNTIL) == [
        QualificationExpired(employee_id="E-1", station="ST-01", level=Level.QUALIFIED, at=UNTIL)
    ]
    assert not q.expiry_due(UNTIL + timedelta(days=1))
    assert q.expire(UNTIL + timedelta(days=1)) == []


def test_a_revoked_qualification_never_expires() -> None:
    q = granted()
    q.revoke(reason="unsafe", now=NOW)
    assert not q.expiry_due(UNTIL + timedelta(days=1))


def test_a_renewed_qualification_expires_again_at_its_new_date() -> None:
    q = granted()
    q.expire(UNTIL)
    later = UNTIL + timedelta(days=1)
    q.renew(level=Level.QUALIFIED, valid_until=later + timedelta(days=30), now=later)
    assert not q.expiry_due(later + timedelta(days=29))
    assert [e.at for e in q.expire(later + timedelta(days=30))] == [later + timedelta(days=30)]
