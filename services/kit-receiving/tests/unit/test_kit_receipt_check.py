from __future__ import annotations

import pytest

from kit_receiving.domain import (
    BomLine,
    ClaimCode,
    CountedLine,
    DiscrepancyDraft,
    Finding,
    InvalidInput,
    KitBom,
    check_receipt,
)


def summary(drafts: list[DiscrepancyDraft]) -> list[tuple[str, str, int, str | None]]:
    return [(str(d.claim_code), d.part_number, d.quantity, d.station) for d in drafts]


def test_no_lines_means_complete_as_announced(bom: KitBom) -> None:
    assert check_receipt(bom, []) == []


def test_unlisted_bom_parts_are_taken_as_complete(bom: KitBom) -> None:
    assert check_receipt(bom, [CountedLine("P-200", 20)]) == []


def test_counted_zero_is_total_missing_for_the_expected_quantity(bom: KitBom) -> None:
    drafts = check_receipt(bom, [CountedLine("P-300", 0)])
    assert summary(drafts) == [("M", "P-300", 2, "ST-20")]
    assert drafts[0].note == "expected 2, counted 0"


def test_counted_below_expected_is_partially_missing_for_the_difference(bom: KitBom) -> None:
    assert summary(check_receipt(bom, [CountedLine("P-200", 16)])) == [("S", "P-200", 4, "ST-12")]


def test_counted_above_expected_is_surplus_for_the_excess(bom: KitBom) -> None:
    assert summary(check_receipt(bom, [CountedLine("P-200", 23)])) == [("surplus", "P-200", 3, "ST-12")]


def test_part_not_in_bom_is_a_wrong_part_for_all_counted_without_station(bom: KitBom) -> None:
    drafts = check_receipt(bom, [CountedLine("X-9", 3)])
    assert summary(drafts) == [("W", "X-9", 3, None)]
    assert "not in the BOM of kit type TRK-6X4-A v3" in drafts[0].note


def test_part_not_in_bom_counted_zero_is_refused(bom: KitBom) -> None:
    with pytest.raises(InvalidInput) as err:
        check_receipt(bom, [CountedLine("X-9", 0)])
    assert err.value.rule == "receipt.line.unknown-part-zero"
    assert "X-9" in err.value.message and "counted 0" in err.value.message


def test_findings_on_a_part_not_in_bom_are_refused(bom: KitBom) -> None:
    with pytest.raises(InvalidInput, match="X-9"):
        check_receipt(bom, [CountedLine("X-9", 2, (Finding(ClaimCode.D, 1),))])


def test_each_finding_becomes_a_discrepancy_with_its_code_and_note(bom: KitBom) -> None:
    line = CountedLine("P-200", 20, (Finding(ClaimCode.DT, 2, "crushed case"), Finding(ClaimCode.A, 1)))
    drafts = check_receipt(bom, [line])
    assert summary(drafts) == [("DT", "P-200", 2, "ST-12"), ("A", "P-200", 1, "ST-12")]
    assert drafts[0].note == "crushed case"
    assert drafts[1].note  # a default note, so the claim list never shows a blank


def test_count_and_findings_combine_on_one_line(bom: KitBom) -> None:
    line = CountedLine("P-200", 18, (Finding(ClaimCode.D, 3, "bent"),))
    assert summary(check_receipt(bom, [line])) == [("S", "P-200", 2, "ST-12"), ("D", "P-200", 3, "ST-12")]


def test_findings_may_claim_exactly_the_counted_quantity(bom: KitBom) -> None:
    line = CountedLine("P-300", 2, (Finding(ClaimCode.W, 2, "left mirror instead of right"),))
    assert summary(check_receipt(bom, [line])) == [("W", "P-300", 2, "ST-20")]


def test_findings_above_the_counted_quantity_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        CountedLine("P-200", 3, (Finding(ClaimCode.D, 2), Finding(ClaimCode.F, 2)))
    assert err.value.rule == "receipt.finding.exceeds-count"
    assert err.value.message == "part P-200: findings claim 4 pieces but only 3 were counted"


@pytest.mark.parametrize("code", [ClaimCode.M, ClaimCode.S, ClaimCode.SURPLUS])
def test_count_derived_codes_are_refused_as_findings(code: ClaimCode) -> None:
    with pytest.raises(InvalidInput) as err:
        CountedLine("P-200", 5, (Finding(code, 1),))
    assert err.value.rule == "receipt.finding.invalid-code"
    assert "P-200" in err.value.message and str(code) in err.value.message


def test_finding_codes_are_parsed_from_plain_strings_and_unknown_ones_refused() -> None:
    assert Finding("DP", 1).claim_code is ClaimCode.DP  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="'ZZ'"):
        Finding("ZZ", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("quantity", [0, -2])
def test_finding_quantity_must_be_positive(quantity: int) -> None:
    with pytest.raises(InvalidInput, match="finding D"):
        Finding(ClaimCode.D, quantity)


def test_negative_count_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        CountedLine("P-100", -1)
    assert "counted quantity of part P-100" in err.value.message and "-1" in err.value.message


def test_duplicate_part_in_receipt_is_refused(bom: KitBom) -> None:
    with pytest.raises(InvalidInput) as err:
        check_receipt(bom, [CountedLine("P-100", 1), CountedLine("P-300", 1), CountedLine("P-100", 0)])
    assert err.value.rule == "receipt.line.duplicate-part"
    assert "P-100" in err.value.message


@pytest.mark.parametrize(
    ("part", "counted", "refused"),
    [
        ("P-200", 10_000, False),  # under the floor even though 500 x expected
        ("P-200", 10_001, True),  # above both 100 x 20 and the floor
        ("X-9", 10_000, False),
        ("X-9", 10_001, True),
    ],
)
def test_absurd_counts_are_refused_as_miscounts(bom: KitBom, part: str, counted: int, refused: bool) -> None:
    if refused:
        with pytest.raises(InvalidInput) as err:
            check_receipt(bom, [CountedLine(part, counted)])
        assert err.value.rule == "receipt.line.count-too-large" and str(counted) in err.value.message
    else:
        assert len(check_receipt(bom, [CountedLine(part, counted)])) == 1


def test_the_cap_grows_with_a_large_expected_quantity() -> None:
    rivets = KitBom("TRK", 1, (BomLine("R-1", "rivet", 200, "ST-01"),))
    assert summary(check_receipt(rivets, [CountedLine("R-1", 15_000)])) == [("surplus", "R-1", 14_800, "ST-01")]
    with pytest.raises(InvalidInput, match="above 20000"):
        check_receipt(rivets, [CountedLine("R-1", 20_001)])


def test_discrepancies_follow_the_order_of_the_receipt_lines(bom: KitBom) -> None:
    lines = [CountedLine("P-300", 0), CountedLine("X-9", 1), CountedLine("P-100", 2)]
    assert [d.part_number for d in check_receipt(bom, lines)] == ["P-300", "X-9", "P-100"]
