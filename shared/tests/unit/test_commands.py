"""Request fingerprints and the unit of work's event building (no database involved)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared.auth import Principal, Role
from mes_shared.commands import UnitOfWork, fingerprint, idempotency_header_doc
from mes_shared.envelope import Envelope
from mes_shared.events.kits import KitCancelled, KitReceived


class ReceiveBody(BaseModel):
    serial: str
    dock: str
    counts: dict[str, int] = {}


class OtherBody(BaseModel):
    serial: str
    dock: str
    counts: dict[str, int] = {}


def test_fingerprint_is_stable_for_equal_requests() -> None:
    first = fingerprint("POST", "/kits/K-1/receipt", ReceiveBody(serial="K-1", dock="D1"))
    second = fingerprint("POST", "/kits/K-1/receipt", ReceiveBody(serial="K-1", dock="D1", counts={}))

    assert first == second
    assert len(first) == 64
    int(first, 16)


def test_fingerprint_without_body_is_stable() -> None:
    assert fingerprint("POST", "/kits/K-1/release", None) == fingerprint("POST", "/kits/K-1/release", None)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/kits/K-1/receipt", ReceiveBody(serial="K-1", dock="D2")),
        ("POST", "/kits/K-1/receipt", ReceiveBody(serial="K-1", dock="D1", counts={"P-1": 2})),
        ("POST", "/kits/K-2/receipt", ReceiveBody(serial="K-1", dock="D1")),
        ("PUT", "/kits/K-1/receipt", ReceiveBody(serial="K-1", dock="D1")),
        ("POST", "/kits/K-1/receipt", None),
    ],
    ids=["other-dock", "other-counts", "other-path", "other-method", "no-body"],
)
def test_fingerprint_differs_when_the_request_differs(method: str, path: str, body: BaseModel | None) -> None:
    reference = fingerprint("POST", "/kits/K-1/receipt", ReceiveBody(serial="K-1", dock="D1"))
    assert fingerprint(method, path, body) != reference


def test_fingerprint_depends_on_content_not_on_the_model_class() -> None:
    assert fingerprint("POST", "/p", ReceiveBody(serial="K", dock="D")) == fingerprint(
        "POST", "/p", OtherBody(serial="K", dock="D")
    )


def test_fingerprint_path_and_body_cannot_be_confused() -> None:
    # The newline separates path from body, so moving text across the boundary changes the hash.
    assert fingerprint("POST", "/a", None) != fingerprint("POST", "/", None)
    assert fingerprint("POST", "/a b", None) != fingerprint("POST", "/a", None)


def make_uow(correlation_id: str | None = "corr-9") -> UnitOfWork:
    return UnitOfWork(
        session=cast(AsyncSession, object()),
        source="/mes/kit-receiving",
        principal=Principal("lou", Role.LOGISTICS),
        correlation_id=correlation_id,
    )


def received(serial: str) -> KitReceived:
    return KitReceived(
        serial=serial,
        kit_type="KT-A",
        bom_version=1,
        shipment_id=None,
        unannounced=True,
        dock="D1",
        received_by="lou",
        discrepancy_count=0,
        status="received",
    )


def test_emit_wraps_events_with_the_uows_source_and_correlation_id() -> None:
    uow = make_uow()
    when = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    uow.emit(received("K-1"), subject="K-1", time=when)
    uow.emit(KitCancelled(serial="K-2", shipment_id=None, reason="typo"), subject="K-2")

    assert len(uow.events) == 2
    first, second = uow.events
    assert all(isinstance(e, Envelope) for e in uow.events)
    assert {e.source for e in uow.events} == {"/mes/kit-receiving"}
    assert {e.correlationid for e in uow.events} == {"corr-9"}
    assert (first.type, first.subject, first.time) == ("mes.kit.received.v1", "K-1", when)
    assert first.payload() == received("K-1")
    assert (second.type, second.subject) == ("mes.kit.cancelled.v1", "K-2")
    assert second.time.tzinfo is not None
    assert first.id != second.id


def test_emit_without_correlation_id() -> None:
    uow = make_uow(correlation_id=None)
    uow.emit(received("K-3"), subject="K-3")
    assert uow.events[0].correlationid is None


def test_each_uow_has_its_own_event_list() -> None:
    a, b = make_uow(), make_uow()
    a.emit(received("K-1"), subject="K-1")
    assert b.events == []


def test_idempotency_header_doc() -> None:
    doc: dict[str, Any] = idempotency_header_doc()
    assert doc["name"] == "Idempotency-Key"
    assert doc["in"] == "header"
    assert doc["required"] is True
    assert doc["schema"]["maxLength"] == 200
