"""Every refusal is a 4xx `application/problem+json` that says what was wrong, and writes nothing.

"Nothing" is checked through the API and, for the strongest cases, straight in the database: the rows
of the kits and shipments involved are byte-for-byte what they were, and no outbox row was added.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import jwt
import pytest
from fastapi import FastAPI

from mes_shared.auth import Role, issue_token
from mes_shared.testing import KafkaTap

PROBLEM = "application/problem+json"
READERS = [Role.MANAGER, Role.PLANNER, Role.SUPERVISOR]
NOTHING = {"kits": [], "discrepancies": [], "history": [], "shipments": [], "shipment_kits": []}


# ---- helpers ------------------------------------------------------------------------------------


def assert_problem(
    r: httpx.Response,
    status: int,
    *,
    type_: str | None = None,
    rule: str | None = None,
    mentions: Iterable[str] = (),
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status`; its detail names each of `mentions`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM, r.headers.get("content-type")
    body = r.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"].startswith("/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if type_ is not None:
        assert body["type"] == type_, body
    if rule is not None:
        assert body["rule"] == rule, body
        assert body["type"] == f"/problems/{rule}"
    for name in mentions:
        assert name in body["detail"], f"{name!r} not named in {body['detail']!r}"
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def assert_invalid(r: httpx.Response, *fields: str) -> dict[str, Any]:
    """A request refused by validation: 422, and `errors[].field` (and the detail) name each field."""
    body = assert_problem(r, 422, type_="/problems/invalid-request", mentions=fields)
    assert set(fields) <= error_fields(body), body
    return body


class Db:
    """Direct reads of the service's tables, to prove that a refused request wrote nothing."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def outbox_mark(self) -> int:
        return int(await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))

    async def outbox_since(self, mark: int) -> list[str]:
        rows = await self.conn.fetch("SELECT event_type, key FROM outbox WHERE id > $1 ORDER BY id", mark)
        return [f"{r['event_type']} {r['key']}" for r in rows]

    async def state(self, *, serials: Iterable[str] = (), shipments: Iterable[str] = ()) -> dict[str, Any]:
        """Every row that belongs to the given kits and shipments (missing ones simply give no rows)."""
        s, sh = sorted(serials), sorted(shipments)
        q = self.conn.fetch
        return {
            "kits": [dict(r) for r in await q("SELECT * FROM kits WHERE serial = ANY($1) ORDER BY serial", s)],
            "discrepancies": [
                dict(r) for r in await q("SELECT * FROM discrepancies WHERE serial = ANY($1) ORDER BY id", s)
            ],
            "history": [dict(r) for r in await q("SELECT * FROM kit_history WHERE serial = ANY($1) ORDER BY id", s)],
            "shipments": [
                dict(r) for r in await q("SELECT * FROM shipments WHERE shipment_id = ANY($1) ORDER BY 1", sh)
            ],
            "shipment_kits": [
                dict(r) for r in await q("SELECT * FROM kits WHERE shipment_id = ANY($1) ORDER BY serial", sh)
            ],
        }

    async def idempotency_keys(self, key: str) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
    try:
        yield Db(conn)
    finally:
        await conn.close()


async def assert_no_kit(api: Any, *serials: str) -> None:
    for serial in serials:
        assert_problem(await api.get(f"/kits/{serial}"), 404, type_="/problems/not-found", mentions=[serial])


async def assert_no_shipment(api: Any, shipment: str) -> None:
    assert_problem(await api.get(f"/shipments/{shipment}"), 404, type_="/problems/not-found", mentions=[shipment])


def bom_line(part: str, quantity: Any, **extra: Any) -> dict[str, Any]:
    return {"part_number": part, "description": part, "quantity": quantity, "station": "ST-01"} | extra


async def announced(api: Any, asn: Callable[..., dict[str, Any]], kit_type: str, *serials: str) -> str:
    shipment = "ASN-" + uuid.uuid4().hex[:10].upper()
    r = await api.post("/shipments", asn(shipment, kit_type, list(serials)))
    assert r.status_code == 201, r.text
    return shipment


