"""Event contracts: one pydantic model per event type and version. Importing this package registers them."""

from mes_shared.events import kits, people, stations, vehicles

__all__ = ["kits", "people", "stations", "vehicles"]
