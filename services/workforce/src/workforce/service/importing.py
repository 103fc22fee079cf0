"""Reading HR's employee CSV: a file-level check (refuse the whole file) and one record per data row.

The file is UTF-8 (a byte-order mark is fine), comma- or semicolon-separated (spreadsheets in many
locales write semicolons), with a header naming exactly the columns below in any order. Blank lines
are skipped. A row with the wrong number of fields is a bad row, reported with its line number; a file
that cannot be read as CSV at all (not UTF-8, broken quoting, no header, other columns) is refused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from workforce.api.schemas import EmployeeIn

COLUMNS = ("employee_id", "badge_id", "name", "origin", "status", "status_since")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CsvFileError(Exception):
    """The file as a whole is unusable; nothing of it is applied."""

    def __init__(self, status: int, rule: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.rule = rule
        self.message = message


@dataclass(frozen=True, slots=True)
class CsvRecord:
    line: int  # where the record starts in the file; the header is line 1
    values: dict[str, str] | None  # None when the row itself is broken
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedRow:
    line: int
    employee_id: str | None
    row: EmployeeIn | None
    problem: str | None


def _text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            400,
            "import.csv.encoding",
            f"the file is not UTF-8 (byte {exc.start} cannot be decoded); export it as CSV UTF-8",
        ) from exc
    if "\x00" in text:
        raise CsvFileError(400, "import.csv.malformed", "the file contains NUL bytes: it is not a text CSV file")
    return text


def _delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse(raw: bytes, *, max_rows: int) -> list[CsvRecord]:
    """The data rows of an employee CSV; raises CsvFileError when the file as a whole is unusable."""
    text = _text(raw)
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        raise CsvFileError(
            422, "import.csv.empty", "the file is empty; the first line is the header: " + ",".join(COLUMNS)
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    records: list[CsvRecord] = []
    header: list[str] | None = None
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = _header(fields)
                continue
            if len(records) >= max_rows:
                raise CsvFileError(
                    413, "import.csv.too-many-rows", f"the file has more than {max_rows} rows; split it into parts"
                )
            if len(fields) != len(header):
                records.append(CsvRecord(line, None, f"has {len(fields)} fields, the header has {len(header)}"))
                continue
            records.append(CsvRecord(line, {name: value.strip() for name, value in zip(header, fields, strict=True)}))
    except csv.Error as exc:
        raise CsvFileError(
            400, "import.csv.malformed", f"the file is not valid CSV at line {reader.line_num}: {exc}"
        ) from exc
    if header is None:  # pragma: no cover - `first` guarantees a header line
        raise CsvFileError(422, "import.csv.empty", "the file has no header")
    return records


def _header(fields: list[str]) -> list[str]:
    names = [f.strip().lower() for f in fields]
    expected = ", ".join(COLUMNS)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CsvFileError(422, "import.csv.header", f"the header names {', '.join(twice)} twice; expected: {expected}")
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown:
        said = []
        if missing:
            said.append("missing " + ", ".join(missing))
        if unknown:
            said.append("unknown " + ", ".join(repr(n) for n in unknown))
        raise CsvFileError(422, "import.csv.header", f"the header is wrong ({'; '.join(said)}); expected: {expected}")
    return names


def _reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "row"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


def check(records: list[CsvRecord]) -> list[CheckedRow]:
    """Validate each record on its own, then refuse a second row for an employee id or badge already seen."""
    checked: list[CheckedRow] = []
    ids: dict[str, int] = {}
    badges: dict[str, int] = {}
    for record in records:
        if record.values is None:
            checked.append(CheckedRow(record.line, None, None, record.problem))
            continue
        values: dict[str, Any] = dict(record.values)
        employee_id = values.get("employee_id") or None
        since = values.get("status_since", "")
        if not _ISO_DATE.match(since):
            checked.append(
                CheckedRow(record.line, employee_id, None, f"status_since: {since!r} is not a date YYYY-MM-DD")
            )
            continue
        try:
            values["status_since"] = date.fromisoformat(since)
            row = EmployeeIn.model_validate(values)
        except ValueError as exc:
            reason = _reason(exc) if isinstance(exc, ValidationError) else f"status_since: {exc}"
            checked.append(CheckedRow(record.line, employee_id, None, reason))
            continue
        if row.employee_id in ids:
            problem = f"employee_id {row.employee_id} is already on line {ids[row.employee_id]}"
        elif row.badge_id in badges:
            problem = f"badge_id {row.badge_id} is already on line {badges[row.badge_id]}"
        else:
            ids[row.employee_id], badges[row.badge_id] = record.line, record.line
            problem = None
        checked.append(CheckedRow(record.line, row.employee_id, None if problem else row, problem))
    return checked
