from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kit_receiving.domain import (
    ClaimCode,
    Conflict,
    Discrepancy,
    DiscrepancyDraft,
    DiscrepancyStatus,
    InvalidInput,
    Resolution,
)


def discrepancy(t0: datetime, code: ClaimCode = ClaimCode.M) -> Discrepancy:
    draft = DiscrepancyDraft(code, "P-300", 2, "expected 2, counted 0", "ST-20")
    return Discrepancy.from_draft("d-1", "K-1", draft, t0)


def test_a_new_discrepancy_is_open_and_carries_its_draft(t0: datetime) -> None:
    d = discrepancy(t0)
    assert (d.id, d.kit_serial, d.claim_code, d.quantity, d.station) == (
        "d-1",
        "K-1",
        ClaimCode.M,
        2,
        "ST-20",
    )
    assert d.status is DiscrepancyStatus.OPEN and d.resolution is None and d.is_open


@pytest.mark.parametrize(
    ("resolution", "status"),
    [
        (Resolution.REPLACEMENT_RECEIVED, DiscrepancyStatus.RESOLVED),
        (Resolution.WRITTEN_OFF, DiscrepancyStatus.RESOLVED),
        (Resolution.SHORTAGE_ACCEPTED, DiscrepancyStatus.SHORTAGE_ACCEPTED),
    ],
)
def test_open_discrepancy_resolutions(t0: datetime, later: datetime, resolution: Resolution, status: str) -> None:
    d = discrepancy(t0).resolve(resolution, later, "dock.lead", "phoned supplier")
    assert (d.status, d.resolution, d.resolved_at, d.resolved_by) == (status, resolution, later, "dock.lead")
    assert d.resolution_note == "phoned supplier"


def test_a_surplus_cannot_be_accepted_as_a_shortage(t0: datetime, later: datetime) -> None:
    with pytest.raises(Conflict) as err:
        discrepancy(t0, ClaimCode.SURPLUS).resolve(Resolution.SHORTAGE_ACCEPTED, later, "dock.lead")
    assert err.value.rule == "discrepancy.resolve.surplus-not-shortage"
    assert "surplus" in err.value.message and "P-300" in err.value.message


@pytest.mark.parametrize("then", [Resolution.REPLACEMENT_RECEIVED, Resolution.WRITTEN_OFF])
def test_an_accepted_shortage_can_still_be_closed(t0: datetime, later: datetime, then: Resolution) -> None:
    accepted = discrepancy(t0).resolve(Resolution.SHORTAGE_ACCEPTED, t0, "dock.lead")
    closed = accepted.resolve(then, later, "dock.clerk")
    assert (closed.status, closed.resolution, closed.resolved_by) == (
        DiscrepancyStatus.RESOLVED,
        then,
        "dock.clerk",
    )


@pytest.mark.parametrize("resolution", list(Resolution))
def test_repeating_the_same_decision_returns_the_same_value(t0: datetime, resolution: Resolution) -> None:
    decided = discrepancy(t0).resolve(resolution, t0, "dock.lead")
    assert decided.resolve(resolution, t0, "someone.else", "resend") is decided


def test_a_different_decision_on_a_resolved_discrepancy_is_a_conflict(t0: datetime) -> None:
    resolved = discrepancy(t0).resolve(Resolution.REPLACEMENT_RECEIVED, t0, "dock.lead")
    with pytest.raises(Conflict) as err:
        resolved.resolve(Resolution.WRITTEN_OFF, t0, "dock.lead")
    assert err.value.rule == "discrepancy.resolve.not-allowed"
    assert "resolved as replacement_received" in err.value.message and "written_off" in err.value.message


def test_a_resolution_needs_a_known_value_an_aware_time_and_a_person(t0: datetime) -> None:
    d = discrepancy(t0)
    with pytest.raises(InvalidInput, match="'lost'"):
        d.resolve("lost", t0, "dock.lead")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="timezone-aware"):
        d.resolve(Resolution.WRITTEN_OFF, datetime(2025, 3, 3, 8, 0), "dock.lead")
    with pytest.raises(InvalidInput, match="resolved by"):
        d.resolve(Resolution.WRITTEN_OFF, t0, "")


def test_a_decision_cannot_predate_the_discrepancy(t0: datetime) -> None:
    d = discrepancy(t0)
    with pytest.raises(InvalidInput) as refused:
        d.resolve(Resolution.WRITTEN_OFF, t0 - timedelta(seconds=1), "dock.lead")
    assert refused.value.rule == "discrepancy.resolve.before-recorded"
    assert d.is_open
    assert d.resolve(Resolution.WRITTEN_OFF, t0, "dock.lead").status is DiscrepancyStatus.RESOLVED
