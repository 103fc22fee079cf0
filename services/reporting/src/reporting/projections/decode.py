"""Preparing a batch for the fold without decoding what the fold ignores.

Over half of the log is events reporting does not fold (torque checks above all), and validating an
envelope costs more than folding it. So every record is first read for its id and type only; the full
envelope is validated only for the types the fold reads. A record whose id or type cannot be read goes
the full way too, and is dead-lettered as unreadable there.

One difference from `runner.prepare`: an envelope of an ignored type that breaks the envelope contract
elsewhere (a missing source, say) is ignored, not dead-lettered. Whether reporting reads such an event or
not, it changes no projection, so the rebuilt rows are the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import BaseModel, ValidationError

from reporting.projections import runner
from reporting.projections.fold import FOLDS


class _Head(BaseModel):
    """What a record shows of itself before it is decoded in full (its other fields are not read)."""

    id: uuid.UUID
    type: str


def prepare(records: Sequence[ConsumerRecord]) -> runner.Prepared:
    """`runner.prepare`, with the records of ignored types set apart after reading only their id and type."""
    kept: list[ConsumerRecord] = []
    ignored: list[ConsumerRecord] = []
    seen: set[Any] = set()
    repeated = 0
    for record in records:
        try:
            head = _Head.model_validate_json(record.value)
        except ValidationError:
            kept.append(record)  # unreadable: the full decoding dead-letters it with its error
            continue
        if head.type in FOLDS:
            kept.append(record)
        elif head.id in seen:
            repeated += 1
        else:
            seen.add(head.id)
            ignored.append(record)
    batch = runner.prepare(kept)
    return runner.Prepared(
        records, batch.folded, batch.dead, batch.ignored + ignored, batch.repeated + repeated, batch.buffer
    )
