"""Domain errors: one small hierarchy the API maps to HTTP (InvalidInput 422, Conflict 409, NotFound 404).

``rule`` is a stable, machine-readable code (``clock-in.employee-not-active``) that terminals, scripts and
tests rely on; ``message`` is for people and says exactly what was wrong; ``details`` carries structured
facts (the unqualified assignments, say) that a client can act on.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, rule: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rule={self.rule!r}, message={self.message!r})"


class InvalidInput(DomainError):
    """The request itself is wrong, whatever the current state."""


class Conflict(DomainError):
    """The request is well formed but not allowed in the current state."""


class NotFound(DomainError):
    """Something the request names (in its path) does not exist."""
