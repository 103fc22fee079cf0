"""CloudEvents 1.0 envelope (structured JSON mode) around every event the services exchange.

The envelope is the only wire format between services. `type` carries the event name and version
(`mes.kit.received.v1`), `subject` is the aggregate id that is also the Kafka key, `time` is when the
fact happened (not when it was published), `correlationid` ties the event to the request that caused it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Base of every event payload. Subclasses declare the versioned type and the topic they live on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    topic: ClassVar[str]
    producer: ClassVar[str]
    key: ClassVar[str] = "the aggregate id"

    _registry: ClassVar[dict[str, type[EventData]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is None:
            return
        if event_type in EventData._registry:
            raise TypeError(f"event type {event_type} is declared twice")
        EventData._registry[event_type] = cls

    @classmethod
    def for_type(cls, event_type: str) -> type[EventData] | None:
        return EventData._registry.get(event_type)

    @classmethod
    def registered(cls) -> dict[str, type[EventData]]:
        return dict(EventData._registry)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1, pattern=r"^mes\.[a-z0-9.-]+\.v[0-9]+$")
    subject: str = Field(min_length=1)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    correlationid: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        data: EventData,
        *,
        source: str,
        subject: str,
        time: datetime | None = None,
        correlation_id: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Self:
        if time is not None and time.tzinfo is None:
            raise ValueError("an event time must carry its time zone")
        return cls(
            id=event_id or uuid.uuid4(),
            source=source,
            type=data.event_type,
            subject=subject,
            time=(time or datetime.now(UTC)).astimezone(UTC),
            dataschema=schema_uri(data.event_type),
            correlationid=correlation_id,
            data=data.model_dump(mode="json"),
        )

    @property
    def topic(self) -> str:
        model = EventData.for_type(self.type)
        if model is None:
            raise UnknownEventType(self.type)
        return model.topic

    def payload(self) -> EventData:
        """The typed payload; raises if the type is unknown or the data does not match its schema."""
        model = EventData.for_type(self.type)
        if model is None:
            raise UnknownEventType(self.type)
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        return cls.model_validate(json.loads(raw))


class UnknownEventType(LookupError):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"no contract is registered for event type {event_type!r}")
        self.event_type = event_type


def schema_uri(event_type: str) -> str:
    """Where the JSON schema of an event type is published (see the AsyncAPI document)."""
    return f"urn:mes:schema:{event_type}"
