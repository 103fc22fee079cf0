"""Hostile input for every operation an OpenAPI document declares: the bad-input test at the mechanism.

For each operation a request of the right shape is built from the document: path parameters, required
query parameters and a body with every field filled (one body per alternative of a union), with fresh
ids each time so that a create is not refused as a repeat before the hostile field is judged. Then each
string, date, date-time, integer and number in it (parameters and body fields, nested ones included) is
replaced in turn by what a careless client or an attacker sends: NUL and other control characters, a
lone surrogate, instants past year 9999 or before year 1 by their offset, an instant without an offset,
integers past PostgreSQL's integer and bigint, numbers past float8, NaN. Each must be refused with a 4xx
problem, so a right service writes nothing. Date-like text in a plain text parameter of a read (a
service may parse it itself) must never give a 5xx.

A service's test runs it through its in-process app with an admin token (admin may call everything).
"""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import httpx

PROBLEM = "application/problem+json"

CONTROL_TEXT = ["\x00", "a\x00b", "\x01", "x\x1by", "\x7f", "\x85", "\ud800"]
OVERFLOWING_INSTANTS = [
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    "0001-01-01T00:00:00Z",  # PostgreSQL would store it as -infinity
    "10000-01-01T00:00:00Z",
    "2026-06-01T10:00:00",  # no offset: which shift?
]
OVERFLOWING_DATES = ["9999-12-31", "0001-01-01", "1000-01-01"]
HUGE_INTEGERS = [2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30]
HUGE_NUMBERS = [1e300, -1e300, math.inf, -math.inf, math.nan]
_VIN_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

Schema = dict[str, Any]
Where = tuple[str | int, ...]  # ("query", name), ("path", name) or ("body", field, 0, field...)


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    where: Where
    value: Any
    must_refuse: bool  # True: a 4xx is required; False: anything but a 5xx

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {'.'.join(map(str, self.where))}={self.value!r}"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    path_params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    has_body: bool


@dataclass(frozen=True)
class _Operation:
    method: str
    path: str
    parameters: list[tuple[str, str, Schema, bool]]  # in, name, schema, required
    body: Schema | None


class _Schemas:
    def __init__(self, document: dict[str, Any]) -> None:
        self.components = document.get("components", {}).get("schemas", {})

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.resolve(schema["allOf"][0])
        return schema

    def alternatives(self, schema: Schema) -> list[Schema]:
        schema = self.resolve(schema)
        options = [self.resolve(o) for o in schema.get("oneOf") or schema.get("anyOf") or []]
        return [o for o in options if o.get("type") != "null"] or [schema]

    def sample(self, schema: Schema, at: Where, leaves: list[tuple[Where, Schema]]) -> Any:
        """A value of the right shape for `schema`, recording every scalar leaf in it with its schema."""
        schema = self.alternatives(schema)[0]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            leaves.append((at, schema))
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return {name: self.sample(prop, (*at, name), leaves) for name, prop in schema.get("properties", {}).items()}
        if kind == "array":
            items = self.resolve(schema.get("items", {}))
            if items.get("type") == "object" and not items.get("properties"):
                return []  # free-form items (a terminal's raw backlog): judged item by item elsewhere
            first = self.sample(items, (*at, 0), leaves)
            return [first] + [self.sample(items, (*at, i), []) for i in range(1, schema.get("minItems", 1))]
        if kind in ("string", "integer", "number"):
            leaves.append((at, schema))
            return _scalar(schema)
        if kind == "boolean":
            return False
        return None  # maps keyed by the caller and anything unknown

    def operations(self, document: dict[str, Any]) -> Iterator[_Operation]:
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                parameters = [
                    (p["in"], p["name"], self.alternatives(p.get("schema", {}))[0], bool(p.get("required")))
                    for p in operation.get("parameters", [])
                    if p["in"] in ("path", "query")
                ]
                content = operation.get("requestBody", {}).get("content", {})
                body = content.get("application/json", {}).get("schema")
                for alternative in self.alternatives(body) if body else [None]:
                    yield _Operation(method, path, parameters, alternative)

    def request(self, op: _Operation) -> tuple[Request, list[tuple[Where, Schema]]]:
        """A fresh request of the right shape for `op`, with the leaves a probe may replace."""
        leaves: list[tuple[Where, Schema]] = []
        path_params: dict[str, Any] = {}
        query: dict[str, Any] = {}
        for where, name, schema, required in op.parameters:
            if where == "path" or required:
                (path_params if where == "path" else query)[name] = _scalar(schema)
            leaves.append(((where, name), schema))
        body = None if op.body is None else self.sample(op.body, ("body",), leaves)
        return Request(op.method, op.path, path_params, query, body, op.body is not None), leaves


