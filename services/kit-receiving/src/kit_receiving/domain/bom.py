"""Kit bill of materials: what a kit of a given type and version should contain, and since when.

A kit type's BOM versions follow each other in time: each is in force from its `effective_from` until the
next version's (a late entry or a replay dates it in the past). A kit takes the version in force when it
was announced (or received, if nobody announced it) and keeps it (`mes_shared.versions.in_force`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import Conflict, InvalidInput
from .guards import require_aware, require_count, require_text


@dataclass(frozen=True, slots=True)
class BomLine:
    part_number: str
    description: str
    quantity: int
    station: str  # where the part is fitted: a build-short truck waits here

    def __post_init__(self) -> None:
        require_text(self.part_number, "BOM part number")
        require_count(self.quantity, f"BOM quantity of part {self.part_number}", minimum=1)
        require_text(self.station, f"station of BOM part {self.part_number}")


@dataclass(frozen=True, slots=True)
class KitBom:
    kit_type: str
    version: int
    lines: tuple[BomLine, ...]
    # Lookup by part number; derived, so excluded from equality and repr.
    _by_part: dict[str, BomLine] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        require_text(self.kit_type, "kit type")
        require_count(self.version, f"BOM version of kit type {self.kit_type}", minimum=1)
        lines = tuple(self.lines)  # accept any sequence, store immutably
        if not lines:
            raise InvalidInput("bom.empty", f"BOM of kit type {self.kit_type} v{self.version} has no lines")
        by_part: dict[str, BomLine] = {}
        for line in lines:
            if line.part_number in by_part:
                raise InvalidInput(
                    "bom.duplicate-part",
                    f"part {line.part_number} appears more than once in BOM of kit type "
                    f"{self.kit_type} v{self.version}",
                )
            by_part[line.part_number] = line
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "_by_part", by_part)

    def line(self, part_number: str) -> BomLine | None:
        return self._by_part.get(part_number)

    def __contains__(self, part_number: object) -> bool:
        return part_number in self._by_part


@dataclass(frozen=True, slots=True)
class BomVersion:
    """When a BOM version of a kit type is in force: from `effective_from` until the next version's."""

    kit_type: str
    version: int
    effective_from: datetime


def next_bom_version(
    kit_type: str, current: BomVersion | None, effective_from: datetime, last_taken: datetime | None = None
) -> BomVersion:
    """The version to publish next, in force from `effective_from`: never before the current version's, nor
    at or before `last_taken` (the latest announcement of a kit of the type, which would have taken the new
    version but keeps the one it was announced with)."""
    require_aware(effective_from, f"effective_from of the BOM of kit type {kit_type}")
    if current is None:
        return BomVersion(kit_type, 1, effective_from)
    if last_taken is not None and effective_from <= last_taken:
        raise Conflict(
            "bom.effective-before-announced-kit",
            f"a BOM version of kit type {kit_type} cannot take effect at {effective_from.isoformat()}: a kit of the "
            f"type was announced at {last_taken.isoformat()} and keeps the version it was announced with; date the "
            "new version after it",
        )
    if effective_from < current.effective_from:
        raise Conflict(
            "bom.effective-before-current",
            f"a BOM version of kit type {kit_type} cannot take effect at {effective_from.isoformat()}: the current "
            f"version v{current.version} is in force from {current.effective_from.isoformat()}, and versions "
            "follow each other in time",
        )
    return BomVersion(kit_type, current.version + 1, effective_from)
