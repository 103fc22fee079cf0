"""Checking what the dock counted against the kit BOM.

Receiving is exception based: the dock lists only the parts it has something to say about, so a BOM
part that is not listed is taken as complete, and a receipt with no lines at all means "as announced".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .bom import KitBom
from .claims import FINDING_CODES, ClaimCode
from .errors import InvalidInput
from .guards import require_count, require_text

# A miscount by a factor of 100 (and beyond any real kit quantity) is a scanner or typing error, not a
# surplus worth a claim; refusing it keeps nonsense out of the discrepancy figures management reads.
MAX_COUNT_FACTOR = 100
MAX_COUNT_FLOOR = 10_000


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition claim on parts the dock has in hand (damaged, rusted, wrong part, ...)."""

    claim_code: ClaimCode
    quantity: int
    note: str = ""

    def __post_init__(self) -> None:
        try:
            code = ClaimCode(self.claim_code)
        except ValueError:
            raise InvalidInput("receipt.finding.unknown-code", f"unknown claim code {self.claim_code!r}") from None
        object.__setattr__(self, "claim_code", code)
        require_count(self.quantity, f"quantity of finding {code}", minimum=1)


@dataclass(frozen=True, slots=True)
class CountedLine:
    part_number: str
    counted: int
    findings: tuple[Finding, ...] = ()

    def __post_init__(self) -> None:
        require_text(self.part_number, "counted part number")
        require_count(self.counted, f"counted quantity of part {self.part_number}", minimum=0)
        findings = tuple(self.findings)
        object.__setattr__(self, "findings", findings)
        for finding in findings:
            if finding.claim_code not in FINDING_CODES:
                raise InvalidInput(
                    "receipt.finding.invalid-code",
                    f"part {self.part_number}: claim code {finding.claim_code} cannot be given as a finding; "
                    f"M, S and surplus are derived from the counted quantity",
                )
        claimed = sum(f.quantity for f in findings)
        if claimed > self.counted:
            raise InvalidInput(
                "receipt.finding.exceeds-count",
                f"part {self.part_number}: findings claim {claimed} pieces but only {self.counted} were counted",
            )


@dataclass(frozen=True, slots=True)
class DiscrepancyDraft:
    """A discrepancy before it has an id, a kit and a time: the pure result of a check."""

    claim_code: ClaimCode
    part_number: str
    quantity: int
    note: str
    station: str | None  # None for a part that is not in the BOM


def check_receipt(bom: KitBom, counted_lines: Sequence[CountedLine]) -> list[DiscrepancyDraft]:
    """Compare counted lines with the BOM; return one draft per mismatch, in line order."""
    seen: set[str] = set()
    for line in counted_lines:
        if line.part_number in seen:
            raise InvalidInput(
                "receipt.line.duplicate-part",
                f"part {line.part_number} is listed more than once in the receipt; give one line per part",
            )
        seen.add(line.part_number)

    drafts: list[DiscrepancyDraft] = []
    for line in counted_lines:
        drafts.extend(_check_line(bom, line))
    return drafts


def _check_line(bom: KitBom, line: CountedLine) -> list[DiscrepancyDraft]:
    bom_line = bom.line(line.part_number)
    if bom_line is None:
        return [_unknown_part(bom, line)]

    expected = bom_line.quantity
    cap = max(expected * MAX_COUNT_FACTOR, MAX_COUNT_FLOOR)
    if line.counted > cap:
        raise InvalidInput(
            "receipt.line.count-too-large",
            f"part {line.part_number}: counted {line.counted} but the BOM expects {expected}; "
            f"counts above {cap} are refused as a miscount",
        )

    drafts: list[DiscrepancyDraft] = []
    station = bom_line.station
    if line.counted == 0:
        drafts.append(
            DiscrepancyDraft(ClaimCode.M, line.part_number, expected, f"expected {expected}, counted 0", station)
        )
    elif line.counted < expected:
        drafts.append(
            DiscrepancyDraft(
                ClaimCode.S,
                line.part_number,
                expected - line.counted,
                f"expected {expected}, counted {line.counted}",
                station,
            )
        )
    elif line.counted > expected:
        drafts.append(
            DiscrepancyDraft(
                ClaimCode.SURPLUS,
                line.part_number,
                line.counted - expected,
                f"expected {expected}, counted {line.counted}",
                station,
            )
        )
    for finding in line.findings:
        note = finding.note or f"{finding.claim_code} on {finding.quantity} of {line.counted} counted"
        drafts.append(DiscrepancyDraft(finding.claim_code, line.part_number, finding.quantity, note, station))
    return drafts


def _unknown_part(bom: KitBom, line: CountedLine) -> DiscrepancyDraft:
    where = f"BOM of kit type {bom.kit_type} v{bom.version}"
    if line.counted == 0:
        # Nothing arrived and nothing was expected: there is no claim to make, and silently accepting
        # it would hide a mistyped part number that was meant to report a BOM part missing.
        raise InvalidInput(
            "receipt.line.unknown-part-zero",
            f"part {line.part_number} is not in the {where} and was counted 0",
        )
    if line.counted > MAX_COUNT_FLOOR:
        raise InvalidInput(
            "receipt.line.count-too-large",
            f"part {line.part_number}: counted {line.counted}, not in the {where}; "
            f"counts above {MAX_COUNT_FLOOR} are refused as a miscount",
        )
    if line.findings:
        # The whole quantity is already claimed as a wrong part; a second claim on the same pieces
        # would double count them in the claim figures.
        raise InvalidInput(
            "receipt.line.findings-on-unknown-part",
            f"part {line.part_number} is not in the {where}; it is claimed as W for all {line.counted} "
            f"pieces, so findings on it are not accepted",
        )
    return DiscrepancyDraft(
        ClaimCode.W,
        line.part_number,
        line.counted,
        f"part {line.part_number} is not in the {where}; {line.counted} received",
        None,
    )
