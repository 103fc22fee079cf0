"""The consumers skip event types they do not use, so a new contract upstream never blocks a partition."""

from __future__ import annotations

from typing import Any

from assembly_line.service.consumers import KIT_HANDLERS, PEOPLE_HANDLERS, on_kits_event, on_people_event
from mes_shared.envelope import Envelope
from mes_shared.events import kits, people

from .conftest import at


class NoSession:
    """Fails the test if a handler touches the database."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"an unused event type reached the database ({name})")


async def test_unused_and_unknown_types_are_skipped() -> None:
    for handle, kind in (
        (on_kits_event, "mes.shipment.announced.v1"),
        (on_kits_event, "mes.kit.something-new.v7"),
        (on_people_event, "mes.roster.published.v1"),
        (on_people_event, "mes.employee.something-new.v2"),
    ):
        envelope = Envelope(source="/mes/x", type=kind, subject="S", time=at(0), dataschema="urn:x", data={})
        await handle(NoSession(), envelope)  # type: ignore[arg-type]


def test_the_handled_types_are_the_ones_the_read_models_need() -> None:
    assert set(KIT_HANDLERS) == {
        kits.KitTypeBomPublished.event_type,
        kits.KitAnnounced.event_type,
        kits.KitAmended.event_type,
        kits.KitCancelled.event_type,
        kits.KitReceived.event_type,
        kits.KitQuarantined.event_type,
        kits.KitQuarantineLifted.event_type,
        kits.KitReleased.event_type,
        kits.KitConsumed.event_type,
        kits.DiscrepancyResolved.event_type,
    }
    assert {people.ClockedIn.event_type, people.ClockedOut.event_type, people.QualificationRevoked.event_type} <= set(
        PEOPLE_HANDLERS
    )
