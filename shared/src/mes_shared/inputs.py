"""The one set of input types every service's request bodies and query and path parameters are built from.

Anything PostgreSQL or Python would refuse later is refused here first, as a 422 naming the field:
- text: PostgreSQL refuses NUL in `text` and `jsonb`, other control characters garble terminals, logs
  and CSV files, and a lone surrogate cannot be encoded as UTF-8. Free text allows none of them; a note
  written over several lines may hold the layout characters tab, line feed and carriage return.
- instants: an offset is required (a naive time would land in the wrong shift), and the instant must lie
  in the years 2000 to 2100 (UTC). The range is wide for a plant: late facts are at most a year or so old,
  plans and qualifications run a few years ahead. It keeps Python far from datetime overflow (year 0,
  year 10000, reached by applying an offset) and PostgreSQL from storing `-infinity`.
- dates: the same years, except a person's status, which may have begun decades before this system
  (`PastDate`, from 1950).
- numbers: every whole number a client sends is bounded inside PostgreSQL's `integer` (each field by its
  own sense, a version by `INT4_MAX`), and measures are finite floats far inside float8, so that sums and
  products of them stay finite too.

The rule codes (`text.control-characters`, `text.blank`, `time.out-of-range`, `date.out-of-range`) are the
error `type` the 422 problem lists per field; workforce's domain guard raises the same code for the same
rule (`control_character` is the one definition of a control character).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

# ---- text ---------------------------------------------------------------------------------------

# C0 controls, DEL, C1 controls and lone surrogates: nothing a person types into a field.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab, line feed and carriage return are layout in a long description.
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rules as JSON Schema patterns, so that clients and fuzzers see them in the OpenAPI document.
_NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*$"
_NO_CONTROL_BUT_LAYOUT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]*$"
_VISIBLE_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*[^\s\x00-\x1f\x7f-\x9f\ud800-\udfff][^\x00-\x1f\x7f-\x9f\ud800-\udfff]*$"
)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# A skill not tied to one station: "skill:forklift".
STATION_OR_SKILL_PATTERN = r"^(skill:)?[A-Za-z0-9][A-Za-z0-9._-]*$"
TERMINAL_EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


def control_character(value: str, *, layout: bool = False) -> str | None:
    """The first control character in `value` as U+XXXX (None when there is none); with `layout`, tab,
    line feed and carriage return are allowed."""
    found = (_CONTROL_BUT_LAYOUT if layout else _CONTROL).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _refuse_controls(value: str) -> str:
    found = control_character(value)
    if found is not None:
        raise PydanticCustomError(
            "text.control-characters", "must not contain control characters (found {character})", {"character": found}
        )
    return value


def _refuse_controls_but_layout(value: str) -> str:
    found = control_character(value, layout=True)
    if found is not None:
        raise PydanticCustomError(
            "text.control-characters",
            "must not contain control characters other than tab and line breaks (found {character})",
            {"character": found},
        )
    return value


def _refuse_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("text.blank", "must not be blank")
    return value


def text(max_length: int, *, required: bool = False, layout: bool = False) -> Any:
    """A free-text type of at most `max_length` characters without control characters; `required`: at least
    one visible character; `layout`: tab and line breaks allowed (a note written over several lines).

    A factory rather than one type narrowed by a second Field: pydantic checks a length given after a
    validator only after it, with a vaguer message."""
    pattern = _VISIBLE_PATTERN if required else _NO_CONTROL_BUT_LAYOUT_PATTERN if layout else _NO_CONTROL_PATTERN
    limits = Field(min_length=1 if required else None, max_length=max_length, json_schema_extra={"pattern": pattern})
    checks = [AfterValidator(_refuse_controls_but_layout if layout else _refuse_controls)]
    if required:
        checks.append(AfterValidator(_refuse_blank))
    return Annotated[str, limits, *checks]


# The longest free text a field takes unless it says less (a reason, a description).
TEXT_MAX_LENGTH = 1000
# Optional free text (a description, a filter): may be empty.
Text = text(TEXT_MAX_LENGTH)
# A note people may write over several lines.
Note = text(2000, layout=True)
# Required free text (a reason, a carrier): at least one visible character.
NonBlank = text(TEXT_MAX_LENGTH, required=True)
# A name people read on a screen: a person's, a line's, a station's, a model's.
Name = text(200, required=True)
# Part of a name typed into a search filter.
SearchText = text(200)

# Ids people type or scan: codes, serials, part numbers, station, line and employee ids, badges, shifts
# (a VIN has its own rule in assembly-line's domain).
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]
StationOrSkill = Annotated[
    str,
    Field(
        min_length=1,
        max_length=70,
        pattern=STATION_OR_SKILL_PATTERN,
        description="A station id known from assembly-line's line configuration, or a skill 'skill:<code>'",
    ),
]
# A terminal's own id of one of its events (a scan, a station event); a resend carries the same id.
TerminalEventId = Annotated[str, Field(min_length=1, max_length=128, pattern=TERMINAL_EVENT_ID_PATTERN)]

# ---- time ---------------------------------------------------------------------------------------

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive: the last instant is in 2100
EARLIEST_PAST_DATE = date(1950, 1, 1)


def _in_plant_range(value: datetime) -> datetime:
    """An aware instant in the years 2000 to 2100 (UTC); compared without converting, so year 1 or 9999
    with an extreme offset cannot overflow here."""
    if not EARLIEST <= value < LATEST:
        raise PydanticCustomError(
            "time.out-of-range",
            "must be an instant in the years {first} to {last} (UTC)",
            {"first": EARLIEST.year, "last": LATEST.year - 1},
        )
    return value


def _date_from(earliest: date, value: date) -> date:
    if not earliest <= value < LATEST.date():
        raise PydanticCustomError(
            "date.out-of-range",
            "must be a date in the years {first} to {last}",
            {"first": earliest.year, "last": LATEST.year - 1},
        )
    return value


def _in_plant_years(value: date) -> date:
    return _date_from(EARLIEST.date(), value)


def _since_1950(value: date) -> date:
    return _date_from(EARLIEST_PAST_DATE, value)


Instant = Annotated[
    AwareDatetime,
    AfterValidator(_in_plant_range),
    Field(description="ISO 8601 date-time with its UTC offset, in the years 2000 to 2100"),
]
PlantDate = Annotated[date, AfterValidator(_in_plant_years), Field(description="A date in the years 2000 to 2100")]
# A date that may lie long before this system: when a person's current status began.
PastDate = Annotated[date, AfterValidator(_since_1950), Field(description="A date in the years 1950 to 2100")]

# ---- numbers ------------------------------------------------------------------------------------

# What a PostgreSQL `integer` holds; every whole number a client sends is bounded far below it.
INT4_MAX = 2**31 - 1
# A finite measured value (a torque, a length, a price): never NaN or infinite, and far inside float8,
# so that sums, differences and products of measures stay finite too.
Measure = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]
