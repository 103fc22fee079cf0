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
