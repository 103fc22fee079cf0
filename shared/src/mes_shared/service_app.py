"""Builds a service's FastAPI app with everything every service has: lifespan-managed runtime,
correlation ids, metrics, problem+json errors and health endpoints."""

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from mes_shared.auth import Principal, Role, require
from mes_shared.commands import CommandContext
from mes_shared.db import SessionFactory
from mes_shared.observability import CorrelationAndMetricsMiddleware, configure_logging, metrics_endpoint
from mes_shared.openapi import document_contract
from mes_shared.problems import install_problem_handlers
from mes_shared.runtime import Runtime
from mes_shared.settings import ServiceSettings


def create_service_app(
    *,
    service: str,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    runtime_factory: Callable[[ServiceSettings], Runtime],
    configure: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    configure_logging(service, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = runtime_factory(settings)
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.auth_secret = settings.auth_secret.get_secret_value()
    app.state.service = service
    app.add_middleware(CorrelationAndMetricsMiddleware)
    install_problem_handlers(app)
    document_contract(app)
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    if configure is not None:
        configure(app)
    return app


def health_router() -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Database, broker and consumers are usable")
    async def ready(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness()
        ok = all(c.ok for c in checks)
        body = {
            "status": "ok" if ok else "unavailable",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return router


def sessions_of(request: Request) -> SessionFactory:
    return request.app.state.runtime.sessions


def command(*roles: Role) -> type[CommandContext]:
    """`Annotated[CommandContext, ...]` alias for write routes allowed to `roles`."""

    async def build(request: Request, principal: Annotated[Principal, Depends(require(*roles))]) -> CommandContext:
        return CommandContext(
            request=request,
            principal=principal,
            sessions=sessions_of(request),
            source=f"/mes/{request.app.state.service}",
        )

    return Annotated[CommandContext, Depends(build)]  # type: ignore[return-value]
