"""Bad input on every query parameter of every view is a 4xx `application/problem+json` naming the parameter;
so are bad path parameters, bad bodies, and calls without the right token.

The routes and their query parameters are read from the app itself, so a new parameter without a bad
value here fails this test until one is added.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from reporting_support import SECRET, Api, Bus, Served, calendar, token

from mes_shared.auth import Role, issue_token

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
BAD: dict[str, list[str]] = {
    "line": ["bad line!", "", "x" * 65],
    "at": ["yesterday", "2026-11-26T10:00:00", "1999-01-01T00:00:00Z", "2026-11-26T25:00:00Z"],
    "from": ["2026-13-01", "noon", "2026-11-26T10:00:00"],
    "to": ["2026-02-30", "later"],
    "period": ["fortnight", "DAY"],
    "bucket": ["hour"],
    "by": ["colour"],
    "limit": ["0", "1001", "ten"],
    "offset": ["-1", "x"],
    "format": ["xml", "CSV"],
    "year": ["1999", "abc", "2101"],
    "within_days": ["0", "400", "many"],
    "as_of": ["26/11/2026", "2026-11-26T10:00:00Z"],
    "employee_id_prefix": ["", "a b", "x" * 65],
    "date": ["tomorrow", "2026-11-26T06:00:00Z"],
    "shift": ["A B", ""],
    "station": ["a b"],
    "kit_type": ["x y"],
    "status": ["lost"],
    "claim_code": ["Z", "m"],
    "token": [],  # tested with tokens below
}
SKIP = {"/health/live", "/health/ready", "/metrics", "/dashboard/app.js", "/dashboard/app.css"}


def get_routes(served: Served) -> dict[str, set[str]]:
    """Every GET path of the app (from its OpenAPI document) with its query parameters."""
    found: dict[str, set[str]] = {}
    for path, operations in served.app.openapi()["paths"].items():
        if "get" in operations and path not in SKIP and path != "/stream":
            found[path] = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
    return dict(sorted(found.items()))


def assert_problem(r: httpx.Response, *statuses: int, mentions: str | None = None) -> dict[str, Any]:
    assert r.status_code in statuses, (r.request.url, r.status_code, r.text)
    assert r.headers["content-type"] == PROBLEM, (r.request.url, r.headers["content-type"])
    body = r.json()
    assert body["status"] == r.status_code
    assert body["type"].startswith("/problems/") and body["title"] and body["detail"]
    if mentions is not None:
        assert mentions in body["detail"], (r.request.url, body["detail"])
    return body


@pytest.fixture(scope="module")
async def known_line(producer: Any, client: httpx.AsyncClient) -> str:
    line = f"T-BAD-{uuid.uuid4().hex[:6].upper()}"
    await Bus(producer, Api(client, Role.ADMIN)).publish(calendar(line))
    return line


def concrete(path: str, line: str) -> str:
    return path.replace("{line_id}", line).replace("{year}", "2026").replace("{rebuild_id}", "1")


async def test_every_query_parameter_refuses_bad_values(
    served: Served, manager: Api, admin: Api, known_line: str
) -> None:
    checked = 0
    routes = get_routes(served)
    assert len(routes) >= 30
    for route, names in routes.items():
        api = admin if route.startswith("/admin") else manager
        path = concrete(route, known_line)
        base = {"line": known_line} if "line" in names else {}
        for name in sorted(names):
            assert name in BAD, f"{route}: no bad values for query parameter {name!r}; add some to BAD"
            for value in BAD[name]:
                params = base | {name: value}
                r = await api.client.get(path, params=params, headers=api.headers)
                assert_problem(r, 400, 422, mentions=name)
                checked += 1
        # A parameter the route does not know is refused too, and so is one given twice.
        assert_problem(await api.client.get(path, params={"lnie": "x"}, headers=api.headers), 422, mentions="lnie")
        if names:
            name = sorted(names)[0]
            value = {"line": known_line, "format": "json", "limit": "5", "offset": "0"}.get(name, "x")
            twice = httpx.QueryParams([(name, value), (name, value)])
            r = await api.client.get(path, params=twice, headers=api.headers)
            assert_problem(r, 422, mentions=name)
    assert checked > 150


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({"from": "2026-11-05", "to": "2026-11-04"}, "range.empty"),
        ({"from": "2026-11-05", "period": "day"}, "range.ambiguous"),
        ({"to": "2026-11-05"}, "range.from-required"),
        ({"from": "2024-01-01", "to": "2026-11-05"}, "range.too-long"),
    ],
)
async def test_inconsistent_ranges(manager: Api, known_line: str, params: dict[str, str], rule: str) -> None:
    r = await manager.get("/quality", line=known_line, **params)
    assert assert_problem(r, 422)["rule"] == rule


async def test_unknown_lines_and_ambiguous_ones(manager: Api, bus: Bus, known_line: str) -> None:
    body = assert_problem(await manager.get("/output", line="NO-SUCH-LINE"), 404, mentions="NO-SUCH-LINE")
    assert body["rule"] == "line.unknown"
    # With two lines or more, the output needs one named.
    await bus.publish(calendar(f"{known_line}-2"))
    assert assert_problem(await manager.get("/output"), 422)["rule"] == "line.required"
    assert_problem(await manager.get("/lines/NO-SUCH-LINE/calendar"), 404)
    assert_problem(await manager.get("/targets/NO-SUCH-LINE/2026"), 404)
    assert_problem(await manager.get("/targets/NO-SUCH-LINE/wip-ramp"), 404)


async def test_bad_path_parameters(manager: Api, admin: Api, known_line: str) -> None:
    assert_problem(await manager.get(f"/targets/{known_line}/1999"), 422, mentions="year")
    assert_problem(await manager.get("/targets/bad%20line/2026"), 422, mentions="line_id")
    assert_problem(await manager.get("/lines/bad%20line/calendar"), 422, mentions="line_id")
    assert_problem(await admin.get("/admin/rebuilds/0"), 422, mentions="rebuild_id")
    assert_problem(await admin.get("/admin/rebuilds/999999"), 404)


async def test_bad_target_bodies(planner: Api, known_line: str) -> None:
    path = f"/targets/{known_line}/2026"
    for body, field in [
        ({"annual": -1}, "annual"),
        ({"annual": "many"}, "annual"),
        ({}, "annual"),
        ({"annual": 10, "monthly": {"13": 1}}, "monthly"),
        ({"annual": 10, "monthly": {"01": 1}}, "monthly"),
        ({"annual": 10, "monthly": {"1": -1}}, "monthly"),
        ({"annual": 10, "surprise": 1}, "surprise"),
    ]:
        assert_problem(await planner.put(path, body), 422, mentions=field)
    refused = assert_problem(await planner.put(path, {"annual": 10, "monthly": {"1": 11}}), 422)
    assert refused["rule"] == "target.months.exceed-annual"
    twelve = {str(m): 1 for m in range(1, 13)}
    assert (
        assert_problem(await planner.put(path, {"annual": 20, "monthly": twelve}), 422)["rule"] == "target.months.sum"
    )
    ramp = f"/targets/{known_line}/wip-ramp"
    assert_problem(await planner.put(ramp, {"points": []}), 422, mentions="points")
    same_day = {"points": [{"date": "2026-01-31", "wip": 50}, {"date": "2026-01-31", "wip": 40}]}
    assert assert_problem(await planner.put(ramp, same_day), 422)["rule"] == "wip-ramp.duplicate-date"
    assert_problem(await planner.put(ramp, {"points": [{"date": "someday", "wip": 5}]}), 422, mentions="date")
    headers = planner.headers | {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
    assert_problem(await planner.client.put(path, content=b"{not json", headers=headers), 400)
    assert_problem(await planner.client.put(path, json={"annual": 5}, headers=planner.headers), 400)
    key = str(uuid.uuid4())
    assert (await planner.put(path, {"annual": 5}, key=key)).status_code == 200
    again = await planner.put(path, {"annual": 5}, key=key)
    assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    assert_problem(await planner.put(path, {"annual": 6}, key=key), 422, mentions=key)
    assert_problem(await planner.client.put(f"{path}?x=1", json={"annual": 5}, headers=planner.headers), 422)


async def test_tokens_and_roles(served: Served, client: httpx.AsyncClient, known_line: str) -> None:
    terminal = issue_token(SECRET, subject="t-1", role=Role.TERMINAL, stations=["ST-01"])
    for route in get_routes(served):
        if route == "/dashboard":
            continue  # the page itself holds no data
        path = concrete(route, known_line)
        assert_problem(await client.get(path), 401)
        assert_problem(await client.get(path, headers={"Authorization": "Bearer nonsense"}), 401)
        for role in (Role.LOGISTICS, Role.SUPERVISOR):
            assert_problem(await client.get(path, headers={"Authorization": f"Bearer {token(role)}"}), 403)
        assert_problem(await client.get(path, headers={"Authorization": f"Bearer {terminal}"}), 403)
    target = f"/targets/{known_line}/2026"
    for role in (Role.MANAGER, Role.SUPERVISOR, Role.LOGISTICS):
        r = await client.put(
            target, json={"annual": 1}, headers={"Authorization": f"Bearer {token(role)}", "Idempotency-Key": "k"}
        )
        assert_problem(r, 403)
    # A token in the URL is taken only by the stream and the dashboard's data, and only a manager's.
    data = "/dashboard/data"
    assert_problem(await client.get(data, params={"line": known_line, "token": "nonsense"}), 401)
    assert_problem(await client.get(data, params={"line": known_line, "token": token(Role.PLANNER)}), 403)
    ok = await client.get(data, params={"line": known_line, "token": token(Role.MANAGER)})
    assert ok.status_code == 200, ok.text
    assert_problem(await client.get("/output", params={"line": known_line, "token": token(Role.MANAGER)}), 401, 422)
