"""Workers-only process (outbox relay and consumers, no HTTP): `python -m kit_receiving.workers`."""

import asyncio

from kit_receiving.service.consumers import SUBSCRIPTIONS
from kit_receiving.settings import SERVICE, Settings
from mes_shared.observability import configure_logging
from mes_shared.runtime import Runtime


def main() -> None:
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(Runtime.build(SERVICE, settings, SUBSCRIPTIONS).run_forever())


if __name__ == "__main__":
    main()
