"""The read side: kit detail with history, filtered and paged lists, inventory and discrepancy reports.

The database is shared with the other tests, so every test scopes its reads to a fresh kit type or to
its own shipments, or compares report figures before and after what it did.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from mes_shared.auth import Role

READERS = [Role.MANAGER, Role.PLANNER, Role.SUPERVISOR]
PROBLEM = "application/problem+json"


async def all_items(api: Any, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list, and its total."""
    items: list[dict[str, Any]] = []
    offset, total = 0, None
    while total is None or offset < total:
        r = await api.get(path, limit=500, offset=offset, **params)
        assert r.status_code == 200, r.text
        page = r.json()
        total = page["total"]
        items.extend(page["items"])
        offset += 500
    assert len(items) == total
    return items, total


async def announce(api: Any, asn: Callable[..., dict[str, Any]], kit_type: str, *serials: str) -> str:
    shipment = "ASN-" + uuid.uuid4().hex[:10].upper()
    r = await api.post("/shipments", asn(shipment, kit_type, list(serials)))
    assert r.status_code == 201, r.text
    return shipment


async def receive(api: Any, serial: str, lines: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    r = await api.post(f"/kits/{serial}/receipt", {"dock": "DOCK-7", "lines": lines or []} | extra)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def resolve(api: Any, serial: str, discrepancy_id: str, resolution: str, note: str = "") -> dict[str, Any]:
    r = await api.post(
        f"/kits/{serial}/discrepancies/{discrepancy_id}/resolution", {"resolution": resolution, "note": note}
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def serials_of(page: dict[str, Any]) -> list[str]:
    return [k["serial"] for k in page["items"]]


# ---- one kit ------------------------------------------------------------------------------------


async def test_kit_detail_has_its_whole_history_with_actors_and_bom_version(
    api: Any,
    api_as: Callable[[Role], Any],
    kit_type: str,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
) -> None:
    admin = api_as(Role.ADMIN)
    serial = new_id("KIT")
    shipment = await announce(api, asn, kit_type, serial)
    # A newer BOM after the announcement does not move the kit off the version it was announced with.
    r = await api.post(
        f"/kit-types/{kit_type}/bom-versions",
        {"lines": [{"part_number": "CAB-100", "description": "Cab", "quantity": 1, "station": "ST-01"}]},
    )
    assert r.status_code == 201 and r.json()["current_version"] == 2

    # Counted yesterday, written down now, on a scanner an hour east of UTC.
    counted_at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).astimezone(timezone(timedelta(hours=1)))
    received = await receive(
        api,
        serial,
        [
            {"part_number": "AXL-200", "counted": 1},
            {"part_number": "BLT-M12", "counted": 48, "findings": [{"claim_code": "A", "quantity": 4, "note": "rust"}]},
        ],
        received_at=counted_at.isoformat(),
    )
    short_id, rust_id = (d["id"] for d in received["discrepancies"])
    await resolve(admin, serial, short_id, "shortage_accepted", "line builds without it")
    await resolve(admin, serial, rust_id, "written_off")
    r = await admin.post(f"/kits/{serial}/release")
    assert r.status_code == 200, r.text

    detail = (await api.get(f"/kits/{serial}")).json()
    assert detail["serial"] == serial and detail["kit_type"] == kit_type and detail["shipment_id"] == shipment
    assert detail["bom_version"] == 1
    assert detail["status"] == "released" and detail["released_by"] == "admin-tester"
    assert detail["dock"] == "DOCK-7" and detail["unannounced"] is False
    assert detail["cases"] == [f"{serial}-C1", f"{serial}-C2"]
    assert datetime.fromisoformat(detail["received_at"]) == counted_at
    assert detail["build_short"] is True and detail["waiting_stations"] == ["ST-02"]
    assert [(p["discrepancy_id"], p["part_number"], p["quantity"]) for p in detail["missing_parts"]] == [
        (short_id, "AXL-200", 1)
    ]

    found = {d["id"]: d for d in detail["discrepancies"]}
    assert [d["id"] for d in detail["discrepancies"]] == [short_id, rust_id]
    short, rust = found[short_id], found[rust_id]
    assert (short["claim_code"], short["part_number"], short["quantity"], short["station"]) == (
        "S",
        "AXL-200",
        1,
        "ST-02",
    )
    assert (short["status"], short["resolution"], short["resolved_by"]) == (
        "shortage_accepted",
        "shortage_accepted",
        "admin-tester",
    )
    assert short["resolution_note"] == "line builds without it"
    assert (rust["claim_code"], rust["quantity"], rust["note"], rust["status"]) == ("A", 4, "rust", "resolved")
    assert all(d["serial"] == serial for d in detail["discrepancies"])

    history = detail["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("kit-announced", "logistics-tester"),
        ("kit-received", "logistics-tester"),
        ("discrepancy-recorded", "logistics-tester"),
        ("discrepancy-recorded", "logistics-tester"),
        ("kit-quarantined", "logistics-tester"),
        ("discrepancy-resolved", "admin-tester"),
        ("discrepancy-resolved", "admin-tester"),
        ("quarantine-lifted", "admin-tester"),
        ("kit-released", "admin-tester"),
    ]
    # The receipt's own time is kept: it is earlier than the announcement made a moment ago.
    times = [datetime.fromisoformat(h["at"]) for h in history]
    assert times[1] == times[2] == times[3] == times[4] == counted_at
    assert times[5] <= times[6] <= times[7] <= times[8]
    assert history[0]["detail"]["shipment_id"] == shipment and history[0]["detail"]["bom_version"] == 1
    assert history[1]["detail"]["discrepancy_count"] == 2
    assert [h["detail"]["discrepancy_id"] for h in history[2:4]] == [short_id, rust_id]
    assert history[4]["detail"]["open_discrepancy_ids"] == [short_id, rust_id]
    assert history[5]["detail"]["resolution"] == "shortage_accepted"
    assert history[8]["detail"]["waiting_stations"] == ["ST-02"] and history[8]["detail"]["build_short"] is True

    # A kit announced now gets the current BOM version; its history starts with that.
    later = new_id("KIT")
    await announce(api, asn, kit_type, later)
    later_detail = (await api.get(f"/kits/{later}")).json()
    assert later_detail["bom_version"] == 2
    assert [h["action"] for h in later_detail["history"]] == ["kit-announced"]
    assert later_detail["discrepancies"] == [] and later_detail["received_at"] is None


async def test_discrepancies_are_listed_in_the_order_they_were_recorded(
    api: Any, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    """Ids are KIT-D1, KIT-D2, ...: with ten or more, text order (D1, D10, D11, D2) is not recording order."""
    kit_type = new_id("BIG")
    parts = [f"P-{n:02d}" for n in range(1, 13)]
    lines = [{"part_number": p, "description": p, "quantity": 1, "station": "ST-01"} for p in parts]
    r = await api.post("/kit-types", {"code": kit_type, "model": "M", "variant": "V", "lines": lines})
    assert r.status_code == 201, r.text
    serial = new_id("KIT")
    await announce(api, asn, kit_type, serial)

    received = await receive(api, serial, [{"part_number": p, "counted": 0} for p in parts])
    expected = [f"{serial}-D{n}" for n in range(1, 13)]
    assert [d["part_number"] for d in received["discrepancies"]] == parts
    assert [d["id"] for d in received["discrepancies"]] == expected
    detail = (await api.get(f"/kits/{serial}")).json()
    assert [d["id"] for d in detail["discrepancies"]] == expected
    assert [h["detail"]["discrepancy_id"] for h in detail["history"] if h["action"] == "discrepancy-recorded"] == (
        expected
    )


async def test_unknown_kit_and_shipment_are_404_problems(api: Any, new_id: Callable[[str], str]) -> None:
    for path in (f"/kits/{new_id('KIT')}", f"/shipments/{new_id('ASN')}", f"/kit-types/{new_id('KT')}"):
        r = await api.get(path)
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        assert path.rsplit("/", 1)[1] in r.json()["detail"]


# ---- kit lists ----------------------------------------------------------------------------------


@pytest.fixture
async def kit_zoo(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> dict[str, Any]:
    """Kits of one fresh kit type in every status the receiving side produces."""
    clean, quarantined, released, short, waiting, announced = (new_id("KIT") for _ in range(6))
    main = await announce(api, asn, kit_type, clean, quarantined, released, short, waiting, announced)
    cancelled = new_id("KIT")
    gone = await announce(api, asn, kit_type, cancelled)
    r = await api.post(f"/shipments/{gone}/cancel", {"reason": "order withdrawn"})
    assert r.status_code == 200, r.text

    await receive(api, clean)
    await receive(
        api, quarantined, [{"part_number": "AXL-200", "counted": 0}, {"part_number": "HRN-300", "counted": 2}]
    )
    await receive(api, released)
    assert (await api.post(f"/kits/{released}/release")).status_code == 200
    [d] = (await receive(api, short, [{"part_number": "AXL-200", "counted": 1}]))["discrepancies"]
    await resolve(api, short, d["id"], "shortage_accepted")
    assert (await api.post(f"/kits/{short}/release")).status_code == 200
    [d] = (await receive(api, waiting, [{"part_number": "CAB-100", "counted": 0}]))["discrepancies"]
    await resolve(api, waiting, d["id"], "shortage_accepted")  # received, build-short once released

    stray = new_id("STRAY")
    await receive(api, stray, kit_type=kit_type)
    return {
        "kit_type": kit_type,
        "main": main,
        "gone": gone,
        "status": {
            clean: "received",
            quarantined: "quarantined",
            released: "released",
            short: "released",
            waiting: "received",
            announced: "announced",
            cancelled: "cancelled",
            stray: "received",
        },
        "quarantined": quarantined,
        "short": short,
        "waiting": waiting,
        "stray": stray,
    }


async def test_kits_filtered_by_status_type_shipment_and_flags(api: Any, kit_zoo: dict[str, Any]) -> None:
    kit_type, status = kit_zoo["kit_type"], kit_zoo["status"]
    everything = (await api.get("/kits", kit_type=kit_type)).json()
    assert serials_of(everything) == sorted(status) and everything["total"] == len(status)
    assert {k["serial"]: k["status"] for k in everything["items"]} == status
    assert all(k["kit_type"] == kit_type and k["bom_version"] == 1 for k in everything["items"])

    for wanted in ("announced", "cancelled", "quarantined", "received", "released", "consumed"):
        page = (await api.get("/kits", kit_type=kit_type, status=wanted)).json()
        expected = sorted(s for s, st in status.items() if st == wanted)
        assert serials_of(page) == expected, wanted
        assert page["total"] == len(expected)

    page = (await api.get("/kits", kit_type=kit_type, unannounced="true")).json()
    assert serials_of(page) == [kit_zoo["stray"]]
    assert page["items"][0]["shipment_id"] is None and page["items"][0]["unannounced"] is True
    page = (await api.get("/kits", kit_type=kit_type, unannounced="false")).json()
    assert page["total"] == len(status) - 1

    page = (await api.get("/kits", kit_type=kit_type, build_short="true")).json()
    assert serials_of(page) == [kit_zoo["short"]]
    assert page["items"][0]["status"] == "released" and page["items"][0]["open_discrepancies"] == 0
    assert (await api.get("/kits", kit_type=kit_type, build_short="false")).json()["total"] == len(status) - 1

    page = (await api.get("/kits", shipment_id=kit_zoo["main"])).json()
    assert page["total"] == 6 and all(k["shipment_id"] == kit_zoo["main"] for k in page["items"])
    page = (await api.get("/kits", shipment_id=kit_zoo["gone"], status="cancelled")).json()
    assert [k["status"] for k in page["items"]] == ["cancelled"]
    assert (await api.get("/kits", shipment_id=kit_zoo["gone"], status="received")).json()["total"] == 0

    # Filters combine; open discrepancies are counted per kit.
    page = (await api.get("/kits", kit_type=kit_type, status="quarantined", shipment_id=kit_zoo["main"])).json()
    assert serials_of(page) == [kit_zoo["quarantined"]] and page["items"][0]["open_discrepancies"] == 2
    waiting = next(k for k in everything["items"] if k["serial"] == kit_zoo["waiting"])
    assert waiting["open_discrepancies"] == 0 and waiting["build_short"] is False

    assert (await api.get("/kits", kit_type="NO-SUCH-TYPE")).json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }


async def test_kit_list_pages(api: Any, kit_zoo: dict[str, Any]) -> None:
    kit_type, expected = kit_zoo["kit_type"], sorted(kit_zoo["status"])
    seen: list[str] = []
    for offset in range(0, len(expected), 3):
        page = (await api.get("/kits", kit_type=kit_type, limit=3, offset=offset)).json()
        assert (page["total"], page["limit"], page["offset"]) == (len(expected), 3, offset)
        assert len(page["items"]) == min(3, len(expected) - offset)
        seen.extend(serials_of(page))
    assert seen == expected
    past_the_end = (await api.get("/kits", kit_type=kit_type, limit=3, offset=100)).json()
    assert past_the_end["items"] == [] and past_the_end["total"] == len(expected)
    assert (await api.get("/kits", kit_type=kit_type)).json()["limit"] == 50
    assert serials_of((await api.get("/kits", kit_type=kit_type, limit=1, offset=len(expected) - 1)).json()) == [
        expected[-1]
    ]


async def test_inventory_counts_what_is_on_hand(api: Any, kit_zoo: dict[str, Any]) -> None:
    kit_type = kit_zoo["kit_type"]
    inventory = (await api.get("/inventory", kit_type=kit_type)).json()
    # received: clean, waiting, stray; quarantined: 1; released: released, short. Announced and cancelled are not here.
    assert inventory["by_status"] == {"quarantined": 1, "received": 3, "released": 2}
    assert inventory["on_hand"] == 6
    assert sorted((r["kit_type"], r["status"], r["kits"]) for r in inventory["by_type"]) == [
        (kit_type, "quarantined", 1),
        (kit_type, "received", 3),
        (kit_type, "released", 2),
    ]

    nothing = (await api.get("/inventory", kit_type="NO-SUCH-TYPE")).json()
    assert nothing == {"on_hand": 0, "by_status": {"quarantined": 0, "received": 0, "released": 0}, "by_type": []}

    overall = (await api.get("/inventory")).json()
    assert overall["on_hand"] == sum(overall["by_status"].values()) >= 6
    mine = [r for r in overall["by_type"] if r["kit_type"] == kit_type]
    assert sorted((r["status"], r["kits"]) for r in mine) == [("quarantined", 1), ("received", 3), ("released", 2)]
    totals: Counter[str] = Counter()
    for row in overall["by_type"]:
        totals[row["status"]] += row["kits"]
    assert dict(totals) == {k: v for k, v in overall["by_status"].items() if v}


async def test_inventory_follows_each_step(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    async def on_hand() -> tuple[int, dict[str, int]]:
        body = (await api.get("/inventory", kit_type=kit_type)).json()
        return body["on_hand"], body["by_status"]

    serial = new_id("KIT")
    await announce(api, asn, kit_type, serial)
    assert await on_hand() == (0, {"quarantined": 0, "received": 0, "released": 0})
    [d] = (await receive(api, serial, [{"part_number": "HRN-300", "counted": 0}]))["discrepancies"]
    assert await on_hand() == (1, {"quarantined": 1, "received": 0, "released": 0})
    await resolve(api, serial, d["id"], "replacement_received")
    assert await on_hand() == (1, {"quarantined": 0, "received": 1, "released": 0})
    assert (await api.post(f"/kits/{serial}/release")).status_code == 200
    assert await on_hand() == (1, {"quarantined": 0, "received": 0, "released": 1})


# ---- shipments ----------------------------------------------------------------------------------


async def test_shipments_by_status_and_one_shipment(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    async def totals() -> dict[str, int]:
        return {
            s: (await api.get("/shipments", status=s, limit=1)).json()["total"]
            for s in ("announced", "cancelled", "receiving", "received")
        }

    before = await totals()
    all_before = (await api.get("/shipments", limit=1)).json()["total"]
    a1, a2, r1, r2, x1 = (new_id("KIT") for _ in range(5))
    waiting = await announce(api, asn, kit_type, a1)
    receiving = await announce(api, asn, kit_type, r1, a2)
    received = await announce(api, asn, kit_type, r2)
    cancelled = await announce(api, asn, kit_type, x1)
    await receive(api, r1)
    await receive(api, r2, [{"part_number": "CAB-100", "counted": 0}])  # quarantined is on site too
    assert (await api.post(f"/shipments/{cancelled}/cancel", {"reason": "train delayed"})).status_code == 200

    assert await totals() == {
        "announced": before["announced"] + 1,
        "cancelled": before["cancelled"] + 1,
        "receiving": before["receiving"] + 1,
        "received": before["received"] + 1,
    }
    assert (await api.get("/shipments", limit=1)).json()["total"] == all_before + 4
    for status, shipment in (
        ("announced", waiting),
        ("receiving", receiving),
        ("received", received),
        ("cancelled", cancelled),
    ):
        items, _ = await all_items(api, "/shipments", status=status)
        assert all(s["status"] == status for s in items)
        assert [s["shipment_id"] for s in items].count(shipment) == 1, (status, shipment)
        others = {waiting, receiving, received, cancelled} - {shipment}
        assert not others & {s["shipment_id"] for s in items}

    view = (await api.get(f"/shipments/{receiving}")).json()
    assert view["shipment_id"] == receiving and view["status"] == "receiving"
    assert (view["carrier"], view["origin"]) == ("RailCargo", "Sister plant")
    assert datetime.fromisoformat(view["expected_arrival"]) == datetime.fromisoformat("2026-12-01T08:00:00+00:00")
    assert view["cancel_reason"] is None
    assert view["kits"] == sorted(
        [
            {
                "serial": r1,
                "kit_type": kit_type,
                "bom_version": 1,
                "cases": [f"{r1}-C1", f"{r1}-C2"],
                "status": "received",
            },
            {
                "serial": a2,
                "kit_type": kit_type,
                "bom_version": 1,
                "cases": [f"{a2}-C1", f"{a2}-C2"],
                "status": "announced",
            },
        ],
        key=lambda k: k["serial"],
    )
    gone = (await api.get(f"/shipments/{cancelled}")).json()
    assert gone["status"] == "cancelled" and gone["cancel_reason"] == "train delayed"
    assert [k["status"] for k in gone["kits"]] == ["cancelled"]
    assert datetime.fromisoformat(gone["updated_at"]) >= datetime.fromisoformat(gone["announced_at"])
    assert [k["status"] for k in (await api.get(f"/shipments/{received}")).json()["kits"]] == ["quarantined"]

    # Receiving the last kit completes the shipment.
    await receive(api, a2)
    assert (await api.get(f"/shipments/{receiving}")).json()["status"] == "received"


async def test_shipment_list_pages(api: Any) -> None:
    items, total = await all_items(api, "/shipments")
    ids = [s["shipment_id"] for s in items]
    assert len(set(ids)) == total
    keyed = [(datetime.fromisoformat(s["expected_arrival"]), s["shipment_id"]) for s in items]
    assert keyed == sorted(keyed), "shipments are listed by expected arrival, then id"
    if total >= 3:
        page = (await api.get("/shipments", limit=2, offset=1)).json()
        assert [s["shipment_id"] for s in page["items"]] == ids[1:3]
        assert (page["limit"], page["offset"], page["total"]) == (2, 1, total)


# ---- discrepancy reports ------------------------------------------------------------------------


async def test_discrepancy_reports_count_exactly_what_was_recorded(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    async def summary() -> dict[str, Any]:
        r = await api.get("/discrepancies/open-by-claim-code")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def total(claim_code: str, status: str) -> int:
        return int((await api.get("/discrepancies", claim_code=claim_code, status=status, limit=1)).json()["total"])

    codes = ("M", "S", "DT", "surplus", "W")
    before = await summary()
    open_before = {c: await total(c, "open") for c in codes}
    accepted_before = await total("S", "shortage_accepted")
    resolved_before = await total("DT", "resolved")

    serial = new_id("KIT")
    await announce(api, asn, kit_type, serial)
    kit = await receive(
        api,
        serial,
        [
            {"part_number": "CAB-100", "counted": 0},  # M 1
            {"part_number": "AXL-200", "counted": 1},  # S 1
            {"part_number": "BLT-M12", "counted": 48, "findings": [{"claim_code": "DT", "quantity": 2}]},  # DT 2
            {"part_number": "HRN-300", "counted": 3},  # surplus 2
            {"part_number": "XYZ-999", "counted": 5},  # W 5
        ],
    )
    ids = {d["claim_code"]: d["id"] for d in kit["discrepancies"]}
    assert set(ids) == set(codes)
    added = {"M": 1, "S": 1, "DT": 1, "surplus": 1, "W": 1}
    added_qty = {"M": 1, "S": 1, "DT": 2, "surplus": 2, "W": 5}

    after = await summary()
    assert after["open_total"] == before["open_total"] + 5
    for code in codes:
        assert after["by_claim_code"].get(code, 0) == before["by_claim_code"].get(code, 0) + added[code], code
        assert after["quantity_by_claim_code"].get(code, 0) == (
            before["quantity_by_claim_code"].get(code, 0) + added_qty[code]
        ), code
        assert await total(code, "open") == open_before[code] + 1, code
    assert set(after["by_claim_code"]) == set(after["quantity_by_claim_code"])
    assert sum(after["by_claim_code"].values()) == after["open_total"]

    # The listed discrepancy carries everything the dock recorded; "open" is the default filter.
    items, _ = await all_items(api, "/discrepancies", claim_code="DT")
    [mine] = [d for d in items if d["serial"] == serial]
    assert (mine["id"], mine["part_number"], mine["quantity"], mine["station"], mine["status"]) == (
        ids["DT"],
        "BLT-M12",
        2,
        "ST-03",
        "open",
    )
    assert all(d["claim_code"] == "DT" and d["status"] == "open" for d in items)
    w_items, _ = await all_items(api, "/discrepancies", claim_code="W", status="open")
    [wrong] = [d for d in w_items if d["serial"] == serial]
    assert wrong["station"] is None and wrong["quantity"] == 5

    await resolve(api, serial, ids["S"], "shortage_accepted")
    await resolve(api, serial, ids["DT"], "replacement_received")
    decided = await summary()
    assert decided["open_total"] == before["open_total"] + 3
    assert decided["by_claim_code"].get("S", 0) == before["by_claim_code"].get("S", 0)
    assert decided["by_claim_code"].get("DT", 0) == before["by_claim_code"].get("DT", 0)
    assert await total("S", "open") == open_before["S"]
    assert await total("S", "shortage_accepted") == accepted_before + 1
    assert await total("DT", "resolved") == resolved_before + 1
    accepted, _ = await all_items(api, "/discrepancies", claim_code="S", status="shortage_accepted")
    assert [d["resolution"] for d in accepted if d["serial"] == serial] == ["shortage_accepted"]

    for code in ("M", "surplus", "W"):
        await resolve(api, serial, ids[code], "written_off")
    assert await summary() == before


# ---- kit types ----------------------------------------------------------------------------------


async def test_kit_types_and_their_bom_versions(api: Any, kit_type: str, new_id: Callable[[str], str]) -> None:
    listed = (await api.get("/kit-types")).json()
    codes = [t["code"] for t in listed]
    assert codes == sorted(codes)
    [mine] = [t for t in listed if t["code"] == kit_type]
    assert (mine["model"], mine["variant"], mine["current_version"]) == ("HTX-6x4", "tractor", 1)

    v2_lines = [{"part_number": "CAB-100", "description": "Cab shell", "quantity": 1, "station": "ST-01"}]
    r = await api.post(f"/kit-types/{kit_type}/bom-versions", {"lines": v2_lines})
    assert r.status_code == 201, r.text

    current = (await api.get(f"/kit-types/{kit_type}")).json()
    assert current["current_version"] == 2 and current["versions"] == [1, 2]
    assert current["bom"]["version"] == 2 and current["bom"]["lines"] == v2_lines
    assert current["bom"]["kit_type"] == kit_type and current["bom"]["published_by"] == "logistics-tester"
    v1 = (await api.get(f"/kit-types/{kit_type}", version=1)).json()
    assert v1["current_version"] == 2 and v1["bom"]["version"] == 1
    assert [ln["part_number"] for ln in v1["bom"]["lines"]] == ["CAB-100", "AXL-200", "BLT-M12", "HRN-300"]
    assert datetime.fromisoformat(v1["bom"]["published_at"]) <= datetime.fromisoformat(current["bom"]["published_at"])
    assert (await api.get(f"/kit-types/{kit_type}", version=2)).json() == current
    assert next(t for t in (await api.get("/kit-types")).json() if t["code"] == kit_type)["current_version"] == 2

    r = await api.get(f"/kit-types/{kit_type}", version=3)
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert kit_type in r.json()["detail"] and "3" in r.json()["detail"]
    unknown = new_id("KT")
    r = await api.get(f"/kit-types/{unknown}", version=1)
    assert r.status_code == 404 and unknown in r.json()["detail"]


# ---- readers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
async def test_managers_planners_and_supervisors_read_everything(
    api_as: Callable[[Role], Any], kit_zoo: dict[str, Any], role: Role
) -> None:
    reader = api_as(role)
    kit_type = kit_zoo["kit_type"]
    quarantined = kit_zoo["quarantined"]
    reads = {
        f"/kits/{quarantined}": {},
        "/kits": {"kit_type": kit_type},
        f"/shipments/{kit_zoo['main']}": {},
        "/shipments": {"status": "receiving"},
        "/inventory": {"kit_type": kit_type},
        "/discrepancies": {"claim_code": "M"},
        "/discrepancies/open-by-claim-code": {},
        "/kit-types": {},
        f"/kit-types/{kit_type}": {"version": 1},
    }
    for path, params in reads.items():
        r = await reader.get(path, **params)
        assert r.status_code == 200, f"{role} GET {path}: {r.text}"
    assert (await reader.get(f"/kits/{quarantined}")).json()["status"] == "quarantined"
    assert (await reader.get("/kits", kit_type=kit_type)).json()["total"] == len(kit_zoo["status"])
    assert (await reader.get("/inventory", kit_type=kit_type)).json()["on_hand"] == 6
