"""reporting's composition root. Run with
`uvicorn --factory reporting.main:create_app --http mes_shared.http_server:ProblemHTTPProtocol --ws none`
as deploy/scripts/services.sh does."""

from fastapi import FastAPI

from mes_shared.service_app import create_service_app
from reporting.api import admin, definitions, live, routes
from reporting.api.errors import install_errors
from reporting.service.runtime import runtime_factory
from reporting.settings import SERVICE, Settings

DESCRIPTION = """Management's view of the plant, folded from every domain topic: output versus target (shift,
day, week, month, year to date) with the cumulative curve, the required daily rate and the year-end forecast;
WIP, lead and cycle times and the bottleneck; FPY, DPU and the defect Pareto; andons, lost time and OEE;
kits, discrepancies and trucks held by shortages; headcount, recall, staffing and expiring qualifications;
localisation. Planners set the annual targets and the WIP ramp.

Every view is JSON, or CSV with `?format=csv` (or `Accept: text/csv`). Time ranges are `from`/`to` (local dates
in the line's time zone, or instants with offset) or a `period` containing `at`; `at` shows a view as it was
at that instant. `GET /stream` pushes a Server-Sent Event naming the views each committed batch changed;
`GET /dashboard` is the wall-screen page. Every error is `application/problem+json` (RFC 9457).

Rules common to every figure (each view's description defines its own):

""" + definitions.common_description()


def create_app(settings: Settings | None = None) -> FastAPI:
    config = settings or Settings()

    def configure(app: FastAPI) -> None:
        app.state.settings = config
        install_errors(app)

    return create_service_app(
        service=SERVICE,
        settings=config,
        title="MES reporting",
        description=DESCRIPTION,
        routers=[routes.router, live.router, admin.router],
        runtime_factory=runtime_factory,
        configure=configure,
    )
