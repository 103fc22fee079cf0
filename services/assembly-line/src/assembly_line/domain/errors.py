"""Domain errors: a stable `rule` code for machines, a sentence for people, extra facts for terminals.

The API maps the families to HTTP (InvalidInput -> 422, Conflict -> 409, NotFound -> 404) and puts the
rule and the extensions into the problem details, without the domain knowing anything about HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, rule: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        # JSON-ready facts that help the caller act (the last event, the open defects, ...).
        self.extensions = extensions

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rule={self.rule!r}, message={self.message!r})"


class InvalidInput(DomainError):
    """The request itself is wrong, whatever the current state."""


class Conflict(DomainError):
    """Well formed, but not allowed in the current state (or not yet: the caller may retry)."""


class NotFound(DomainError):
    """Something the request's path names does not exist."""