def _scalar(schema: Schema) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return max(int(low), min(1, int(schema.get("maximum", 1))))
    if kind == "number":
        return max(float(schema.get("minimum", 1.0)), min(1.0, float(schema.get("maximum", 1.0))))
    fmt = schema.get("format")
    if fmt == "date-time":
        return datetime.now(UTC).isoformat()
    if fmt == "date":
        return date.today().isoformat()
    if fmt == "time":
        return "08:00:00"
    pattern = schema.get("pattern")
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    fresh = uuid.uuid4().hex[:10].upper()
    vin = "".join(random.choice(_VIN_CHARACTERS) for _ in range(17))
    for candidate in (f"X{fresh}", vin, f"skill:X{fresh}", f"x{fresh}"):
        if low <= len(candidate) <= high and (pattern is None or re.search(pattern, candidate)):
            return candidate
    return "x" * max(1, low)


def _hostile(schema: Schema, where: str, method: str) -> Iterator[tuple[Any, bool]]:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        yield from ((v, True) for v in HUGE_INTEGERS)
    elif kind == "number":
        yield from ((v, True) for v in HUGE_NUMBERS)
    elif kind == "string":
        # A lone surrogate cannot be written in a URL's UTF-8; the server would read U+FFFD.
        yield from ((v, True) for v in CONTROL_TEXT if where == "body" or v != "\ud800")
        if fmt == "date-time":
            yield from ((v, True) for v in OVERFLOWING_INSTANTS)
        elif fmt == "date":
            yield from ((v, True) for v in OVERFLOWING_DATES)
        elif fmt is None and "enum" not in schema and method == "get":
            # A parameter a service parses as a time itself (`at=`): refusing is its choice, failing is not.
            # Writes get only values that must be refused, so that a right service writes nothing here.
            yield from ((v, False) for v in OVERFLOWING_INSTANTS + OVERFLOWING_DATES)


def _replace(value: Any, at: Where, new: Any) -> Any:
    if not at:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in at[:-1]:
        target = target[step]
    target[at[-1]] = new
    return copy


def probes(document: dict[str, Any]) -> Iterator[tuple[Request, Probe]]:
    """Every (request, probe): one hostile value in one place of one operation, the rest fresh and sane."""
    schemas = _Schemas(document)
    for op in schemas.operations(document):
        _, leaves = schemas.request(op)
        for index, (at, schema) in enumerate(leaves):
            for value, must_refuse in _hostile(schema, str(at[0]), op.method):
                request, fresh_leaves = schemas.request(op)
                assert fresh_leaves[index][0] == at
                if at[0] == "path":
                    request = replace(request, path_params={**request.path_params, at[1]: value})
                elif at[0] == "query":
                    request = replace(request, query={**request.query, at[1]: value})
                else:
                    request = replace(request, body=_replace(request.body, at[1:], value))
                yield request, Probe(op.method, op.path, at, value, must_refuse)


def _percent_encoded(value: Any) -> str:
    # Every byte, a NUL too: the service sees exactly what the client meant.
    text = value if isinstance(value, str) else json.dumps(value)
    return "".join(f"%{b:02X}" for b in text.encode("utf-8", "surrogatepass"))


async def send(client: httpx.AsyncClient, request: Request, headers: dict[str, str]) -> httpx.Response:
    path = request.path
    for name, value in request.path_params.items():
        path = path.replace("{" + name + "}", _percent_encoded(value))
    query = "&".join(f"{name}={_percent_encoded(value)}" for name, value in request.query.items())
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    content = None
    if request.has_body:
        # ensure_ascii keeps a lone surrogate as its \\ud800 escape; NaN and Infinity go out as those tokens.
        content = json.dumps(request.body, ensure_ascii=True).encode()
        headers["Content-Type"] = "application/json"
    url = path + ("?" + query if query else "")
    return await client.request(request.method.upper(), url, content=content, headers=headers)


def verdict(probe: Probe, response: httpx.Response) -> str | None:
    """What is wrong with the answer to a probe, or None when it is right."""
    status = response.status_code
    if status >= 500:
        return f"{probe}: {status} {response.text[:300]}"
    if probe.must_refuse and status < 400:
        return f"{probe}: {status} accepted"
    if status >= 400 and response.headers.get("content-type") != PROBLEM:
        return f"{probe}: {status} answered {response.headers.get('content-type')}, not a problem"
    return None


async def attack(
    client: httpx.AsyncClient, document: dict[str, Any], headers: dict[str, str], *, skip: tuple[str, ...] = ()
) -> list[str]:
    """Send every probe of the document (but to operations matching a `skip` pattern, e.g. a stream) with
    `headers` (the token); the list of wrong answers, empty when all are right."""
    wrong = []
    sent = 0
    for request, probe in probes(document):
        if any(re.search(pattern, f"{probe.method.upper()} {probe.path}") for pattern in skip):
            continue
        sent += 1
        found = verdict(probe, await send(client, request, headers))
        if found is not None:
            wrong.append(found)
    assert sent > 0, "the document declares no operation with inputs"
    return wrong
