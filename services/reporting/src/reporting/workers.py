"""Workers-only process (the projection consumer, no HTTP): `python -m reporting.workers`."""

import asyncio

from mes_shared.observability import configure_logging
from reporting.service.runtime import ReportingRuntime
from reporting.settings import SERVICE, Settings


def main() -> None:
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(ReportingRuntime.create(settings).run_forever())


if __name__ == "__main__":
    main()
