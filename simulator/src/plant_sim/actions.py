"""What the plant model asks to be done: one action per thing a user of the plant does, at a simulated instant.

The model emits actions in time order; the driver turns each into one HTTP request (plant_sim.requests) and
reports whether the API accepted it; the tally counts an action only when it was accepted. Actions on one
`key` (a truck, an employee, a station's andon, a kit) run one after another in order; `requires` names
earlier actions that must have been accepted first (a sign-off needs its operator's clock-in, a build order
its kit's release). When one of them was refused, the action is skipped: it could only be refused too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    # set-up, before the clock starts
    CONFIGURE_LINE = "configure_line"
    DEFINE_MODEL = "define_model"
    PUBLISH_ROUTE = "publish_route"
    DEFINE_KIT_TYPE = "define_kit_type"
    PUBLISH_CALENDAR = "publish_calendar"
    IMPORT_EMPLOYEES = "import_employees"
    SET_RECALL_GOAL = "set_recall_goal"
    SET_ANNUAL_TARGET = "set_annual_target"
    SET_WIP_RAMP = "set_wip_ramp"
    # people
    GRANT_QUALIFICATION = "grant_qualification"
    RENEW_QUALIFICATION = "renew_qualification"
    REGISTER_EMPLOYEE = "register_employee"
    RECALL_EMPLOYEE = "recall_employee"
    CHANGE_STATUS = "change_status"
    PUBLISH_ROSTER = "publish_roster"
    CLOCK_IN = "clock_in"
    CLOCK_OUT = "clock_out"
    # kits
    ANNOUNCE_SHIPMENT = "announce_shipment"
    RECEIVE_KIT = "receive_kit"
    RESOLVE_DISCREPANCY = "resolve_discrepancy"
    RELEASE_KIT = "release_kit"
    # line
    CREATE_BUILD_ORDER = "create_build_order"
    SEND_BACK = "send_back"
    STATION_EVENT = "station_event"


@dataclass(frozen=True, slots=True, eq=False)
class Action:
    seq: int
    at: datetime
    kind: Kind
    key: str
    data: dict[str, Any]
    requires: tuple[int, ...] = ()
    # 409 rules that here only mean "the upstream fact has not reached this service yet": retried until a
    # deadline (a rule the service itself marks `retryable` always is).
    lag_rules: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        if self.kind is Kind.STATION_EVENT:
            return f"{self.data['type']}@{self.data['station']}"
        return self.kind.value
