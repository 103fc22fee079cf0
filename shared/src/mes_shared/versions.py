"""Versions in time: which version of a route or a BOM was in force at an instant.

A version is in force from its `effective_from` until the next version's. Versions are published in time
order (each service refuses a version dated before the current one), so they sort the same by number
and by time. A fact from before the first version follows the first: nothing else existed, and setup
data is often entered after the history it governs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar


class Dated(Protocol):
    @property
    def effective_from(self) -> datetime: ...


V = TypeVar("V", bound=Dated)


def in_force(versions: Sequence[V], at: datetime) -> V | None:
    """The version in force at `at`, from `versions` oldest first; None when there is none at all."""
    chosen = versions[0] if versions else None
    for version in versions:
        if version.effective_from > at:
            break
        chosen = version
    return chosen
