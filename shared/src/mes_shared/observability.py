"""JSON logs carrying the correlation id, the correlation-id middleware and HTTP metrics."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mes_shared.correlation import correlation_id_var
from mes_shared.kafka import QuietClientLogs
from mes_shared.problems import answer_unexpected, faults_of

log = logging.getLogger(__name__)


CORRELATION_HEADER = "x-correlation-id"
_SAFE_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter("mes_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "mes_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# Each readiness check as last probed (1 passing, 0 failing): the broker and the consumers show here as degraded
# while /health/ready stays 200, so an alert can be raised on them without taking the service out of traffic.
READINESS = Gauge("mes_health_check_ok", "Readiness checks as last probed (1 ok, 0 failing)", ["check"])


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id_var.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(QuietClientLogs())  # a broker outage: a handful of aiokafka lines, not thousands
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel("WARNING")


# Routes that answer without the database: their success says nothing about it.
_NO_DATABASE = frozenset({"unmatched", "/health/live", "/metrics", "/openapi.json", "/docs", "/redoc"})


class CorrelationAndMetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so it adds nothing measurable to a terminal's request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(CORRELATION_HEADER.encode(), b"").decode("latin-1")
        correlation_id = incoming if _SAFE_CORRELATION.fullmatch(incoming) else str(uuid.uuid4())
        token = correlation_id_var.set(correlation_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_header(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), correlation_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        except Exception as exc:
            # Answered here, not by Starlette's outermost handler, so the answer and its log line keep the id.
            if started_response:
                log.exception("error after the answer began on %s %s", scope["method"], scope["path"])
                raise
            await answer_unexpected(exc, scope)(scope, receive, send_with_header)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            if status < 400 and template not in _NO_DATABASE:
                faults_of(scope).succeeded()  # ends an outage's log: the database answered a request again
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - started)
            correlation_id_var.reset(token)


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
