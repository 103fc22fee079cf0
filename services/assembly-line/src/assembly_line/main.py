"""assembly-line's composition root. Run with
`uvicorn --factory assembly_line.main:create_app --http mes_shared.http_server:ProblemHTTPProtocol --ws none`
as deploy/scripts/services.sh does."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assembly_line.adapters.terminal_pool import open_terminal_pool
from assembly_line.api import build_orders, configuration, reads, station_events
from assembly_line.api.errors import install_domain_errors
from assembly_line.service.consumers import on_kits_event, on_people_event
from assembly_line.service.station_events import LineCache
from assembly_line.settings import SERVICE, Settings
from mes_shared.runtime import Runtime, Subscription
from mes_shared.service_app import create_service_app
from mes_shared.settings import ServiceSettings
from mes_shared.topics import KITS, PEOPLE

DESCRIPTION = """The assembly line: lines and their stations, vehicle models and routes, build orders that bind a
VIN to a released kit, and every operator action at every station posted by the line terminals, judged
against the route, the operator's clock-in and qualification, build-short holds and the quality gate.

Terminals post to `/stations/{station}/events` (or a backlog to `/stations/{station}/events:batch`); their
own `terminal_event_id` makes a resend harmless. Every other write needs an `Idempotency-Key` header. Every
error is `application/problem+json` (RFC 9457); a refusal by a rule carries the rule's code in `rule`."""


def build_runtime(settings: ServiceSettings) -> Runtime:
    return Runtime.build(
        SERVICE,
        settings,
        (
            Subscription("kits", (KITS.name,), on_kits_event),
            Subscription("people", (PEOPLE.name,), on_people_event),
        ),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    def configure(app: FastAPI) -> None:
        app.state.settings = settings
        app.state.line_cache = LineCache()
        install_domain_errors(app)
        service_lifespan = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with service_lifespan(app):
                app.state.terminal_pool = await open_terminal_pool(
                    settings.database_url, size=settings.terminal_pool_size, application_name=SERVICE
                )
                _tune_gc()
                try:
                    yield
                finally:
                    await app.state.terminal_pool.close()

        app.router.lifespan_context = lifespan

    return create_service_app(
        service=SERVICE,
        settings=settings,
        title="MES assembly-line",
        description=DESCRIPTION,
        # Routes are matched in order: the terminals' hot path first (no path of the others overlaps it).
        routers=[station_events.router, configuration.router, build_orders.router, reads.router],
        runtime_factory=build_runtime,
        configure=configure,
        # A terminal's backlog may be larger than any single request (up to max_batch_events events).
        body_limits={"/stations/{station}/events:batch": settings.max_bulk_body_bytes},
    )


def _tune_gc() -> None:
    """Every request allocates thousands of short-lived objects; the default thresholds run a young collection
    several times per request and now and then a full one over every object the imports created. What exists
    once the service has started lives as long as the process: it is left out of collections for good, and
    young collections run less often (cycles are rare here; memory is freed by reference counting)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
