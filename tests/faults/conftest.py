"""The fault suite's tools: crash and bring back pieces of the stack `./mes` runs, and write down what each
fault did.

Pieces are killed and started through `./mes piece` (the same pid files and start functions as `./mes up`).
Whatever a test broke is put right in the fixture's teardown, even when the test fails: killed pieces are
started again and every database accepts connections again, so the tests after it see a whole stack.
The suite runs last in `./mes test`, after every other test.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".run" / "faults-results.json"
SERVICES = ("kit-receiving", "assembly-line", "workforce", "reporting")
PIECE_TIMEOUT_S = 180.0


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Faults last: every other test runs on a stack that was never crashed."""
    here = Path(__file__).parent
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(here))


def database_of(service: str) -> str:
    return service.replace("-", "_")


class Pieces:
    """Kill -9 and start pieces of the local stack; remembers what it broke so that it can be put right."""

    def __init__(self) -> None:
        self.killed: set[str] = set()
        self.refusing: set[str] = set()

    async def _mes(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(ROOT / "mes"), *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), PIECE_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"./mes {' '.join(args)} did not finish within {PIECE_TIMEOUT_S:.0f} s") from None
        text = out.decode(errors="replace")
        assert proc.returncode == 0, f"./mes {' '.join(args)} failed ({proc.returncode}):\n{text}"
        return text

    async def kill(self, piece: str) -> float:
        """kill -9; returns the monotonic time of the kill."""
        self.killed.add(piece)
        await self._mes("piece", "kill", piece)
        return time.monotonic()

    async def start(self, piece: str) -> float:
        """Start a piece as `./mes up` does; returns how long it took to be ready."""
        began = time.monotonic()
        await self._mes("piece", "start", piece)
        self.killed.discard(piece)
        return time.monotonic() - began

    async def refuse_connections(self, service: str) -> None:
        """The service's database refuses new connections and drops the ones it has (as an outage would)."""
        db = database_of(service)
        self.refusing.add(db)
        await self._mes("piece", "sql", f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
        await self._mes(
            "piece", "sql", f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"
        )

    async def accept_connections(self, service: str) -> None:
        db = database_of(service)
        await self._mes("piece", "sql", f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
        self.refusing.discard(db)

    async def restore(self) -> None:
        """Put right whatever is still broken: PostgreSQL first (everything needs it), then Kafka, then services."""
        order = ["postgres", "kafka", *SERVICES]
        for piece in sorted(self.killed, key=order.index):
            await self.start(piece)
        for db in sorted(self.refusing):
            await self._mes("piece", "sql", f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
        self.refusing.clear()


@pytest.fixture
async def pieces() -> AsyncIterator[Pieces]:
    broken = Pieces()
    try:
        yield broken
    finally:
        await broken.restore()


class FaultResults:
    """Per fault: the load, what clients saw, recovery, accepted, lost, double-counted, dead letters."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(self.rows, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nfault figures: {json.dumps(row, default=str)}")

    def table(self) -> str:
        head = ("fault", "load", "clients saw", "recovery", "accepted", "lost", "double", "dead letters", "verdict")
        lines = [head]
        for r in self.rows:
            lines.append(
                (
                    r["fault"],
                    f"{r['load']['requests_per_s']} req/s, {r['load']['events']} events",
                    " ".join(f"{k}:{v}" for k, v in sorted(r["clients"]["statuses"].items())),
                    f"{r['recovery_s']} s",
                    str(r["accepted"]["requests"]),
                    str(r["lost"]["total"]),
                    str(r["double_counted"]),
                    str(r["dead_letters"]["count"]),
                    "ok" if not r["failures"] else f"{len(r['failures'])} failed",
                )
            )
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
        return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines)


_RESULTS = FaultResults()


@pytest.fixture(scope="session")
def fault_results() -> FaultResults:
    return _RESULTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _RESULTS.rows:
        terminalreporter.section("fault suite (also in .run/faults-results.json)")
        terminalreporter.write_line(_RESULTS.table())
