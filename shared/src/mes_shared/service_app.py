"""Builds a service's FastAPI app with everything every service has: lifespan-managed runtime,
correlation ids, metrics, problem+json errors and health endpoints."""

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from mes_shared.auth import Principal, Role, TokenVerifier, require
from mes_shared.body_gate import BodyGate
from mes_shared.commands import CommandContext
from mes_shared.db import SessionFactory
from mes_shared.observability import (
    READINESS,
    CorrelationAndMetricsMiddleware,
    configure_logging,
    metrics_endpoint,
)
from mes_shared.openapi import document_contract
from mes_shared.problems import PROBLEM_MEDIA_TYPE, ProblemDetails, install_problem_handlers, problem_response
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
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """`body_limits`: route path templates that take more than `settings.max_body_bytes` (a backlog, a file)."""
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
    app.state.tokens = TokenVerifier.for_service(service, settings)
    app.state.service = service
    # Added first, so it runs inside the correlation middleware: its 401 and 413 answers carry the id too.
    app.add_middleware(BodyGate, default_limit=settings.max_body_bytes, limits=body_limits)
    app.add_middleware(CorrelationAndMetricsMiddleware)
    install_problem_handlers(app, retry_after_s=settings.retry_after_s)
    document_contract(app)
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    if configure is not None:
        configure(app)
    return app


def health_router() -> APIRouter:
    """Liveness: the process answers. Readiness: it can accept writes (its database answers); the broker and the
    consumers are reported beside it, and only make the service `degraded` (the outbox keeps every accepted
    write while the broker is away, and a lagging consumer does not stop a terminal's request)."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="The service can accept writes (its database answers); broker and consumers reported as degraded",
        responses={
            503: {
                "model": ProblemDetails,
                "content": {PROBLEM_MEDIA_TYPE: {}},
                "description": "The database does not answer: send no traffic here for now",
            }
        },
    )
    async def ready(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness()
        ready = all(c.ok for c in checks if c.required)
        status = "ok" if all(c.ok for c in checks) else "degraded"
        for c in checks:
            READINESS.labels(c.name).set(1 if c.ok else 0)
        report = {c.name: {"ok": c.ok, "required": c.required, "detail": c.detail} for c in checks}
        if not ready:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in checks if c.required and not c.ok)
            return problem_response(
                503,
                "Not ready",
                f"the service cannot accept writes: {failed}",
                type_="/problems/not-ready",
                instance=request.url.path,
                headers={"Retry-After": str(request.app.state.faults.retry_after_s)},
                ready=False,
                checks=report,
            )
        return JSONResponse({"status": status, "ready": True, "checks": report})

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