async def quarantined(api: Any, serial: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    r = await api.post(f"/kits/{serial}/receipt", {"dock": "DOCK-1", "lines": lines})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "quarantined"
    return dict(r.json())


# ---- malformed requests -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/shipments", "/kit-types", "/kits/KIT-ANY/receipt"])
async def test_malformed_json_is_a_400_problem_and_writes_nothing(api: Any, db: Db, path: str) -> None:
    mark = await db.outbox_mark()
    key = "malformed-" + uuid.uuid4().hex
    r = await api.client.post(
        path,
        content=b'{"shipment_id": ',
        headers=api.headers | {"Content-Type": "application/json", "Idempotency-Key": key},
    )
    body = assert_problem(r, 400, type_="/problems/malformed-json", mentions=["not valid JSON"])
    assert body["instance"] == path
    assert await db.outbox_since(mark) == []
    assert await db.idempotency_keys(key) == 0


async def test_extra_fields_are_refused_and_named(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, serial = new_id("ASN"), new_id("KIT")
    mark = await db.outbox_mark()

    top = asn(shipment, kit_type, [serial]) | {"priority": "high"}
    body = assert_invalid(await api.post("/shipments", top), "priority")
    assert {e["type"] for e in body["errors"]} == {"extra_forbidden"}

    nested = asn(shipment, kit_type, [serial])
    nested["kits"][0]["weight_kg"] = 900
    assert_invalid(await api.post("/shipments", nested), "kits.0.weight_kg")
    await assert_no_shipment(api, shipment)
    await assert_no_kit(api, serial)

    kt = {"code": new_id("KT"), "model": "M", "variant": "V", "lines": [bom_line("P-1", 1, colour="red")]}
    assert_invalid(await api.post("/kit-types", kt), "lines.0.colour")
    assert_problem(await api.get(f"/kit-types/{kt['code']}"), 404)

    assert await db.outbox_since(mark) == []

    shipment = await announced(api, asn, kit_type, serial)
    before = await db.state(serials=[serial], shipments=[shipment])
    mark = await db.outbox_mark()
    receipt = {"dock": "D1", "lines": [{"part_number": "CAB-100", "counted": 0, "checked_by": "x"}]}
    assert_invalid(await api.post(f"/kits/{serial}/receipt", receipt), "lines.0.checked_by")
    assert_invalid(await api.post(f"/kits/{serial}/receipt", {"dock": "D1", "signed": True}), "signed")
    resolution = {"resolution": "written_off", "by": "me"}
    assert_invalid(await api.post(f"/kits/{serial}/discrepancies/{serial}-D1/resolution", resolution), "by")
    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []


async def test_wrong_types_and_blank_texts_are_refused(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, serial = new_id("ASN"), new_id("KIT")

    naive = asn(shipment, kit_type, [serial]) | {"expected_arrival": "2026-12-01T08:00:00"}
    assert_invalid(await api.post("/shipments", naive), "expected_arrival")

    no_kits = asn(shipment, kit_type, [serial]) | {"kits": []}
    assert_invalid(await api.post("/shipments", no_kits), "kits")

    bad_serial = asn(shipment, kit_type, ["has space"])
    assert_invalid(await api.post("/shipments", bad_serial), "kits.0.serial")

    # Passes the schema (non-empty) but is blank: the domain refuses it and names the field.
    blank = asn(shipment, kit_type, [serial]) | {"carrier": "   "}
    assert_invalid(await api.post("/shipments", blank), "carrier")

    not_an_object = await api.post("/shipments", ["not", "an", "object"])
    assert_problem(not_an_object, 422, type_="/problems/invalid-request")

    await assert_no_shipment(api, shipment)
    await assert_no_kit(api, serial)


# ---- kit types and BOMs -------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [-1, 0, 10_001, "two", 1.5])
async def test_bom_quantity_out_of_range_is_refused(api: Any, new_id: Callable[[str], str], quantity: Any) -> None:
    code = new_id("KT")
    body = {"code": code, "model": "M", "variant": "V", "lines": [bom_line("P-1", 1), bom_line("P-2", quantity)]}
    assert_invalid(await api.post("/kit-types", body), "lines.1.quantity")
    assert_problem(await api.get(f"/kit-types/{code}"), 404, mentions=[code])


async def test_bad_bom_version_leaves_the_current_one(api: Any, db: Db, kit_type: str) -> None:
    mark = await db.outbox_mark()
    before = (await api.get(f"/kit-types/{kit_type}")).json()

    assert_invalid(
        await api.post(f"/kit-types/{kit_type}/bom-versions", {"lines": [bom_line("P-1", 0)]}), "lines.0.quantity"
    )
    assert_invalid(await api.post(f"/kit-types/{kit_type}/bom-versions", {"lines": []}), "lines")
    twice = {"lines": [bom_line("P-1", 1), bom_line("P-1", 2)]}
    assert_problem(
        await api.post(f"/kit-types/{kit_type}/bom-versions", twice),
        422,
        rule="bom.duplicate-part",
        mentions=["P-1", kit_type],
    )
    assert_problem(
        await api.post("/kit-types/NO-SUCH-TYPE-X/bom-versions", {"lines": [bom_line("P-1", 1)]}),
        404,
        rule="kit-type.not-found",
        mentions=["NO-SUCH-TYPE-X"],
    )
    again = {"code": kit_type, "model": "M", "variant": "V", "lines": [bom_line("P-1", 1)]}
    assert_problem(await api.post("/kit-types", again), 409, rule="kit-type.exists", mentions=[kit_type])

    assert (await api.get(f"/kit-types/{kit_type}")).json() == before
    assert before["current_version"] == 1 and before["versions"] == [1]
    assert await db.outbox_since(mark) == []


# ---- shipments ----------------------------------------------------------------------------------


async def test_unknown_kit_type_in_an_asn_creates_nothing(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, good, bad = new_id("ASN"), new_id("KIT"), new_id("KIT")
    unknown = new_id("NOPE")
    body = asn(shipment, kit_type, [good, bad])
    body["kits"][1]["kit_type"] = unknown
    mark = await db.outbox_mark()
    key = "asn-" + shipment

    r = await api.post("/shipments", body, key=key)
    assert_problem(r, 422, rule="shipment.kit-type.unknown", mentions=[unknown, shipment])
    assert kit_type not in r.json()["detail"]

    await assert_no_kit(api, good, bad)
    await assert_no_shipment(api, shipment)
    assert await db.state(serials=[good, bad], shipments=[shipment]) == NOTHING
    assert await db.outbox_since(mark) == []
    assert await db.idempotency_keys(key) == 0

    # The refusal did not burn the key: the corrected ASN goes through under the same one.
    body["kits"][1]["kit_type"] = kit_type
    r = await api.post("/shipments", body, key=key)
    assert r.status_code == 201, r.text


async def test_duplicate_serial_inside_one_asn(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, serial, other = new_id("ASN"), new_id("KIT"), new_id("KIT")
    mark = await db.outbox_mark()
    r = await api.post("/shipments", asn(shipment, kit_type, [serial, other, serial]))
    assert_problem(r, 422, rule="shipment.kits.duplicate-serial", mentions=[serial, shipment])
    assert other not in r.json()["detail"]
    await assert_no_shipment(api, shipment)
    await assert_no_kit(api, serial, other)
    assert await db.outbox_since(mark) == []


async def test_duplicate_case_inside_one_kit(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, serial = new_id("ASN"), new_id("KIT")
    body = asn(shipment, kit_type, [serial])
    body["kits"][0]["cases"] = ["C-1", "C-2", "C-1"]
    assert_problem(await api.post("/shipments", body), 422, rule="kit.cases.duplicate", mentions=[serial, "C-1"])
    await assert_no_shipment(api, shipment)


async def test_serial_known_from_another_asn_is_a_conflict_and_nothing_is_created(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    first_serial, taken, fresh = new_id("KIT"), new_id("KIT"), new_id("KIT")
    first = await announced(api, asn, kit_type, first_serial, taken)
    before = await db.state(serials=[first_serial, taken, fresh], shipments=[first])
    mark = await db.outbox_mark()

    second = new_id("ASN")
    r = await api.post("/shipments", asn(second, kit_type, [fresh, taken]))
    body = assert_problem(r, 409, rule="kit.serial.duplicate", mentions=[taken, first])
    assert fresh not in body["detail"]

    await assert_no_shipment(api, second)
    await assert_no_kit(api, fresh)
    assert (await api.get(f"/kits/{taken}")).json()["shipment_id"] == first
    assert await db.state(serials=[first_serial, taken, fresh], shipments=[first]) == before
    assert await db.state(shipments=[second]) == NOTHING
    assert await db.outbox_since(mark) == []

    # A kit received unannounced blocks its serial too, and the problem says so.
    stray = new_id("STRAY")
    r = await api.post(f"/kits/{stray}/receipt", {"dock": "D1", "kit_type": kit_type})
    assert r.status_code == 200, r.text
    third = new_id("ASN")
    r = await api.post("/shipments", asn(third, kit_type, [stray]))
    assert_problem(r, 409, rule="kit.serial.duplicate", mentions=[stray, "received unannounced"])
    await assert_no_shipment(api, third)


async def test_resending_an_asn_with_other_content_is_refused(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    serial, extra = new_id("KIT"), new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    before = await db.state(serials=[serial, extra], shipments=[shipment])
    mark = await db.outbox_mark()
    r = await api.post("/shipments", asn(shipment, kit_type, [serial, extra]))
    assert_problem(r, 409, rule="shipment.announce.changed", mentions=[shipment, "PUT"])
    assert await db.state(serials=[serial, extra], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []


async def test_correction_naming_an_unknown_kit_type_leaves_the_asn_as_it_was(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    a, b, c = new_id("KIT"), new_id("KIT"), new_id("KIT")
    shipment = await announced(api, asn, kit_type, a, b)
    view_before = (await api.get(f"/shipments/{shipment}")).json()
    rows_before = await db.state(serials=[a, b, c], shipments=[shipment])
    mark = await db.outbox_mark()

    unknown = new_id("NOPE")
    correction = asn(shipment, kit_type, [a, c])
    correction.pop("shipment_id")
    correction["carrier"] = "RoadFreight"
    correction["kits"][0]["kit_type"] = unknown
    r = await api.put(f"/shipments/{shipment}", correction)
    assert_problem(r, 422, rule="shipment.kit-type.unknown", mentions=[unknown, shipment])

    assert (await api.get(f"/shipments/{shipment}")).json() == view_before
    assert await db.state(serials=[a, b, c], shipments=[shipment]) == rows_before
    await assert_no_kit(api, c)
    assert await db.outbox_since(mark) == []

    # A correction that adds a serial another ASN owns is refused the same way.
    taken = new_id("KIT")
    other = await announced(api, asn, kit_type, taken)
    correction["kits"][0]["kit_type"] = kit_type
    correction["kits"][1]["serial"] = taken
    r = await api.put(f"/shipments/{shipment}", correction)
    assert_problem(r, 409, rule="kit.serial.duplicate", mentions=[taken, other])
    assert (await api.get(f"/shipments/{shipment}")).json() == view_before
    assert await db.state(serials=[a, b, c], shipments=[shipment]) == rows_before

    # Unknown shipments cannot be corrected or cancelled.
    ghost = new_id("ASN")
    assert_problem(await api.put(f"/shipments/{ghost}", correction), 404, rule="shipment.not-found", mentions=[ghost])
    r = await api.post(f"/shipments/{ghost}/cancel", {"reason": "x"})
    assert_problem(r, 404, rule="shipment.not-found", mentions=[ghost])
    await assert_no_shipment(api, ghost)


async def test_cancel_reason_must_not_be_blank(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    assert_invalid(await api.post(f"/shipments/{shipment}/cancel", {"reason": ""}), "reason")
    before = await db.state(serials=[serial], shipments=[shipment])
    r = await api.post(f"/shipments/{shipment}/cancel", {"reason": "   "})
    assert_problem(r, 422, mentions=["reason"])
    assert await db.state(serials=[serial], shipments=[shipment]) == before


@pytest.mark.parametrize("where", ["serial", "shipment_id", "kit_type"])
async def test_an_identifier_the_api_cannot_address_is_not_accepted(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str], where: str
) -> None:
    """The body pattern allows '/', but a path segment cannot hold one: such an id must be refused up front,
    or else stay reachable (GET, receipt, correction, new BOM version) through its URL-encoded form."""
    shipment, serial = new_id("ASN"), new_id("KIT")
    if where == "kit_type":
        code = new_id("KT") + "/1"
        r = await api.post("/kit-types", {"code": code, "model": "M", "variant": "V", "lines": [bom_line("P", 1)]})
        field, ident, path = "code", code, f"/kit-types/{quote(code, safe='')}"
    else:
        if where == "serial":
            serial = f"{serial}/1"
            field, ident, path = "kits.0.serial", serial, f"/kits/{quote(serial, safe='')}"
        else:
            shipment = f"{shipment}/1"
            field, ident, path = "shipment_id", shipment, f"/shipments/{quote(shipment, safe='')}"
        r = await api.post("/shipments", asn(shipment, kit_type, [serial]))
    if r.status_code not in (200, 201):
        assert_invalid(r, field)
        return
    reachable = await api.get(path)
    assert reachable.status_code == 200, (
        f"{where} {ident} was accepted but GET {path} answers {reachable.status_code}: {reachable.text}"
    )


# ---- receipt ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"part_number": "AXL-200", "counted": -1}, "lines.0.counted"),
        ({"part_number": "AXL-200", "counted": 10_000_000}, "lines.0.counted"),
        ({"part_number": "AXL-200", "counted": "two"}, "lines.0.counted"),
        ({"part_number": "AXL-200", "counted": 2, "findings": [{"claim_code": "DT", "quantity": 0}]}, "quantity"),
        ({"part_number": "AXL-200", "counted": 2, "findings": [{"claim_code": "S", "quantity": 1}]}, "claim_code"),
        ({"part_number": "AXL-200"}, "lines.0.counted"),
    ],
)
async def test_counted_quantities_the_schema_refuses(
    api: Any,
    db: Db,
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    line: dict[str, Any],
    field: str,
) -> None:
    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    before = await db.state(serials=[serial], shipments=[shipment])
    mark = await db.outbox_mark()
    body = assert_problem(await api.post(f"/kits/{serial}/receipt", {"dock": "D1", "lines": [line]}), 422)
    assert any(field in f for f in error_fields(body)), body
    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []


@pytest.mark.parametrize(
    ("lines", "rule", "mentions"),
    [
        ([{"part_number": "CAB-100", "counted": 50_000}], "receipt.line.count-too-large", ["CAB-100", "50000"]),
        ([{"part_number": "ZZZ-1", "counted": 50_000}], "receipt.line.count-too-large", ["ZZZ-1", "50000"]),
        (
            [{"part_number": "AXL-200", "counted": 2, "findings": [{"claim_code": "D", "quantity": 3}]}],
            "receipt.finding.exceeds-count",
            ["AXL-200", "3", "2"],
        ),
        (
            [
                {
                    "part_number": "BLT-M12",
                    "counted": 48,
                    "findings": [{"claim_code": "D", "quantity": 40}, {"claim_code": "A", "quantity": 9}],
                }
            ],
            "receipt.finding.exceeds-count",
            ["BLT-M12", "49", "48"],
        ),
        (
            [{"part_number": "AXL-200", "counted": 1}, {"part_number": "AXL-200", "counted": 2}],
            "receipt.line.duplicate-part",
            ["AXL-200"],
        ),
        ([{"part_number": "ZZZ-2", "counted": 0}], "receipt.line.unknown-part-zero", ["ZZZ-2"]),
        (
            [{"part_number": "ZZZ-3", "counted": 2, "findings": [{"claim_code": "D", "quantity": 1}]}],
            "receipt.line.findings-on-unknown-part",
            ["ZZZ-3"],
        ),
    ],
)
async def test_counts_the_domain_refuses_leave_the_kit_announced(
    api: Any,
    db: Db,
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    lines: list[dict[str, Any]],
    rule: str,
    mentions: list[str],
) -> None:
    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    before = await db.state(serials=[serial], shipments=[shipment])
    assert before["kits"] and before["history"] and before["shipments"], "the snapshot sees the announced kit"
    mark = await db.outbox_mark()
    key = "scan-" + serial
    # The refused lines come after a line that would have been recorded, so a half-write would show.
    good = [{"part_number": "HRN-300", "counted": 0}]
    r = await api.post(f"/kits/{serial}/receipt", {"dock": "D1", "lines": good + lines}, key=key)
    assert_problem(r, 422, rule=rule, mentions=mentions)

    kit = (await api.get(f"/kits/{serial}")).json()
    assert kit["status"] == "announced" and kit["discrepancies"] == [] and kit["received_at"] is None
    assert [h["action"] for h in kit["history"]] == ["kit-announced"]
    assert (await api.get(f"/shipments/{shipment}")).json()["status"] == "announced"
    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []
    assert await db.idempotency_keys(key) == 0


async def test_receipt_refusals(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    stray = new_id("STRAY")
    r = await api.post(f"/kits/{stray}/receipt", {"dock": "D1"})
    assert_problem(r, 422, rule="kit.receive.unannounced-needs-type", mentions=[stray, "kit_type"])
    await assert_no_kit(api, stray)
    unknown = new_id("NOPE")
    r = await api.post(f"/kits/{stray}/receipt", {"dock": "D1", "kit_type": unknown})
    assert_problem(r, 422, rule="kit.receive.kit-type-unknown", mentions=[unknown])
    await assert_no_kit(api, stray)

    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await api.post(f"/kits/{serial}/receipt", {"dock": "D1", "received_at": future})
    assert_problem(r, 422, rule="received_at.in-future", mentions=["received_at", "future"])
    naive = {"dock": "D1", "received_at": "2025-01-01T08:00:00"}
    assert_invalid(await api.post(f"/kits/{serial}/receipt", naive), "received_at")
    r = await api.post(f"/kits/{serial}/receipt", {"dock": "D1", "kit_type": "OTHER-TYPE"})
    assert_problem(r, 422, rule="kit.receive.kit-type-mismatch", mentions=[serial, kit_type, "OTHER-TYPE"])
    assert (await api.get(f"/kits/{serial}")).json()["status"] == "announced"

    first = await api.post(
        f"/kits/{serial}/receipt", {"dock": "D1", "lines": [{"part_number": "AXL-200", "counted": 1}]}
    )
    assert first.status_code == 200, first.text
    before = await db.state(serials=[serial], shipments=[shipment])
    mark = await db.outbox_mark()
    again = await api.post(f"/kits/{serial}/receipt", {"dock": "D2"})
    assert_problem(again, 409, rule="kit.receive.already-received", mentions=[serial, "quarantined"])
    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []
    assert (await api.get(f"/kits/{serial}")).json()["dock"] == "D1"


# ---- discrepancies and release ------------------------------------------------------------------


async def test_release_with_open_discrepancies_is_refused_and_publishes_nothing(
    api: Any,
    db: Db,
    tap: KafkaTap,
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
) -> None:
    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    kit = await quarantined(
        api, serial, [{"part_number": "AXL-200", "counted": 1}, {"part_number": "CAB-100", "counted": 0}]
    )
    ids = [d["id"] for d in kit["discrepancies"]]
    assert len(ids) == 2
    before = await db.state(serials=[serial], shipments=[shipment])
    mark = await db.outbox_mark()

    r = await api.post(f"/kits/{serial}/release")
    body = assert_problem(r, 409, rule="kit.release.open-discrepancies", mentions=[serial, *ids])
    assert sorted(body["open_discrepancies"]) == sorted(ids)
    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []
    now = (await api.get(f"/kits/{serial}")).json()
    assert now["status"] == "quarantined" and now["released_at"] is None and now["released_by"] is None

    # One decision later only the other discrepancy is listed.
    r = await api.post(f"/kits/{serial}/discrepancies/{ids[0]}/resolution", {"resolution": "written_off"})
    assert r.status_code == 200, r.text
    body = assert_problem(await api.post(f"/kits/{serial}/release"), 409, rule="kit.release.open-discrepancies")
    assert body["open_discrepancies"] == [ids[1]]

    # The resolution is a later fact: once it is on the topic, a release event would be too.
    events = await tap.wait_for(serial, 6)
    assert "mes.kit.discrepancy-resolved.v1" in [e.type for e in events]
    assert "mes.kit.released.v1" not in [e.type for e in tap.envelopes(serial)]


async def test_release_of_a_kit_not_received(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    serial = new_id("KIT")
    await announced(api, asn, kit_type, serial)
    assert_problem(await api.post(f"/kits/{serial}/release"), 409, rule="kit.release.not-received", mentions=[serial])
    ghost = new_id("KIT")
    assert_problem(await api.post(f"/kits/{ghost}/release"), 404, rule="kit.not-found", mentions=[ghost])
    assert (await api.get(f"/kits/{serial}")).json()["status"] == "announced"


async def test_resolution_refusals(
    api: Any, db: Db, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    kit = await quarantined(api, serial, [{"part_number": "HRN-300", "counted": 3}])
    [surplus] = kit["discrepancies"]
    assert surplus["claim_code"] == "surplus"
    before = await db.state(serials=[serial], shipments=[shipment])
    mark = await db.outbox_mark()
    resolve = f"/kits/{serial}/discrepancies/{surplus['id']}/resolution"

    r = await api.post(resolve, {"resolution": "shortage_accepted"})
    assert_problem(r, 409, rule="discrepancy.resolve.surplus-not-shortage", mentions=[surplus["id"], "HRN-300"])

    ghost_id = f"{serial}-D99"
    r = await api.post(f"/kits/{serial}/discrepancies/{ghost_id}/resolution", {"resolution": "written_off"})
    assert_problem(r, 404, rule="kit.discrepancy.not-found", mentions=[serial, ghost_id])

    ghost_kit = new_id("KIT")
    r = await api.post(f"/kits/{ghost_kit}/discrepancies/{surplus['id']}/resolution", {"resolution": "written_off"})
    assert_problem(r, 404, rule="kit.not-found", mentions=[ghost_kit])

    assert_invalid(await api.post(resolve, {"resolution": "ignored"}), "resolution")
    assert_invalid(await api.post(resolve, {}), "resolution")

    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []

    # Closed is closed: a resolved discrepancy cannot be reopened as an accepted shortage.
    assert (await api.post(resolve, {"resolution": "written_off"})).status_code == 200
    r = await api.post(resolve, {"resolution": "replacement_received"})
    assert_problem(r, 409, rule="discrepancy.resolve.not-allowed", mentions=[surplus["id"]])


# ---- authentication and roles -------------------------------------------------------------------


def _bad_tokens(secret: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "garbage": "not-a-jwt",
        "other-secret": issue_token("another-secret-" + "y" * 40, subject="intruder", role=Role.LOGISTICS),
        "expired": issue_token(secret, subject="late", role=Role.LOGISTICS, ttl=timedelta(seconds=-1)),
        "unknown-role": jwt.encode(
            {"iss": "mes", "sub": "x", "role": "superuser", "iat": now, "exp": now + timedelta(hours=1)},
            secret,
            algorithm="HS256",
        ),
        "no-role": jwt.encode(
            {"iss": "mes", "sub": "x", "iat": now, "exp": now + timedelta(hours=1)}, secret, algorithm="HS256"
        ),
        "other-issuer": jwt.encode(
            {"iss": "elsewhere", "sub": "x", "role": "logistics", "iat": now, "exp": now + timedelta(hours=1)},
            secret,
            algorithm="HS256",
        ),
    }


BAD_TOKENS = ["garbage", "other-secret", "expired", "unknown-role", "no-role", "other-issuer"]


@pytest.mark.parametrize("kind", [*BAD_TOKENS, "missing", "basic-scheme"])
async def test_without_a_valid_token_reads_and_writes_are_401(
    client: httpx.AsyncClient,
    app: FastAPI,
    api: Any,
    db: Db,
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    kind: str,
) -> None:
    if kind == "missing":
        auth: dict[str, str] = {}
    elif kind == "basic-scheme":
        auth = {"Authorization": "Basic bG9naXN0aWNzOnNlY3JldA=="}
    else:
        auth = {"Authorization": "Bearer " + _bad_tokens(app.state.tokens.keys.signing_secret)[kind]}
    shipment, serial = new_id("ASN"), new_id("KIT")
    mark = await db.outbox_mark()

    write = await client.post(
        "/shipments", json=asn(shipment, kit_type, [serial]), headers=auth | {"Idempotency-Key": "k-" + shipment}
    )
    read = await client.get("/kits", headers=auth)
    for r in (write, read):
        body = assert_problem(r, 401, type_="/problems/unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        if kind == "expired":
            assert "expired" in body["detail"].lower()
        if kind in ("missing", "basic-scheme"):
            assert "bearer token is required" in body["detail"]
    await assert_no_shipment(api, shipment)
    assert await db.outbox_since(mark) == []


@pytest.mark.parametrize("role", [*READERS, Role.TERMINAL])
async def test_only_logistics_writes(
    api_as: Callable[[Role], Any],
    api: Any,
    db: Db,
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    role: Role,
) -> None:
    other = api_as(role)
    serial = new_id("KIT")
    shipment = await announced(api, asn, kit_type, serial)
    await quarantined(api, serial, [{"part_number": "AXL-200", "counted": 1}])
    before = await db.state(serials=[serial], shipments=[shipment])
    mark = await db.outbox_mark()
    new_shipment, new_type = new_id("ASN"), new_id("KT")
    correction = asn(shipment, kit_type, [serial]) | {"carrier": "Other"}
    correction.pop("shipment_id")

    writes = [
        await other.post("/shipments", asn(new_shipment, kit_type, [new_id("KIT")])),
        await other.post("/kit-types", {"code": new_type, "model": "M", "variant": "V", "lines": [bom_line("P", 1)]}),
        await other.post(f"/kit-types/{kit_type}/bom-versions", {"lines": [bom_line("P", 1)]}),
        await other.put(f"/shipments/{shipment}", correction),
        await other.post(f"/shipments/{shipment}/cancel", {"reason": "no"}),
        await other.post(f"/kits/{serial}/receipt", {"dock": "D1"}),
        await other.post(f"/kits/{serial}/discrepancies/{serial}-D1/resolution", {"resolution": "written_off"}),
        await other.post(f"/kits/{serial}/release"),
    ]
    for r in writes:
        body = assert_problem(r, 403, type_="/problems/role-not-allowed", mentions=[role.value, "logistics"])
        assert "admin" in body["detail"]

    await assert_no_shipment(api, new_shipment)
    assert_problem(await api.get(f"/kit-types/{new_type}"), 404)
    assert (await api.get(f"/kit-types/{kit_type}")).json()["current_version"] == 1
    assert await db.state(serials=[serial], shipments=[shipment]) == before
    assert await db.outbox_since(mark) == []


@pytest.mark.parametrize("path", ["/kits", "/kits/ANY-KIT", "/shipments", "/inventory", "/discrepancies", "/kit-types"])
async def test_a_terminal_may_not_read(api_as: Callable[[Role], Any], path: str) -> None:
    r = await api_as(Role.TERMINAL).get(path)
    assert_problem(r, 403, type_="/problems/role-not-allowed", mentions=["terminal"])


@pytest.mark.parametrize("role", [Role.LOGISTICS, Role.ADMIN, *READERS])
async def test_logistics_and_readers_may_read(
    api_as: Callable[[Role], Any], api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], role: Role
) -> None:
    serial = "KIT-" + uuid.uuid4().hex[:10].upper()
    shipment = await announced(api, asn, kit_type, serial)
    reader = api_as(role)
    for path in (f"/kits/{serial}", f"/shipments/{shipment}", f"/kit-types/{kit_type}", "/inventory"):
        r = await reader.get(path)
        assert r.status_code == 200, f"{role} GET {path}: {r.text}"


# ---- idempotency key ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 201])
async def test_a_write_without_a_usable_idempotency_key_is_refused(
    client: httpx.AsyncClient,
    api: Any,
    db: Db,
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    key: str | None,
) -> None:
    headers = dict(api.headers) | ({} if key is None else {"Idempotency-Key": key})
    shipment, serial = new_id("ASN"), new_id("KIT")
    mark = await db.outbox_mark()
    r = await client.post("/shipments", json=asn(shipment, kit_type, [serial]), headers=headers)
    assert_problem(r, 400, type_="/problems/idempotency-key-required", mentions=["Idempotency-Key"])
    await assert_no_shipment(api, shipment)

    announced_serial = new_id("KIT")
    await announced(api, asn, kit_type, announced_serial)
    mark = await db.outbox_mark()
    r = await client.post(f"/kits/{announced_serial}/release", headers=headers)
    assert_problem(r, 400, type_="/problems/idempotency-key-required")
    r = await client.post(f"/kits/{announced_serial}/receipt", json={"dock": "D1"}, headers=headers)
    assert_problem(r, 400, type_="/problems/idempotency-key-required")
    assert (await api.get(f"/kits/{announced_serial}")).json()["status"] == "announced"
    assert await db.outbox_since(mark) == []


# ---- query parameters, paths and methods --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/kits", {"limit": 0}, "query.limit"),
        ("/kits", {"limit": 100_000}, "query.limit"),
        ("/kits", {"limit": "ten"}, "query.limit"),
        ("/kits", {"offset": -1}, "query.offset"),
        ("/kits", {"status": "bogus"}, "query.status"),
        ("/kits", {"unannounced": "maybe"}, "query.unannounced"),
        ("/kits", {"build_short": "perhaps"}, "query.build_short"),
        ("/kits", {"kit_type": "x" * 65}, "query.kit_type"),
        ("/shipments", {"limit": 0}, "query.limit"),
        ("/shipments", {"offset": -1}, "query.offset"),
        ("/shipments", {"status": "bogus"}, "query.status"),
        ("/discrepancies", {"limit": 501}, "query.limit"),
        ("/discrepancies", {"status": "closed"}, "query.status"),
        ("/discrepancies", {"claim_code": "ZZ"}, "query.claim_code"),
        ("/kit-types/ANY", {"version": 0}, "query.version"),
        ("/kit-types/ANY", {"version": "latest"}, "query.version"),
        ("/inventory", {"kit_type": "x" * 65}, "query.kit_type"),
    ],
)
async def test_bad_query_parameters_are_422(api: Any, path: str, params: dict[str, Any], field: str) -> None:
    r = await api.get(path, **params)
    body = assert_invalid(r, field)
    assert body["instance"] == path


async def test_bad_path_parameters_are_422(api: Any) -> None:
    assert_invalid(await api.get("/kits/" + "K" * 65), "path.serial")
    assert_invalid(await api.get("/kits/-leading-dash"), "path.serial")
    assert_invalid(await api.post("/kits/" + "K" * 65 + "/release"), "path.serial")


@pytest.mark.parametrize("path", ["/nowhere", "/kits/K-1/unknown", "/shipments/S-1/kits/K-1", "/kit-types/A/B/C"])
async def test_unknown_path_is_a_404_problem(api: Any, path: str) -> None:
    r = await api.get(path)
    body = assert_problem(r, 404, type_="/problems/not-found")
    assert body["instance"] == path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/kits/K-1"),
        ("PUT", "/kits/K-1"),
        ("GET", "/kits/K-1/release"),
        ("GET", "/kits/K-1/receipt"),
        ("DELETE", "/shipments/S-1"),
        ("PATCH", "/shipments/S-1"),
        ("PUT", "/kit-types"),
        ("POST", "/inventory"),
        ("POST", "/discrepancies"),
    ],
)
async def test_wrong_method_is_a_405_problem(api: Any, method: str, path: str) -> None:
    r = await api.client.request(method, path, headers=api.headers | {"Idempotency-Key": str(uuid.uuid4())})
    body = assert_problem(r, 405, type_="/problems/method-not-allowed")
    assert body["instance"] == path
    assert r.headers.get("allow"), "a 405 says which methods are allowed"
    assert method not in r.headers["allow"]


async def test_times_that_break_a_kits_order_are_refused_and_write_nothing(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    def ago(days: float) -> str:
        return (datetime.now(UTC) - timedelta(days=days)).isoformat()

    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    shipment, serial = new_id("ASN"), new_id("KIT")
    r = await api.post("/shipments", asn(shipment, kit_type, [serial]) | {"announced_at": future})
    assert_problem(r, 422, rule="announced_at.in-future", mentions=["announced_at", "future"])
    assert (await api.get(f"/shipments/{shipment}")).status_code == 404
    assert (await api.get(f"/kits/{serial}")).status_code == 404

    await announced(api, asn, kit_type, serial)
    short = {"dock": "D1", "received_at": ago(5), "lines": [{"part_number": "AXL-200", "counted": 1}]}
    (discrepancy,) = (await api.post(f"/kits/{serial}/receipt", short)).json()["discrepancies"]
    resolution = f"/kits/{serial}/discrepancies/{discrepancy['id']}/resolution"
    r = await api.post(resolution, {"resolution": "shortage_accepted", "resolved_at": ago(6)})
    assert_problem(r, 422, rule="discrepancy.resolve.before-recorded", mentions=[discrepancy["id"], "before"])
    r = await api.post(resolution, {"resolution": "shortage_accepted", "resolved_at": future})
    assert_problem(r, 422, rule="resolved_at.in-future", mentions=["resolved_at", "future"])
    assert (await api.get(f"/kits/{serial}")).json()["discrepancies"][0]["status"] == "open"

    assert (await api.post(resolution, {"resolution": "shortage_accepted", "resolved_at": ago(4)})).status_code == 200
    r = await api.post(f"/kits/{serial}/release", {"released_at": ago(6)})
    assert_problem(r, 422, rule="kit.release.before-receipt", mentions=[serial, "before"])
    r = await api.post(f"/kits/{serial}/release", {"released_at": future})
    assert_problem(r, 422, rule="released_at.in-future", mentions=["released_at", "future"])
    assert_invalid(await api.post(f"/kits/{serial}/release", {"released_at": "2026-01-01T08:00:00"}), "released_at")
    kit = (await api.get(f"/kits/{serial}")).json()
    assert kit["status"] == "received" and kit["released_at"] is None
