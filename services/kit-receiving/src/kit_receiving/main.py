"""kit-receiving's composition root. Run with
`uvicorn --factory kit_receiving.main:create_app --http mes_shared.http_server:ProblemHTTPProtocol --ws none`
as deploy/scripts/services.sh does."""

from fastapi import FastAPI

from kit_receiving.api.errors import install_domain_errors
from kit_receiving.api.routes import router
from kit_receiving.service.consumers import SUBSCRIPTIONS
from kit_receiving.settings import SERVICE, Settings
from mes_shared.runtime import Runtime
from mes_shared.service_app import create_service_app
from mes_shared.settings import ServiceSettings

DESCRIPTION = """Kits from the sister plant: kit types and their BOMs, shipments (ASN), receipt at the dock
against the BOM, discrepancies with CKD claim codes, quarantine, resolution and release to the line.

Every write needs an `Idempotency-Key` header; every error is `application/problem+json` (RFC 9457)."""


def _runtime(settings: ServiceSettings) -> Runtime:
    return Runtime.build(SERVICE, settings, SUBSCRIPTIONS)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        service=SERVICE,
        settings=settings or Settings(),
        title="MES kit-receiving",
        description=DESCRIPTION,
        routers=[router],
        runtime_factory=_runtime,
        configure=install_domain_errors,
    )
