"""`./mes up` starts the plant simulator in demo mode: within two minutes of the command, the dashboard it
links to shows a line with trucks in assembly, and the figures keep changing."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mes_shared.testing import eventually

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PIDFILE = ROOT / ".run" / "pids" / "simulator.pid"
NEWCOMER_PATIENCE_S = 120.0


async def _mes(*args: str, timeout_s: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / "mes"), *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode == 0, f"./mes {' '.join(args)} failed:\n{out.decode()}"
    return out.decode()


async def _stop_demo() -> None:
    try:
        pid = int(PIDFILE.read_text().split()[0])
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    PIDFILE.unlink(missing_ok=True)


async def test_up_starts_the_demo_plant_and_its_dashboard_moves() -> None:
    began = time.monotonic()
    try:
        up = await _mes("up", timeout_s=NEWCOMER_PATIENCE_S)
        found = re.search(r"^\s+dashboard\s+(\S+)$", up, re.MULTILINE)
        assert found, f"./mes up printed no dashboard link:\n{up}"
        link = urlsplit(found.group(1))
        query = parse_qs(link.query)
        line, token = query["line"][0], query["token"][0]
        async with httpx.AsyncClient(
            base_url=f"{link.scheme}://{link.netloc}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            page = await client.get("/dashboard", params={"line": line, "token": token})
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            seen: set[str] = set()

            async def trucks_moving() -> bool:
                r = await client.get("/dashboard/data", params={"line": line})
                assert r.status_code == 200, r.text
                view = r.json()
                seen.add(json.dumps({k: v for k, v in view.items() if k != "at"}, sort_keys=True))
                return view["wip"]["total"] > 0 and len(seen) > 2

            left = NEWCOMER_PATIENCE_S - (time.monotonic() - began)
            await eventually(trucks_moving, timeout_s=left, what=f"trucks on the demo line {line}'s dashboard")
        status = await _mes("status", timeout_s=30)
        assert re.search(r"^simulator\s+running", status, re.MULTILINE), status
    finally:
        await _stop_demo()
