from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mes_shared.settings import ServiceSettings

SERVICE = "assembly-line"


class Settings(ServiceSettings):
    """Environment variables prefixed `ASSEMBLY_LINE_` (e.g. ASSEMBLY_LINE_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="ASSEMBLY_LINE_", extra="ignore", frozen=True)

    # Most events one terminal may send in one backlog request.
    max_batch_events: int = Field(default=1000, ge=1, le=10_000)
    # Connections of the station-event hot path's own pool (beside database_pool_size for everything else):
    # events wait for one when all are busy, so this bounds the database work the line's terminals cause.
    terminal_pool_size: int = Field(default=16, ge=1, le=100)
    # How old a terminal's time may be (a backlog is hours old; an older time is a broken clock). A replay of a
    # plant's past through the terminals, such as the plant simulator's, needs up to its window.
    max_event_age_days: int = Field(default=30, ge=1, le=400)

    @property
    def max_event_age(self) -> timedelta:
        return timedelta(days=self.max_event_age_days)
