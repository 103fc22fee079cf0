"""Localisation rate: the share of a truck's parts not from the kit, by count and, where known, by value."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from reporting.api import schemas
from reporting.projections.tables import bom_versions, components, kits, vehicles
from reporting.service.context import Reader
from reporting.service.ranges import Range

METHOD = (
    "trucks completed in the range; parts of a truck = the quantities of its kit's BOM version (when the BOM "
    "is known, else its serialised kit parts) + the local parts fitted to it (component-fitted, source local); "
    "rate by count = local parts / parts; rate by value = value of local serialised parts / value of all "
    "serialised parts with a known unit value"
)


@dataclass
class Tally:
    trucks: int = 0
    local_parts: int = 0
    total_parts: int = 0
    local_value: float = 0.0
    known_value: float = 0.0
    parts_with_value: int = 0
    serialised_parts: int = 0

    def figures(self) -> schemas.LocalisationFigures:
        return schemas.LocalisationFigures(
            trucks=self.trucks,
            local_parts=self.local_parts,
            total_parts=self.total_parts,
            rate_by_count=round(self.local_parts / self.total_parts, 4) if self.total_parts else None,
            local_value=round(self.local_value, 2),
            known_value=round(self.known_value, 2),
            rate_by_value=round(self.local_value / self.known_value, 4) if self.known_value else None,
            parts_with_value=self.parts_with_value,
            serialised_parts=self.serialised_parts,
        )


async def localisation(reader: Reader, line_id: str | None, span: Range) -> schemas.LocalisationView:
    where = [vehicles.c.completed_at >= span.start, vehicles.c.completed_at < span.until(reader.at)]
    if line_id is not None:
        where.append(vehicles.c.line_id == line_id)
    trucks = await reader.rows(
        sa.select(vehicles.c.vin, vehicles.c.model, bom_versions.c.part_count)
        .select_from(
            vehicles.join(kits, kits.c.serial == vehicles.c.kit_serial, isouter=True).join(
                bom_versions,
                sa.and_(bom_versions.c.kit_type == kits.c.kit_type, bom_versions.c.version == kits.c.bom_version),
                isouter=True,
            )
        )
        .where(*where)
    )
    fitted: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    vins = [t.vin for t in trucks]
    if vins:
        for c in await reader.rows(
            sa.select(components.c.vin, components.c.source, components.c.unit_value).where(components.c.vin.in_(vins))
        ):
            fitted[c.vin].append((c.source, c.unit_value))
    overall = Tally()
    per_model: dict[str, Tally] = defaultdict(Tally)
    for t in trucks:
        parts = fitted.get(t.vin, [])
        local = sum(1 for source, _ in parts if source == "local")
        kit_parts = t.part_count if t.part_count is not None else sum(1 for source, _ in parts if source == "kit")
        valued = [(source, value) for source, value in parts if value is not None]
        for tally in (overall, per_model[t.model or "unknown"]):
            tally.trucks += 1
            tally.local_parts += local
            tally.total_parts += kit_parts + local
            tally.local_value += sum(value for source, value in valued if source == "local")
            tally.known_value += sum(value for _, value in valued)
            tally.parts_with_value += len(valued)
            tally.serialised_parts += len(parts)
    return schemas.LocalisationView(
        as_planned_now=reader.planned_now("/localisation"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        overall=overall.figures(),
        by_model=[schemas.LocalisationModel(model=m, **t.figures().model_dump()) for m, t in sorted(per_model.items())],
        method=METHOD,
    )
