"""Every view as JSON or CSV: `?format=csv`, or `Accept: text/csv` when no format is given."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from reporting.api.schemas import View

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection), so an andon's
# reason `=HYPERLINK(...)` would be a live link. Such text is written with a leading quote and shown as typed.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def neutralised(text: str) -> str:
    """Text as a spreadsheet shows it, never as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> Any:
    """A value as its CSV cell. Only text is neutralised: a number is ours (a gap of -3 is data, not a
    formula) and stays a number a spreadsheet can add up."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralised(value)
    return value


def to_csv(rows: list[dict[str, Any]], header: list[str] | None = None) -> str:
    columns: dict[str, None] = {} if rows else dict.fromkeys(header or [])
    for row in rows:
        for key in row:
            columns.setdefault(key, None)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def respond(request: Request, view: View, fmt: str | None, name: str) -> Response:
    if wants_csv(request, fmt):
        rows = [dict(r) for r in view.rows()]
        rows = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]
        return Response(
            to_csv(rows, view.columns()),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
        )
    return JSONResponse(view.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
