"""The shared input types: what each refuses, with which rule code, and what it lets through."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mes_shared.inputs import Code, Instant, Name, NonBlank, Note, PastDate, PlantDate, Text, control_character, text

Unit = text(5)


class Form(BaseModel):
    words: Text = ""
    note: Note = ""
    reason: NonBlank = "x"
    name: Name = "x"
    unit: Unit = ""
    code: Code = "X1"
    at: Instant | None = None
    day: PlantDate | None = None
    since: PastDate | None = None


def refusal(**fields: Any) -> tuple[str, str, str]:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(fields)
    (error,) = caught.value.errors()
    return str(error["loc"][0]), error["type"], error["msg"]


@pytest.mark.parametrize("value", ["\x00", "a\x00b", "\x01", "x\x1by", "\x7f", "\x85", "\x9f", "tab\there", "a\nb"])
def test_text_refuses_control_characters_naming_the_rule_and_the_character(value: str) -> None:
    field, rule, message = refusal(words=value)
    assert (field, rule) == ("words", "text.control-characters")
    assert control_character(value) in message


def test_a_lone_surrogate_is_a_control_character() -> None:
    assert control_character("a\ud800") == "U+D800"
    # pydantic itself refuses it before our rule sees it (and a JSON body with one is malformed).
    assert refusal(words="a\ud800")[0] == "words"


def test_a_note_may_have_tabs_and_line_breaks_but_nothing_else() -> None:
    assert Form(note="first line\r\n\tsecond line").note == "first line\r\n\tsecond line"
    assert refusal(note="bell\x07")[:2] == ("note", "text.control-characters")


def test_required_text_needs_a_visible_character_and_a_narrowed_length_keeps_the_plain_message() -> None:
    assert refusal(reason="   ")[:2] == ("reason", "text.blank")
    assert refusal(name="x" * 201)[:2] == ("name", "string_too_long")
    assert refusal(unit="123456") == ("unit", "string_too_long", "String should have at most 5 characters")
    assert Form(words="Ünïcode — fine", name="José Nuñez").name == "José Nuñez"


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "0001-01-01T00:00:00Z",  # PostgreSQL's -infinity
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
    ],
)
def test_instants_outside_the_plant_years_are_refused_without_overflowing(value: str) -> None:
    assert refusal(at=value)[:2] == ("at", "time.out-of-range")


def test_an_instant_needs_its_offset_and_keeps_it() -> None:
    assert refusal(at="2026-06-01T10:00:00")[:2] == ("at", "timezone_aware")
    at = Form(at="2100-12-31T23:59:59+00:00").at  # type: ignore[arg-type]
    assert isinstance(at, datetime) and at.year == 2100
    local = Form(at="2026-06-01T10:00:00+02:00").at  # type: ignore[arg-type]
    assert local is not None and local.utcoffset() is not None and local.hour == 10


def test_dates_are_bounded_and_a_persons_status_may_begin_long_ago() -> None:
    assert refusal(day="1999-12-31")[:2] == ("day", "date.out-of-range")
    assert refusal(day="9999-12-31")[:2] == ("day", "date.out-of-range")
    assert Form(since="1987-03-02").since == date(1987, 3, 2)  # type: ignore[arg-type]
    assert refusal(since="1949-12-31")[:2] == ("since", "date.out-of-range")


def test_codes_refuse_anything_but_their_pattern() -> None:
    assert refusal(code="a\x00")[:2] == ("code", "string_pattern_mismatch")
    assert refusal(code="x" * 65)[:2] == ("code", "string_too_long")
