"""`/people/qualifications/expiring?at=` lists what was expiring at that instant: a renewal made later does
not hide it, a revocation made later does not remove it, and a revocation made earlier does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from reporting_support import Api, Bus, unique, wrap

from mes_shared.auth import Role
from mes_shared.events import people as p

pytestmark = pytest.mark.integration

T = datetime(2026, 10, 1, 12, tzinfo=UTC)


def days(n: float) -> datetime:
    return T + timedelta(days=n)


@pytest.fixture(scope="module")
async def history(producer: Any, client: Any) -> tuple[str, str, str]:
    employee, renewed_station, revoked_station = unique("E"), unique("ST"), unique("ST")

    def grant(station: str, until: datetime) -> p.QualificationGranted:
        return p.QualificationGranted(
            employee_id=employee, station=station, level="qualified", valid_from=days(-40), valid_until=until
        )

    events = [
        wrap(
            p.EmployeeRegistered(
                employee_id=employee,
                badge_id="B" + employee,
                name="Ivan",
                origin="transferred",
                status="active",
                status_since=date(2026, 1, 1),
            ),
            employee,
            days(-50),
        ),
        # Published out of time order: the later facts first.
        wrap(
            p.QualificationRenewed(
                employee_id=employee,
                station=renewed_station,
                level="trainer",
                valid_from=days(-40),
                valid_until=days(100),
            ),
            employee,
            days(-5),
        ),
        wrap(
            p.QualificationRevoked(
                employee_id=employee, station=revoked_station, level="qualified", revoked_at=days(-3), reason="audit"
            ),
            employee,
            days(-3),
        ),
        wrap(grant(renewed_station, days(20)), employee, days(-40)),
        wrap(grant(revoked_station, days(25)), employee, days(-40)),
    ]
    await Bus(producer, Api(client, Role.ADMIN)).publish(*events)
    return employee, renewed_station, revoked_station


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (days(-45), set()),  # nothing granted yet
        (days(-20), set()),  # both expire more than 30 days later
        (days(-8), {("renewed", days(20))}),  # the renewal comes later; the other expires after 30 days
        (days(-4), {("revoked", days(25))}),  # renewed by then, not yet revoked
        (days(-2), set()),  # renewed, and revoked
    ],
)
async def test_expiring_as_of_an_instant(
    history: tuple[str, str, str], manager: Api, at: datetime, expected: set[tuple[str, datetime]]
) -> None:
    employee, renewed_station, revoked_station = history
    names = {renewed_station: "renewed", revoked_station: "revoked"}
    view = await manager.json("/people/qualifications/expiring", within_days=30, at=at.isoformat(), limit=500)
    mine = {
        (names[q["station"]], datetime.fromisoformat(q["valid_until"]))
        for q in view["items"]
        if q["employee_id"] == employee
    }
    assert mine == expected
