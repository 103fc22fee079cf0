"""The kits domain contracts: topic, strictness, JSON schema and envelope round trips."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from mes_shared.envelope import Envelope, EventData
from mes_shared.events import kits

TYPE_PATTERN = re.compile(r"^mes\.[a-z0-9.-]+\.v[0-9]+$")

KIT_CONTRACTS: list[type[EventData]] = sorted(
    (cls for cls in EventData.registered().values() if cls.__module__ == kits.__name__),
    key=lambda cls: cls.event_type,
)
PARTS: list[type[BaseModel]] = [kits.BomLine, kits.AnnouncedKit, kits.MissingPart]


def _ids(classes: list[type]) -> list[str]:
    return [cls.__name__ for cls in classes]


def test_every_contract_declared_in_the_module_is_registered() -> None:
    declared = {
        cls
        for _, cls in inspect.getmembers(kits, inspect.isclass)
        if issubclass(cls, EventData) and "event_type" in cls.__dict__
    }
    assert declared == set(KIT_CONTRACTS)
    assert {c.event_type for c in KIT_CONTRACTS} >= {"mes.kit.received.v1", "mes.kit.released.v1"}


@pytest.mark.parametrize("contract", KIT_CONTRACTS, ids=_ids(KIT_CONTRACTS))
def test_contract_lives_on_the_kits_topic(contract: type[EventData]) -> None:
    assert contract.topic == "mes.kits"
    assert contract.event_type.startswith("mes.")
    assert TYPE_PATTERN.match(contract.event_type)
    assert EventData.for_type(contract.event_type) is contract
    assert contract.producer == "kit-receiving"
    assert isinstance(contract.key, str)
    assert contract.key


@pytest.mark.parametrize("model", KIT_CONTRACTS + PARTS, ids=_ids(KIT_CONTRACTS + PARTS))
def test_model_forbids_extra_fields(model: type[BaseModel]) -> None:
    assert model.model_config.get("extra") == "forbid"
    with pytest.raises(ValidationError) as raised:
        model.model_validate({"not_in_the_contract": 1})
    extras = [e for e in raised.value.errors() if e["type"] == "extra_forbidden"]
    assert [e["loc"] for e in extras] == [("not_in_the_contract",)]


@pytest.mark.parametrize("model", KIT_CONTRACTS + PARTS, ids=_ids(KIT_CONTRACTS + PARTS))
def test_json_schema_is_generated(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(model.model_fields)
    assert set(schema["required"]) == {name for name, f in model.model_fields.items() if f.is_required()}
    assert "event_type" not in schema["properties"]
    assert "topic" not in schema["properties"]


def test_nested_part_schemas_are_referenced() -> None:
    schema = kits.KitReleased.model_json_schema()
    assert "MissingPart" in schema["$defs"]
    assert schema["$defs"]["MissingPart"]["additionalProperties"] is False


def test_bom_line_quantity_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        kits.BomLine(part_number="P-1", description="bolt", quantity=0, station="S1")


def test_claim_code_is_restricted() -> None:
    with pytest.raises(ValidationError):
        kits.MissingPart(discrepancy_id="D-1", part_number="P-1", quantity=1, station=None, claim_code="X")  # type: ignore[arg-type]


def test_kit_released_round_trips_through_an_envelope() -> None:
    event = kits.KitReleased(
        serial="K-1",
        kit_type="KT-A",
        bom_version=2,
        build_short=True,
        waiting_stations=["S3"],
        missing_parts=[
            kits.MissingPart(discrepancy_id="D-1", part_number="P-9", quantity=2, station="S3", claim_code="M")
        ],
        released_by="bob",
    )
    env = Envelope.wrap(event, source="/mes/kit-receiving", subject="K-1")

    back = Envelope.from_bytes(env.to_bytes()).payload()

    assert back == event
    assert isinstance(back, kits.KitReleased)
    assert back.missing_parts[0].claim_code == "M"
    assert env.topic == "mes.kits"


def test_shipment_announced_round_trips_its_datetime() -> None:
    arrival = datetime(2024, 6, 1, 6, 0, tzinfo=UTC)
    event = kits.ShipmentAnnounced(
        shipment_id="SH-1",
        carrier="DHL",
        origin="Plant B",
        expected_arrival=arrival,
        kits=[kits.AnnouncedKit(serial="K-1", kit_type="KT-A", bom_version=1, cases=["C1", "C2"])],
    )

    back = Envelope.from_bytes(Envelope.wrap(event, source="/s", subject="SH-1").to_bytes()).payload()

    assert isinstance(back, kits.ShipmentAnnounced)
    assert back.expected_arrival == arrival
    assert back.kits[0].cases == ["C1", "C2"]
