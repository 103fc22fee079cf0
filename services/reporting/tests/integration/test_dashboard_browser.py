"""The dashboard in a real headless browser: Debian's chromium driven by Playwright's Python package.

The page loads with a read (manager) token, shows the line's figures, and a figure changes after a new
event is published, without reloading the page. A screenshot is kept as `test-artifacts/dashboard.png`.

Needs the system package `chromium` (or MES_CHROMIUM=/path/to/chrome) and the `playwright` Python package;
no browser is downloaded. MES_SKIP_BROWSER=1 skips it on a machine without them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from reporting_plant import build_plant, completion
from reporting_support import REPO, Api, Bus, Served, token

from mes_shared.auth import Role

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"


def chromium_path() -> str:
    path = os.environ.get("MES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("MES_SKIP_BROWSER") == "1":
            pytest.skip("no chromium (MES_SKIP_BROWSER=1)")
        pytest.fail("the browser test needs Debian's chromium package (apt-get install chromium) or MES_CHROMIUM")
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        if os.environ.get("MES_SKIP_BROWSER") == "1":
            pytest.skip("no playwright (MES_SKIP_BROWSER=1)")
        pytest.fail("the browser test needs the playwright package: pip install -e 'services/reporting[test]'")
    profile = tempfile.mkdtemp(prefix="mes-dashboard-")
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1920, "height": 1080},
        )
        try:
            yield context
        finally:
            await context.close()
            shutil.rmtree(profile, ignore_errors=True)


async def text_of(page: Any, testid: str) -> str:
    return (await page.locator(f"[data-testid={testid}]").inner_text()).strip()


async def test_the_dashboard_shows_the_figures_and_moves_with_a_new_event(
    browser: Any, served: Served, bus: Bus, planner: Api, manager: Api
) -> None:
    from playwright.async_api import expect

    plant = build_plant(datetime.now(UTC))
    line = plant.line
    year = plant.now.year
    assert (await planner.put(f"/targets/{line}/{year}", {"annual": 2000})).status_code == 200
    ramp = {"points": [{"date": f"{year}-01-05", "wip": 18}, {"date": f"{year}-02-27", "wip": 50}]}
    assert (await planner.put(f"/targets/{line}/wip-ramp", ramp)).status_code == 200
    await bus.publish(*plant.envelopes)

    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{served.url}/dashboard?line={line}&token={token(Role.MANAGER, 'wall-screen')}")

    # Locator assertions run in Playwright's own world: the page's CSP (no eval) stays on.
    await expect(page.get_by_test_id("today-actual")).to_have_text(str(plant.built_today), timeout=15_000)
    assert "token=" not in page.url  # the token is kept in the browser, not in the address bar
    assert await text_of(page, "ytd-actual") == f"{plant.built_this_year:,}"
    assert await text_of(page, "wip-total") == str(plant.wip)
    assert await text_of(page, "andon-count") == str(plant.open_andons)
    assert await text_of(page, "annual-target") == "2,000"
    assert await text_of(page, "kits-usable") == "12"  # the kits of the model this line builds
    assert await text_of(page, "held-trucks") == "1"
    assert (await text_of(page, "forecast")) not in ("", "\N{EN DASH}")
    assert (await text_of(page, "fpy")).endswith("%")
    assert await page.locator("#curve path.actual").get_attribute("d")
    assert await page.locator("#wip-stations li").count() == 6
    await expect(page.get_by_test_id("status")).to_have_attribute("data-state", "live")
    load_id = await page.evaluate("document.body.dataset.loadId")
    renders = await page.evaluate("window.__dashboard.renders")

    # A truck leaves the line: the count moves on the open page.
    published = time.monotonic()
    await bus.send(completion(line, datetime.now(UTC), model=plant.model))
    await expect(page.get_by_test_id("today-actual")).to_have_text(str(plant.built_today + 1), timeout=10_000)
    latency = time.monotonic() - published
    assert await page.evaluate("document.body.dataset.loadId") == load_id, "the page was reloaded"
    assert await page.evaluate("window.__dashboard.renders") > renders
    assert latency < 2.0, f"the dashboard took {latency:.2f}s to show the new truck"
    print(f"dashboard moved {latency * 1000:.0f} ms after the event was acknowledged by Kafka")

    assert await text_of(page, "ytd-actual") == f"{plant.built_this_year + 1:,}"
    await asyncio.sleep(0)  # let the last frame paint
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=False)
    assert not problems, problems


async def test_the_page_asks_for_a_token_and_says_why_one_is_refused(browser: Any, served: Served) -> None:
    from playwright.async_api import expect

    page = await browser.new_page()
    await page.goto(f"{served.url}/dashboard")
    await expect(page.locator("dialog#login")).to_have_attribute("open", "")
    await page.fill("#login-token", "not-a-token")
    await page.click("dialog button")
    await expect(page.locator("#login-error")).to_contain_text("not valid")
    await expect(page.locator("dialog#login")).to_have_attribute("open", "")
