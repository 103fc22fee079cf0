"""schemathesis hooks (loaded by `st run` in tests/fuzz/test_fuzz.py): every request carries a token of a role
the operation allows, as its OpenAPI `security` lists them.

The least powerful allowed role is taken (a read goes out as a manager, a kit write as logistics, a station
event as a terminal); admin only where nothing else is allowed. What a write touches is the fuzzer's own: a
terminal is scoped to the fuzzer's station and names it, and every id a write names carries the fuzzer's prefix.
"""

from __future__ import annotations

import json
import os
import uuid
from functools import cache
from typing import Any

import schemathesis

from mes_shared.auth import Role, issue_token

FUZZ_STATION = "FUZZ-ST1"
# Every id a write names starts so: the fuzzer never writes to another line's (or anyone else's) data.
OWN_PREFIX = "FUZZ-"
OWN_IDS = frozenset(
    {"line_id", "model", "code", "shipment_id", "serial", "kit_serial", "employee_id", "badge_id", "goal_id"}
)
RUN = f"{uuid.uuid4().hex[:8]}-"
LEAST_POWERFUL_FIRST = (Role.MANAGER, Role.PLANNER, Role.SUPERVISOR, Role.LOGISTICS, Role.TERMINAL, Role.ADMIN)


def own(values: Any) -> Any:
    """`values` (path parameters or a body) with what they name made the fuzzer's own: a line, model, kit type,
    shipment, kit, employee, badge or recall goal id gets its prefix, a VIN starts with FUZZ (all VIN characters), each
    as valid (or not) as it was. A write found through a listing (stateful links) so never reaches the demo's
    or another test's data."""
    if not isinstance(values, dict):
        return values
    owned = dict(values)
    for key, value in values.items():
        if not isinstance(value, str) or value.startswith(("FUZZ", OWN_PREFIX)):
            continue
        if key == "vin":
            owned[key] = "FUZZ" + value[4:]
        elif key in OWN_IDS:
            owned[key] = (OWN_PREFIX + value)[:64]
    return owned


@cache
def bearer(role: Role) -> str:
    stations = [FUZZ_STATION] if role is Role.TERMINAL else None
    return "Bearer " + issue_token(os.environ["MES_AUTH_SECRET"], subject=f"fuzz-{role}", role=role, stations=stations)


def role_for(operation: dict[str, Any]) -> Role | None:
    """The role to call an operation with; None for a public one (no `security`)."""
    allowed = {role for requirement in operation.get("security", []) for role in requirement.get("bearer", [])}
    if not allowed:
        return None
    return next(role for role in LEAST_POWERFUL_FIRST if role.value in allowed)


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    """An optional query parameter is documented as `anyOf: [<its schema>, null]`, but a query string cannot carry a
    null (leaving the parameter out is the null): fuzz its own schema, so that its strings get the hostile values."""
    for operations in raw_schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                choices = parameter.get("schema", {}).get("anyOf", [])
                if parameter.get("in") == "query" and len(choices) == 2 and {"type": "null"} in choices:
                    [own] = [choice for choice in choices if choice != {"type": "null"}]
                    parameter["schema"] = {**{k: v for k, v in parameter["schema"].items() if k != "anyOf"}, **own}


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    role = role_for(case.operation.definition.raw)
    if role is None:
        return
    headers = {**(case.headers or {}), "Authorization": bearer(role)}
    if headers.get("Idempotency-Key"):
        # Seeded runs repeat their keys: made unique per run, a write is judged anew, not answered from the last run.
        headers["Idempotency-Key"] = (RUN + headers["Idempotency-Key"])[:200]
    case.headers = headers
    if case.method.upper() != "GET":
        case.path_parameters = own(case.path_parameters)
        case.body = own(case.body)
    if role is Role.TERMINAL:
        if "station" in (case.path_parameters or {}):
            case.path_parameters = {**case.path_parameters, "station": FUZZ_STATION}
        if isinstance(case.body, dict) and "station" in case.body:
            case.body = {**case.body, "station": FUZZ_STATION}


# What the services answered, per operation and status (test_fuzz.py reads it: the run's figures, and proof that
# the tokens were accepted).
TALLY: dict[str, dict[int, int]] = {}


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response) -> None:
    statuses = TALLY.setdefault(f"{case.method.upper()} {case.operation.path}", {})
    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    path = os.environ.get("MES_FUZZ_TALLY")
    if path:
        with open(path, "w") as out:
            json.dump(TALLY, out)
