"""workforce's composition root. Run with
`uvicorn --factory workforce.main:create_app --http mes_shared.http_server:ProblemHTTPProtocol --ws none`
as deploy/scripts/services.sh does."""

from fastapi import FastAPI

from mes_shared.service_app import create_service_app
from workforce.api.errors import install_domain_errors
from workforce.api.routes import routers
from workforce.runtime import build_runtime
from workforce.settings import SERVICE, Settings

DESCRIPTION = """The plant's people: employees with their origin (transferred, recalled from idle, new hire)
and dated status, HR's CSV import, the recall programme and its progress, qualifications per station or
skill with expiry, the plant calendar per line (the source of planned working time), rosters, clock-in and
clock-out at station terminals, and staffing coverage per station and shift.

Every write needs an `Idempotency-Key` header; every error is `application/problem+json` (RFC 9457) with
the broken `rule`. Lines and stations are those assembly-line configures (`mes.line.configured.v1`)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        service=SERVICE,
        settings=settings,
        title="MES workforce",
        description=DESCRIPTION,
        routers=routers,
        runtime_factory=build_runtime,
        configure=install_domain_errors,
        # HR's CSV file: the route itself refuses one over import_max_bytes, with the import's own rule.
        body_limits={"/employees/import": max(settings.max_bulk_body_bytes, settings.import_max_bytes)},
    )
