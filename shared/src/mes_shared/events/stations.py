"""Contracts of lines, stations, routes and andons (topic `mes.stations`), published by assembly-line."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mes_shared.envelope import EventData
from mes_shared.topics import STATIONS


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StationDefinition(_Part):
    station_id: str
    name: str
    position: int = Field(ge=1)


class RouteStep(_Part):
    station_id: str
    standard_seconds: float = Field(gt=0)


class _StationsEvent(EventData):
    topic: ClassVar[str] = STATIONS.name
    producer: ClassVar[str] = "assembly-line"
    key: ClassVar[str] = "line id"


class LineConfigured(_StationsEvent):
    """A line and its stations in order (ISA-95 line and work cells)."""

    event_type: ClassVar[str] = "mes.line.configured.v1"
    line_id: str
    name: str
    stations: list[StationDefinition]


class RoutePublished(_StationsEvent):
    """A model's route version: the stations it visits in order, each with its standard time.

    Dated (the envelope's time) when the version takes effect, which a late entry or a replay puts in the
    past; it is in force until the next version's time. A truck follows the version in force when it was
    planned or started and keeps it; nothing about a model is code.
    """

    event_type: ClassVar[str] = "mes.route.published.v1"
    line_id: str
    model: str
    version: int = Field(ge=1)
    steps: list[RouteStep]


class _AndonEvent(_StationsEvent):
    key: ClassVar[str] = "station id"
    andon_id: str
    line_id: str
    station: str


class AndonRaised(_AndonEvent):
    """An operator called for help; `stops_line` when the line is stopped until it is cleared."""

    event_type: ClassVar[str] = "mes.andon.raised.v1"
    reason: str
    raised_by: str | None
    stops_line: bool
    vin: str | None


class AndonCleared(_AndonEvent):
    """Lost time is from raise to clear (`duration_seconds`)."""

    event_type: ClassVar[str] = "mes.andon.cleared.v1"
    cleared_by: str | None
    duration_seconds: float = Field(ge=0)
    stops_line: bool
