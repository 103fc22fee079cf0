"""Request bodies are bounded per route: HR's CSV file may be larger than any JSON request, which stops at the
service's default limit with a 413 problem."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

pytestmark = pytest.mark.integration

TWO_MB = 2 * 1024 * 1024


async def test_the_import_takes_a_file_larger_than_a_json_request_may_be(api: Any, tools: SimpleNamespace) -> None:
    rows = b"x,y,z\n" * (TWO_MB // 6)
    r = await api.post_csv("/employees/import", b"id,badge,full_name\n" + rows)
    tools.assert_problem(r, 422, rule="import.csv.header")  # judged by the import itself, not refused at the door
    padded = b'{"employee_id": "E-1"' + b" " * TWO_MB + b"}"
    r = await api.post_csv("/employees", padded, content_type="application/json")
    tools.assert_problem(r, 413, type_="/problems/content-too-large")
