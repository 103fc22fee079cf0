"""Domain errors.

One small hierarchy so the application layer can map a whole family to one HTTP status
(InvalidInput -> 422, Conflict -> 409, NotFound -> 404) and put ``rule`` into the problem details,
without the domain knowing anything about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken.

    ``rule`` is a stable, machine-readable code (e.g. ``kit.release.open-discrepancies``) that clients
    and tests can rely on; ``message`` is for people and says exactly what was wrong.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rule={self.rule!r}, message={self.message!r})"


class InvalidInput(DomainError):
    """The request itself is wrong, whatever the current state."""


class Conflict(DomainError):
    """The request is well formed but not allowed in the current state."""


class ReleaseBlocked(Conflict):
    """A kit cannot go to the line while discrepancies are open.

    Carries the open discrepancies so the dock screen can list what still needs a decision.
    """

    def __init__(self, kit_serial: str, open_discrepancies: tuple[tuple[str, str], ...]) -> None:
        listed = ", ".join(f"{d_id} ({code})" for d_id, code in open_discrepancies)
        super().__init__(
            "kit.release.open-discrepancies",
            f"kit {kit_serial} cannot be released: {len(open_discrepancies)} open discrepancies: {listed}",
        )
        self.kit_serial = kit_serial
        self.open_discrepancies = open_discrepancies

    @property
    def open_discrepancy_ids(self) -> tuple[str, ...]:
        return tuple(d_id for d_id, _ in self.open_discrepancies)


class NotFound(DomainError):
    """Something the request refers to does not exist (inside the aggregate or in the store)."""
