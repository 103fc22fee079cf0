"""Domain errors: each carries a `rule` code that travels to the problem+json answer."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class InvalidInput(DomainError):
    """The request is well-formed but asks for something the rules refuse (422)."""


class NotFound(DomainError):
    """Nothing is known about what was asked for (404)."""


class Conflict(DomainError):
    """Refused because of the current state (409)."""
