"""Who may do what in workforce: supervisors write people, qualifications, rosters and calendars;
terminals clock in and out at their own stations; managers and planners (and supervisors) read."""

from typing import Annotated

from fastapi import Depends, Request

from mes_shared.auth import Principal, Role, require
from mes_shared.service_app import command
from workforce.service.policy import Policy
from workforce.settings import Settings

Supervisor = command(Role.SUPERVISOR)
Terminal = command(Role.TERMINAL)
Reader = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.PLANNER, Role.MANAGER))]


def _settings(request: Request) -> Settings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, Settings)
    return settings


def _policy(request: Request) -> Policy:
    return Policy.from_settings(_settings(request))


SettingsDep = Annotated[Settings, Depends(_settings)]
PolicyDep = Annotated[Policy, Depends(_policy)]
