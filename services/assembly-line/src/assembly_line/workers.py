"""Workers-only process (outbox relay and consumers, no HTTP): `python -m assembly_line.workers`."""

import asyncio

from assembly_line.main import build_runtime
from assembly_line.settings import SERVICE, Settings
from mes_shared.observability import configure_logging


def main() -> None:
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(build_runtime(settings).run_forever())


if __name__ == "__main__":
    main()
