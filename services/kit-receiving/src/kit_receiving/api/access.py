"""Who may do what in kit-receiving: logistics writes; supervisors, planners and managers read."""

from typing import Annotated

from fastapi import Depends

from mes_shared.auth import Principal, Role, require
from mes_shared.service_app import command

Logistics = command(Role.LOGISTICS)
Reader = Annotated[Principal, Depends(require(Role.LOGISTICS, Role.SUPERVISOR, Role.PLANNER, Role.MANAGER))]
