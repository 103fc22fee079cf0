from __future__ import annotations

import pytest

from kit_receiving.domain import FINDING_CODES, BomLine, ClaimCode, InvalidInput, KitBom, is_unusable


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
