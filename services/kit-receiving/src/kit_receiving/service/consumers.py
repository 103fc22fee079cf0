"""What kit-receiving follows from other services: a build started with a kit consumes that kit."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from kit_receiving.adapters.repository import Kits
from kit_receiving.service.handlers import record
from mes_shared import outbox
from mes_shared.auth import Principal, Role
from mes_shared.commands import UnitOfWork
from mes_shared.envelope import Envelope
from mes_shared.events.vehicles import BuildStarted
from mes_shared.runtime import Subscription
from mes_shared.topics import VEHICLES

log = logging.getLogger(__name__)

SOURCE = "/mes/kit-receiving"


async def on_vehicle_event(session: AsyncSession, envelope: Envelope) -> None:
    if envelope.type != BuildStarted.event_type:
        return
    started = envelope.payload()
    assert isinstance(started, BuildStarted)
    kit = await Kits(session).get_for_update(started.kit_serial)
    if kit is None:
        # Not a kit of this plant's receiving (another system's test data, say): nothing to follow.
        log.warning("build %s started with kit %s, which kit-receiving does not know", started.vin, started.kit_serial)
        return
    # A kit consumed by another VIN, or never released, raises: retried, then dead-lettered for a person to see.
    uow = UnitOfWork(session, SOURCE, Principal(subject=envelope.source, role=Role.ADMIN), envelope.correlationid)
    await record(uow, kit, kit.consume(envelope.time, started.vin))
    await outbox.append(session, uow.events)


SUBSCRIPTIONS = (
    Subscription(
        name="vehicles",
        topics=(VEHICLES.name,),
        handler=on_vehicle_event,
        event_types=frozenset({BuildStarted.event_type}),
    ),
)
