from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from mes_shared.settings import ServiceSettings

SERVICE = "reporting"


class Settings(ServiceSettings):
    """Environment variables prefixed `REPORTING_` (e.g. REPORTING_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore", frozen=True)

    # The plant's time zone for instants no line calendar covers yet (before the first
    # mes.calendar.published.v1 of a line, and for plant-wide views without a line).
    time_zone: str = "UTC"
    # Run rate for the year-end forecast: trucks per planned working day over this many last working days.
    forecast_lookback_days: int = Field(default=10, ge=2, le=120)
    # Records folded per transaction (one getmany) by the live consumer; a rebuild asks for at least
    # projections.rebuild.MIN_BATCH per transaction.
    projection_batch_size: int = Field(default=2000, ge=1, le=50_000)
    # Server-Sent Events keep-alive.
    stream_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    # "Qualifications expiring soon" looks this many days ahead unless the query says otherwise.
    qualification_warning_days: int = Field(default=30, ge=1, le=365)
    # A rebuild swaps in when it has caught up with the live projection; it tries this many times to
    # catch up under a brief lock before it swaps anyway (the live consumer then re-applies the gap).
    rebuild_swap_attempts: int = Field(default=20, ge=1, le=1000)
    # When the code's projection layout differs from the active tables', rebuild into the new layout at start.
    auto_rebuild_on_layout_change: bool = True

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value
