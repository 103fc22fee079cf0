"""Event contracts: one pydantic model per event type and version. Importing this package registers them."""

from mes_shared.events import kits, people

__all__ = ["kits", "people"]
