"""The correlation id of the work in progress: an HTTP request, or the event a consumer is applying."""

from contextvars import ContextVar

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
