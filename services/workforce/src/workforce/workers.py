"""Workers-only process (outbox relay, stations consumer, sweeper; no HTTP): `python -m workforce.workers`."""

import asyncio

from mes_shared.observability import configure_logging
from workforce.runtime import build_runtime
from workforce.settings import SERVICE, Settings


def main() -> None:
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(build_runtime(settings).run_forever())


if __name__ == "__main__":
    main()
