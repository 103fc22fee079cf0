"""kit-receiving follows assembly-line: a build started with a kit consumes it, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mes_shared.envelope import Envelope
from mes_shared.events.vehicles import BuildStarted
from mes_shared.kafka import make_producer
from mes_shared.testing import KafkaTap, eventually
from mes_shared.topics import DEAD_LETTER, VEHICLES

pytestmark = pytest.mark.integration
VIN, OTHER_VIN = "XLRTE47MS0E123456", "XLRTE47MS0E654321"


async def publish(bootstrap: str, *envelopes: Envelope) -> None:
    producer = make_producer(bootstrap, client_id="test-assembly-line")
    await producer.start()
    try:
        for e in envelopes:
            await producer.send_and_wait(VEHICLES.name, e.to_bytes(), key=e.subject.encode())
    finally:
        await producer.stop()


def build_started(vin: str, kit: str) -> Envelope:
    data = BuildStarted(vin=vin, model="HTX", line_id="L1", kit_serial=kit, station="ST-01")
    return Envelope.wrap(data, source="/mes/assembly-line", subject=vin, correlation_id=f"build-{vin}")


async def test_a_started_build_consumes_its_released_kit_once(
    api: Any,
    app: Any,
    kit_type: str,
    tap: KafkaTap,
    bootstrap: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
) -> None:
    shipment, serial = new_id("ASN"), new_id("KIT")
    assert (await api.post("/shipments", asn(shipment, kit_type, [serial]))).status_code == 201
    assert (await api.post(f"/kits/{serial}/receipt", {"dock": "D1"})).status_code == 200
    assert (await api.post(f"/kits/{serial}/release")).status_code == 200

    started = build_started(VIN, serial)
    await publish(bootstrap, started, started)  # delivered twice, as after a relay crash

    async def consumed() -> dict[str, Any] | None:
        kit = (await api.get(f"/kits/{serial}")).json()
        return kit if kit["status"] == "consumed" else None

    kit = await eventually(consumed, what=f"kit {serial} consumed")
    assert kit["vin"] == VIN
    assert [h["action"] for h in kit["history"]].count("kit-consumed") == 1
    events = await tap.wait_for(serial, 4)
    assert [e.type for e in events][-1] == "mes.kit.consumed.v1"
    assert events[-1].correlationid == f"build-{VIN}"
    on_hand = (await api.get("/inventory", kit_type=kit_type)).json()
    assert on_hand["on_hand"] == 0


async def test_a_second_vin_on_the_same_kit_is_dead_lettered(
    api: Any,
    app: Any,
    kit_type: str,
    bootstrap: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
) -> None:
    shipment, serial = new_id("ASN"), new_id("KIT")
    assert (await api.post("/shipments", asn(shipment, kit_type, [serial]))).status_code == 201
    assert (await api.post(f"/kits/{serial}/receipt", {"dock": "D1"})).status_code == 200
    assert (await api.post(f"/kits/{serial}/release")).status_code == 200
    dead = KafkaTap(bootstrap, DEAD_LETTER.name)
    await dead.start()
    try:
        # The two VINs are keys of different partitions, so either may be read first: that one consumes the kit,
        # the other is dead-lettered.
        builds = {build.id: build for build in (build_started(VIN, serial), build_started(OTHER_VIN, serial))}
        await publish(bootstrap, *builds.values())

        async def dead_lettered() -> list[Any] | None:
            return [r for r in dead.records if Envelope.from_bytes(r.value).id in builds] or None

        [record] = await eventually(dead_lettered, what="the second build dead-lettered")
        refused = builds.pop(Envelope.from_bytes(record.value).id)
        [consumed] = builds.values()
        error = dict(record.headers)["dlt_error"]
        assert f"already consumed by VIN {consumed.subject}, not {refused.subject}".encode() in error, error
    finally:
        await dead.stop()
    kit = (await api.get(f"/kits/{serial}")).json()
    assert (kit["status"], kit["vin"]) == ("consumed", consumed.subject)
