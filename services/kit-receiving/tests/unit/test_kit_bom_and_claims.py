from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kit_receiving.domain import (
    FINDING_CODES,
    BomLine,
    BomVersion,
    ClaimCode,
    Conflict,
    InvalidInput,
    KitBom,
    is_unusable,
    next_bom_version,
)

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def test_every_claim_code_but_surplus_means_the_part_is_unusable() -> None:
    assert [c for c in ClaimCode if not is_unusable(c)] == [ClaimCode.SURPLUS]
    assert ClaimCode.SURPLUS.value == "surplus"
    assert ClaimCode.DT.part_unusable


def test_findings_are_the_condition_claims_only() -> None:
    assert {str(c) for c in FINDING_CODES} == {"D", "DP", "DT", "A", "F", "W"}


def test_bom_looks_parts_up_by_number(bom: KitBom) -> None:
    line = bom.line("P-200")
    assert line is not None and (line.quantity, line.station) == (20, "ST-12")
    assert bom.line("P-999") is None
    assert "P-100" in bom


def test_bom_refuses_a_duplicate_part_number() -> None:
    with pytest.raises(InvalidInput) as err:
        KitBom("TRK", 1, (BomLine("P-1", "a", 1, "ST-1"), BomLine("P-1", "b", 2, "ST-2")))
    assert err.value.rule == "bom.duplicate-part"
    assert "P-1" in err.value.message and "TRK v1" in err.value.message


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_bom_line_quantity_must_be_a_positive_whole_number(quantity: object) -> None:
    with pytest.raises(InvalidInput, match="P-1"):
        BomLine("P-1", "a", quantity, "ST-1")  # type: ignore[arg-type]


def test_bom_needs_lines_and_a_station_per_line() -> None:
    with pytest.raises(InvalidInput, match="no lines"):
        KitBom("TRK", 1, ())
    with pytest.raises(InvalidInput, match="station of BOM part P-1"):
        BomLine("P-1", "a", 1, " ")


def test_bom_versions_follow_each_other_in_time() -> None:
    first = next_bom_version("TRK", None, T0 - timedelta(days=40))
    assert first == BomVersion("TRK", 1, T0 - timedelta(days=40))  # a first version may be dated long ago
    assert next_bom_version("TRK", first, T0) == BomVersion("TRK", 2, T0)
    assert next_bom_version("TRK", first, first.effective_from).version == 2  # replaces it from its own instant


def test_a_bom_version_dated_before_the_current_one_is_refused() -> None:
    current = BomVersion("TRK", 3, T0)
    with pytest.raises(Conflict) as err:
        next_bom_version("TRK", current, T0 - timedelta(seconds=1))
    assert err.value.rule == "bom.effective-before-current"
    assert "v3" in err.value.message and T0.isoformat() in err.value.message
    assert (T0 - timedelta(seconds=1)).isoformat() in err.value.message


def test_a_bom_version_takes_effect_after_the_last_kit_announced_which_keeps_its_version() -> None:
    current, announced = BomVersion("TRK", 1, T0), T0 + timedelta(days=2)
    for effective_from in (T0 + timedelta(days=1), announced):
        with pytest.raises(Conflict) as err:
            next_bom_version("TRK", current, effective_from, last_taken=announced)
        assert err.value.rule == "bom.effective-before-announced-kit" and announced.isoformat() in err.value.message
    assert next_bom_version("TRK", current, announced + timedelta(seconds=1), last_taken=announced).version == 2


def test_a_bom_version_takes_an_instant_with_its_offset() -> None:
    with pytest.raises(InvalidInput) as err:
        next_bom_version("TRK", None, datetime(2026, 3, 2, 6, 0))  # a naive time
    assert err.value.rule == "time.naive"
