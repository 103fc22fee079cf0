"""Every refusal is a 4xx `application/problem+json` that says what was wrong, and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from mes_shared.auth import Role
from workforce.main import create_app

HEADER = "employee_id,badge_id,name,origin,status,status_since\n"


def good_row(tag: str) -> str:
    return f"{tag},B{tag},Good Row,transferred,active,2025-06-01\n"


@pytest.mark.parametrize(
    ("raw", "status", "rule"),
    [
        ((HEADER + '{tag},B{tag},"Broken"quote,transferred,active,2025-06-01\n').encode(), 400, "import.csv.malformed"),
        ((HEADER + '{tag},B{tag},"never closed,transferred,active,2025-06-01\n').encode(), 400, "import.csv.malformed"),
        (
            (HEADER + "{tag},B{tag},Jos\xe9,transferred,active,2025-06-01\n").encode("latin-1"),
            400,
            "import.csv.encoding",
        ),
        (b"\x00\x01\x02binary", 400, "import.csv.malformed"),
        (("id,badge,full_name\n" + "{tag},B{tag},Ana\n").encode(), 422, "import.csv.header"),
        (b"", 422, "import.csv.empty"),
    ],
)
async def test_a_malformed_csv_is_refused_whole(
    raw: bytes, status: int, rule: str, api: Any, db: Any, tools: SimpleNamespace
) -> None:
    tag = "M" + uuid.uuid4().hex[:8].upper()
    # A good row first: a refused file takes none of its rows.
    body = raw.replace(b"{tag}", tag.encode())
    if rule not in ("import.csv.header", "import.csv.empty") and b"\x00" not in raw:
        body = body.replace(b"\n", b"\n" + good_row(tag + "G").encode(), 1)
    mark = await db.outbox_mark()
    key = "csv-" + tag
    r = await api.post_csv("/employees/import", body, key=key)
    tools.assert_problem(r, status, rule=rule)
    assert await db.outbox_since(mark) == []
    assert await db.count("employees", "employee_id LIKE $1", tag + "%") == 0
    assert await db.idempotency_keys(key) == 0


async def test_the_csv_must_be_sent_as_csv(api: Any, db: Any, tools: SimpleNamespace) -> None:
    tag = "J" + uuid.uuid4().hex[:8].upper()
    r = await api.post_csv("/employees/import", (HEADER + good_row(tag)).encode(), content_type="application/json")
    tools.assert_problem(r, 415, rule="import.csv.media-type")
    r = await api.post("/employees/import", [{"employee_id": tag}])
    tools.assert_problem(r, 415, rule="import.csv.media-type")
    r = await api.client.post(
        "/employees/import",
        content=(HEADER + good_row(tag)).encode(),
        headers=api.headers | {"Content-Type": "text/csv"},
    )
    tools.assert_problem(r, 400, type_="/problems/idempotency-key-required")
    assert await db.count("employees", "employee_id = $1", tag) == 0


@pytest.fixture
async def small_imports(
    database_url: str, bootstrap: str, make_settings: Callable[..., Any], tools: SimpleNamespace
) -> AsyncIterator[Any]:
    """An API-only replica that accepts at most 1 KiB and 3 rows per file."""
    replica = create_app(
        make_settings(database_url, bootstrap, run_workers=False, import_max_bytes=1024, import_max_rows=3)
    )
    async with (
        LifespanManager(replica),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=replica), base_url="http://small") as client,
    ):
        yield tools.Api(client)


async def test_file_size_and_row_count_are_bounded(small_imports: Any, db: Any, tools: SimpleNamespace) -> None:
    tag = "Z" + uuid.uuid4().hex[:8].upper()
    big = (HEADER + good_row(tag) + "# " + "x" * 2000 + "\n").encode()
    tools.assert_problem(await small_imports.post_csv("/employees/import", big), 413, rule="import.csv.too-large")
    many = (HEADER + "".join(good_row(f"{tag}-{n}") for n in range(4))).encode()
    tools.assert_problem(await small_imports.post_csv("/employees/import", many), 413, rule="import.csv.too-many-rows")
    assert await db.count("employees", "employee_id LIKE $1", tag + "%") == 0
    three = (HEADER + "".join(good_row(f"{tag}-{n}") for n in range(3))).encode()
    r = await small_imports.post_csv("/employees/import", three)
    assert r.status_code == 200 and r.json()["summary"]["created"] == 3, r.text


async def test_bad_json_bodies(api: Any, make_employee: Callable[..., Any], db: Any, tools: SimpleNamespace) -> None:
    eid = (await make_employee())["employee_id"]
    mark = await db.outbox_mark()
    r = await api.client.post(
        "/employees",
        content=b'{"employee_id": ',
        headers=api.headers | {"Content-Type": "application/json", "Idempotency-Key": "bad-json-" + eid},
    )
    tools.assert_problem(r, 400, type_="/problems/malformed-json")
    good = {
        "employee_id": "N" + eid,
        "badge_id": "NB" + eid,
        "name": "New Hire",
        "origin": "new_hire",
        "status": "active",
        "status_since": "2026-01-05",
    }
    for bad, field in (
        (good | {"shoe_size": 44}, "shoe_size"),
        (good | {"origin": "borrowed"}, "origin"),
        (good | {"status": "retired"}, "status"),
        (good | {"employee_id": "has space"}, "employee_id"),
        (good | {"name": "   "}, "name"),
        (good | {"status_since": "2026-13-01"}, "status_since"),
    ):
        body = tools.assert_problem(await api.post("/employees", bad), 422, type_="/problems/invalid-request")
        assert field in {e["field"] for e in body["errors"]}, body
    future = good | {"status_since": "2099-01-01"}
    tools.assert_problem(await api.post("/employees", future), 422, rule="employee.status-since.future")
    r = await api.post(
        f"/employees/{eid}/status", {"to_status": "on_leave", "reason": "x", "effective_date": "2099-01-01"}
    )
    tools.assert_problem(r, 422, rule="employee.status.future-date")
    r = await api.post(
        f"/employees/{eid}/status", {"to_status": "on_leave", "reason": "x", "effective_date": "2000-01-01"}
    )
    tools.assert_problem(r, 422, rule="employee.status.before-current")
    tools.assert_problem(await api.patch(f"/employees/{eid}", {}), 422, type_="/problems/invalid-request")
    tools.assert_problem(await api.post("/employees/NOBODY-X/status", {"to_status": "left", "reason": "x"}), 404)
    tools.assert_problem(await api.get("/employees/NOBODY-X"), 404)
    assert await db.outbox_since(mark) == []
    assert await db.count("employees", "employee_id = $1", "N" + eid) == 0


async def test_idempotency_keys(api: Any, make_employee: Callable[..., Any], tools: SimpleNamespace) -> None:
    eid = (await make_employee())["employee_id"]
    key = "status-" + eid
    first = await api.post(f"/employees/{eid}/status", {"to_status": "on_leave", "reason": "leave"}, key=key)
    again = await api.post(f"/employees/{eid}/status", {"to_status": "on_leave", "reason": "leave"}, key=key)
    assert first.status_code == again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    other = await api.post(f"/employees/{eid}/status", {"to_status": "left", "reason": "quit"}, key=key)
    tools.assert_problem(other, 422, type_="/problems/idempotency-key-reused")
    r = await api.client.post(
        f"/employees/{eid}/status", json={"to_status": "left", "reason": "quit"}, headers=api.headers
    )
    tools.assert_problem(r, 400, type_="/problems/idempotency-key-required")


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        (Role.MANAGER, "POST", "/employees"),
        (Role.PLANNER, "POST", "/recall/goals"),
        (Role.TERMINAL, "GET", "/employees"),
        (Role.TERMINAL, "POST", "/employees/import"),
        (Role.LOGISTICS, "GET", "/headcount"),
        (Role.MANAGER, "PUT", "/lines/L1/calendar"),
        (Role.PLANNER, "POST", "/clock-ins"),
    ],
)
async def test_roles(role: Role, method: str, path: str, api_as: Callable[..., Any], tools: SimpleNamespace) -> None:
    caller = api_as(role, stations=["ST-01"] if role is Role.TERMINAL else None)
    r = await caller.client.request(method, path, json={}, headers=caller.headers | {"Idempotency-Key": "k"})
    tools.assert_problem(r, 403, type_="/problems/role-not-allowed")


@pytest.mark.parametrize(
    "path",
    ["/employees", "/headcount", "/lines", "/recall/progress", "/qualifications/expiring"],
)
async def test_reads_need_a_token(path: str, client: httpx.AsyncClient, tools: SimpleNamespace) -> None:
    tools.assert_problem(await client.get(path), 401, type_="/problems/unauthorized")


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["sweeper"]["ok"]
    assert any(name.endswith(".stations") and c["ok"] for name, c in checks.items() if name.startswith("consumer:"))
