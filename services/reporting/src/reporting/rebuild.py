"""Rebuild every projection from the start of the topics into a fresh schema while the live views keep
serving, then swap it in: `python -m reporting.rebuild` (with the service's REPORTING_* settings).

Exit status: 0 swapped, 1 failed, 2 another rebuild is running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from mes_shared.db import make_engine
from mes_shared.observability import configure_logging
from reporting.projections import store
from reporting.projections.rebuild import MIN_BATCH, Rebuilder, RebuildRunning, RebuildStatus
from reporting.settings import SERVICE, Settings

log = logging.getLogger("reporting.rebuild")


def _progress(status: RebuildStatus) -> None:
    log.info(
        "rebuild %d: %d records read, %d events folded, %.0f s",
        status.id,
        status.records_read,
        status.events_applied,
        status.seconds,
    )


async def rebuild(settings: Settings, requested_by: str) -> RebuildStatus:
    engine = make_engine(settings.database_url, pool_size=4, application_name=f"{SERVICE}-rebuild")
    try:
        await store.ensure_active(engine)
        rebuilder = Rebuilder(
            engine,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            requested_by=requested_by,
            batch_size=max(settings.projection_batch_size, MIN_BATCH),
            swap_attempts=settings.rebuild_swap_attempts,
            kafka_timeout_s=settings.kafka_send_timeout_s,
            on_progress=_progress,
        )
        return await rebuilder.run()
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reporting.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requested-by", default="cli", help="who asked for it (recorded with the rebuild)")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(SERVICE, settings.log_level)
    try:
        status = asyncio.run(rebuild(settings, args.requested_by))
    except RebuildRunning as exc:
        log.error("%s", exc)
        return 2
    except Exception:
        log.exception("the rebuild failed; the live projections are unchanged")
        return 1
    log.info("rebuild %d swapped in: %s (schema %s)", status.id, status.detail, status.schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
