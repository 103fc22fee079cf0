"""CSV exports never carry a live formula (OWASP CSV injection): text that a spreadsheet would run is written
with a leading quote; numbers stay numbers, negative ones too."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from reporting.api.render import to_csv


def cells(text: str) -> dict[str, str]:
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    return row


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "-3"],
)
def test_text_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    assert cells(to_csv([{"reason": text}]))["reason"] == "'" + text


@pytest.mark.parametrize("text", ["material shortage", "ST-01", "a=b", "2026-11-26T06:00:00+01:00", "'quoted", ""])
def test_plain_text_is_written_as_it_is(text: str) -> None:
    assert cells(to_csv([{"reason": text}]))["reason"] == text


def test_numbers_stay_numbers_negative_ones_too() -> None:
    row = cells(to_csv([{"gap": -3, "ratio": -0.25, "value": Decimal("-2.5"), "count": 0, "stops": False}]))
    assert row == {"gap": "-3", "ratio": "-0.25", "value": "-2.5", "count": "0", "stops": "false"}
