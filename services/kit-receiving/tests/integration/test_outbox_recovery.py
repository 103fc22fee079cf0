"""A write accepted while no relay runs waits in the outbox and is published exactly once later.

Uses a database of its own, so no other relay in the test session can publish its rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from kit_receiving.main import create_app
from mes_shared.auth import Role, issue_token
from mes_shared.db import SessionFactory, asyncpg_dsn, make_engine, make_session_factory
from mes_shared.outbox import pending_count
from mes_shared.relay import OutboxRelay
from mes_shared.testing import KafkaTap, eventually, migrate, recreate_database, require_env

pytestmark = pytest.mark.integration

SERVICE_DIR = Path(__file__).resolve().parents[2]


async def test_event_committed_before_the_relay_died_arrives_once_after_restart(
    bootstrap: str,
    tap: KafkaTap,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    make_settings: Callable[..., Any],
    bom_lines: list[dict[str, Any]],
) -> None:
    url = await recreate_database(require_env("MES_PG_URL"), "kit_receiving_outbox_test")
    await migrate(SERVICE_DIR, url)
    # An API-only replica: it commits state and outbox rows and publishes nothing itself.
    api_only = create_app(make_settings(url, bootstrap, run_workers=False))
    token = issue_token(api_only.state.tokens.keys, subject="dock", role=Role.LOGISTICS)
    kit_type, shipment, serial = new_id("HTX"), new_id("ASN"), new_id("KIT")
    async with (
        LifespanManager(api_only),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=api_only), base_url="http://api-only") as client,
    ):
        for path, body in (
            ("/kit-types", {"code": kit_type, "model": "HTX", "variant": "tractor", "lines": bom_lines}),
            ("/shipments", asn(shipment, kit_type, [serial])),
        ):
            r = await client.post(
                path, json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            )
            assert r.status_code == 201, r.text

    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session:
            assert await pending_count(session) == 3  # BOM published, kit announced, shipment announced
        relay = OutboxRelay(
            service="kit-receiving", session_factory=sessions, bootstrap_servers=bootstrap, listen_dsn=asyncpg_dsn(url)
        )
        await relay.start()
        try:
            [announced] = await tap.wait_for(serial, 1)
            [shipment_event] = await tap.wait_for(shipment, 1)
            [bom_event] = await tap.wait_for(kit_type, 1)
            await eventually(lambda: _none_pending(sessions), what="the relay marking its rows published")
        finally:
            await relay.stop()
        async with sessions() as session:
            assert await pending_count(session) == 0
            relayed = await session.scalar(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"))
            assert relayed == 3
    finally:
        await engine.dispose()
    assert (announced.type, shipment_event.type, bom_event.type) == (
        "mes.kit.announced.v1",
        "mes.shipment.announced.v1",
        "mes.kit-type.bom-published.v1",
    )
    assert len(tap.envelopes(serial)) == len(tap.envelopes(shipment)) == 1


async def _none_pending(sessions: SessionFactory) -> bool:
    async with sessions() as session:
        return await pending_count(session) == 0
