"""Kit bill of materials: what a kit of a given type and version should contain."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidInput
from .guards import require_count, require_text


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
