"""CloudEvents envelope: attributes, wire round trip, typed payloads and the contract registry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from mes_shared.envelope import Envelope, EventData, UnknownEventType, schema_uri
from mes_shared.events.kits import KitReceived
from mes_shared.topics import KITS


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Throwaway contracts declared by a test are forgotten afterwards."""
    monkeypatch.setattr(EventData, "_registry", dict(EventData._registry))
    yield


def unique_type(label: str) -> str:
    return f"mes.test.unit-{label}-{uuid.uuid4().hex[:8]}.v1"


def received(serial: str = "K-1") -> KitReceived:
    return KitReceived(
        serial=serial,
        kit_type="KT-A",
        bom_version=3,
        shipment_id="SH-9",
        unannounced=False,
        dock="D1",
        received_by="alice",
        discrepancy_count=0,
        status="received",
    )


def envelope_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "source": "/mes/tests",
        "type": KitReceived.event_type,
        "subject": "K-1",
        "time": datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
        "dataschema": schema_uri(KitReceived.event_type),
        "data": received().model_dump(mode="json"),
    }
    fields.update(overrides)
    return fields


def test_wrap_sets_cloudevents_attributes() -> None:
    event_id = uuid.uuid4()
    when = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)

    env = Envelope.wrap(
        received(), source="/mes/kit-receiving", subject="K-1", time=when, correlation_id="req-42", event_id=event_id
    )

    assert env.specversion == "1.0"
    assert env.id == event_id
    assert env.source == "/mes/kit-receiving"
    assert env.type == "mes.kit.received.v1"
    assert env.type.rsplit(".", 1)[1] == "v1"
    assert env.subject == "K-1"
    assert env.time == when
    assert env.datacontenttype == "application/json"
    assert env.dataschema == "urn:mes:schema:mes.kit.received.v1"
    assert env.correlationid == "req-42"
    assert env.data == received().model_dump(mode="json")


def test_wrap_defaults_to_a_fresh_id_and_now_in_utc() -> None:
    before = datetime.now(UTC)
    first = Envelope.wrap(received(), source="/s", subject="K-1")
    second = Envelope.wrap(received(), source="/s", subject="K-1")
    after = datetime.now(UTC)

    assert first.id != second.id
    assert before <= first.time <= after
    assert first.time.utcoffset() == timedelta(0)
    assert first.correlationid is None


def test_wrap_converts_a_non_utc_aware_time_to_utc() -> None:
    paris_summer = timezone(timedelta(hours=2))
    env = Envelope.wrap(received(), source="/s", subject="K-1", time=datetime(2024, 5, 1, 12, 0, tzinfo=paris_summer))

    assert env.time.utcoffset() == timedelta(0)
    assert env.time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert (env.time.hour, env.time.minute) == (10, 0)
    assert json.loads(env.to_bytes())["time"] == "2024-05-01T10:00:00Z"


def test_wrap_refuses_a_naive_time() -> None:
    with pytest.raises((ValueError, TypeError)):
        Envelope.wrap(received(), source="/s", subject="K-1", time=datetime(2024, 5, 1, 12, 0))


def test_bytes_round_trip() -> None:
    env = Envelope.wrap(received(), source="/mes/kit-receiving", subject="K-1", correlation_id="c-1")

    raw = env.to_bytes()
    back = Envelope.from_bytes(raw)

    assert isinstance(raw, bytes)
    assert back == env
    assert back.payload() == received()
    wire = json.loads(raw)
    assert wire["specversion"] == "1.0"
    assert wire["id"] == str(env.id)
    assert wire["type"] == "mes.kit.received.v1"
    assert wire["correlationid"] == "c-1"
    assert wire["data"]["serial"] == "K-1"


def test_payload_returns_the_typed_model() -> None:
    env = Envelope.wrap(received("K-7"), source="/s", subject="K-7")

    payload = Envelope.from_bytes(env.to_bytes()).payload()

    assert type(payload) is KitReceived
    assert isinstance(payload, KitReceived)
    assert payload.serial == "K-7"
    assert payload.status == "received"


def test_payload_of_an_unknown_type_raises() -> None:
    env = Envelope(**envelope_fields(type="mes.nobody.declared-this.v9", data={}))

    with pytest.raises(UnknownEventType) as raised:
        env.payload()
    assert raised.value.event_type == "mes.nobody.declared-this.v9"
    assert isinstance(raised.value, LookupError)
    assert "mes.nobody.declared-this.v9" in str(raised.value)


