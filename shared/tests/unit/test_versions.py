"""The version in force at an instant: the last one that took effect by then, the first before any did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mes_shared.versions import in_force

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Version:
    number: int
    effective_from: datetime


V1, V2, V3 = Version(1, T0), Version(2, T0 + timedelta(days=1)), Version(3, T0 + timedelta(days=1))


def test_the_last_version_that_took_effect_by_then_is_in_force() -> None:
    versions = [V1, Version(2, T0 + timedelta(days=1)), Version(3, T0 + timedelta(days=2))]
    assert in_force(versions, T0) is versions[0]
    assert in_force(versions, T0 + timedelta(hours=23)) is versions[0]
    assert in_force(versions, T0 + timedelta(days=1)) is versions[1]  # from its own instant on
    assert in_force(versions, T0 + timedelta(days=30)) is versions[2]


def test_versions_taking_effect_at_the_same_instant_end_with_the_later_one() -> None:
    assert in_force([V1, V2, V3], T0 + timedelta(days=1)) is V3


def test_before_the_first_version_the_first_is_in_force_and_without_versions_none() -> None:
    assert in_force([V1, V2], T0 - timedelta(days=365)) is V1
    assert in_force([], T0) is None
