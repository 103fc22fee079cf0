"""Who may do what: supervisors configure and plan, terminals post events for their own stations only,
supervisors, planners and managers read (admin may do all)."""

from typing import Annotated

from fastapi import Depends, Path

from mes_shared.auth import Principal, Role, require
from mes_shared.service_app import command

StationPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Station id")
]

Supervisor = command(Role.SUPERVISOR)
Reader = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.PLANNER, Role.MANAGER))]
_terminal_or_reader = require(Role.TERMINAL, Role.SUPERVISOR, Role.PLANNER, Role.MANAGER)
# Terminals read trucks (open defects at a repair station) besides the readers.
TruckReader = Annotated[Principal, Depends(_terminal_or_reader)]
_terminal = require(Role.TERMINAL)


async def _station_terminal(station: StationPath, principal: Annotated[Principal, Depends(_terminal)]) -> Principal:
    principal.ensure_station(station)
    return principal


async def _station_reader(
    station: StationPath, principal: Annotated[Principal, Depends(_terminal_or_reader)]
) -> Principal:
    principal.ensure_station(station)
    return principal


# A terminal posting for one of its own stations (checked before the body is looked at).
StationTerminal = Annotated[Principal, Depends(_station_terminal)]
# A terminal reading its own station, or any reader.
StationReader = Annotated[Principal, Depends(_station_reader)]