def test_payload_of_data_not_matching_the_schema_raises() -> None:
    env = Envelope(**envelope_fields(data={"serial": "K-1", "status": "lost"}))

    with pytest.raises(ValidationError) as raised:
        env.payload()
    failed = {e["loc"][0] for e in raised.value.errors()}
    assert {"status", "kit_type", "dock"} <= failed


def test_payload_with_an_extra_data_field_raises() -> None:
    data = {**received().model_dump(mode="json"), "surprise": True}
    env = Envelope(**envelope_fields(data=data))

    with pytest.raises(ValidationError) as raised:
        env.payload()
    assert [e["type"] for e in raised.value.errors()] == ["extra_forbidden"]


def test_envelope_accepts_valid_fields() -> None:
    env = Envelope(**envelope_fields())
    assert env.specversion == "1.0"
    assert isinstance(env.id, uuid.UUID)


def test_envelope_rejects_a_naive_time() -> None:
    with pytest.raises(ValidationError) as raised:
        Envelope(**envelope_fields(time=datetime(2024, 5, 1, 8, 30)))
    assert raised.value.errors()[0]["loc"] == ("time",)


@pytest.mark.parametrize(
    "bad_type",
    ["mes.kit.received", "mes.kit.received.v", "kit.received.v1", "mes.Kit.received.v1", "mes.kit received.v1", ""],
)
def test_envelope_rejects_an_invalid_type(bad_type: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Envelope(**envelope_fields(type=bad_type))
    assert raised.value.errors()[0]["loc"] == ("type",)


def test_envelope_rejects_extra_attributes() -> None:
    with pytest.raises(ValidationError) as raised:
        Envelope(**envelope_fields(traceparent="00-abc"))
    assert raised.value.errors()[0]["type"] == "extra_forbidden"


def test_from_bytes_rejects_extra_attributes() -> None:
    wire = json.loads(Envelope.wrap(received(), source="/s", subject="K-1").to_bytes())
    wire["unexpected"] = "x"
    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps(wire).encode())


@pytest.mark.parametrize(
    "overrides",
    [
        {"specversion": "0.3"},
        {"datacontenttype": "application/xml"},
        {"source": ""},
        {"subject": ""},
    ],
)
def test_envelope_rejects_bad_attribute_values(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Envelope(**envelope_fields(**overrides))


def test_envelope_is_frozen() -> None:
    env = Envelope(**envelope_fields())
    with pytest.raises(ValidationError):
        env.subject = "K-2"  # type: ignore[misc]


def test_topic_comes_from_the_contract() -> None:
    assert Envelope.wrap(received(), source="/s", subject="K-1").topic == KITS.name == "mes.kits"


def test_topic_of_an_unknown_type_raises() -> None:
    env = Envelope(**envelope_fields(type="mes.nobody.declared-this.v1", data={}))
    with pytest.raises(UnknownEventType):
        _ = env.topic


@pytest.mark.usefixtures("isolated_registry")
def test_a_declared_contract_is_registered_and_routed() -> None:
    name = unique_type("x")

    class Throwaway(EventData):
        event_type: ClassVar[str] = name
        topic: ClassVar[str] = "mes.test.unit"
        n: int

    assert EventData.for_type(name) is Throwaway
    assert EventData.registered()[name] is Throwaway
    env = Envelope.wrap(Throwaway(n=5), source="/s", subject="x-1")
    assert env.type == name
    assert env.topic == "mes.test.unit"
    assert env.dataschema == f"urn:mes:schema:{name}"
    assert Envelope.from_bytes(env.to_bytes()).payload() == Throwaway(n=5)


@pytest.mark.usefixtures("isolated_registry")
def test_declaring_the_same_event_type_twice_raises() -> None:
    name = unique_type("dup")

    class First(EventData):
        event_type: ClassVar[str] = name
        topic: ClassVar[str] = "mes.test.unit"

    with pytest.raises(TypeError, match="declared twice"):

        class Second(EventData):
            event_type: ClassVar[str] = name
            topic: ClassVar[str] = "mes.test.unit"

    assert EventData.for_type(name) is First


@pytest.mark.usefixtures("isolated_registry")
def test_an_intermediate_base_without_event_type_is_not_registered() -> None:
    before = EventData.registered()

    class Base(EventData):
        topic: ClassVar[str] = "mes.test.unit"

    assert EventData.registered() == before
    assert Base not in EventData.registered().values()


def test_registered_returns_a_copy() -> None:
    snapshot = EventData.registered()
    snapshot["mes.test.unit-not-really.v1"] = KitReceived
    assert EventData.for_type("mes.test.unit-not-really.v1") is None
