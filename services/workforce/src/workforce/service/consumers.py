"""Event handlers for the consumers workforce runs (each inside the inbox transaction of its event).

Workforce has no station master of its own: the lines and stations assembly-line configures are the
ones qualifications, rosters and clock-ins may name.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared.envelope import Envelope
from mes_shared.events.stations import LineConfigured
from workforce.adapters.repository import Lines

log = logging.getLogger(__name__)


async def on_stations_event(session: AsyncSession, envelope: Envelope) -> None:
    """Keep the read model of lines and stations; other events on the topic are not workforce's."""
    if envelope.type != LineConfigured.event_type:
        return
    data = envelope.payload()
    assert isinstance(data, LineConfigured)
    applied = await Lines(session).apply_configuration(
        line_id=data.line_id,
        name=data.name,
        stations_in_order=[(s.station_id, s.name, s.position) for s in data.stations],
        at=envelope.time,
    )
    if not applied:
        log.info("ignored configuration of line %s at %s: a newer one is applied", data.line_id, envelope.time)
