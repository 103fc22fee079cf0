from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from mes_shared.settings import ServiceSettings

SERVICE = "workforce"


class Settings(ServiceSettings):
    """Environment variables prefixed `WORKFORCE_` (e.g. WORKFORCE_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="WORKFORCE_", extra="ignore", frozen=True)

    # The plant's own time zone: what "today" means for status dates, recall goals and expiry horizons.
    # Each line's calendar carries its own time zone for shifts.
    plant_time_zone: str = "UTC"
    # A roster that puts someone on a station they are not qualified for is refused, or accepted and
    # listed in `unqualified_assignments` (warn).
    roster_unqualified: Literal["refuse", "warn"] = "refuse"
    # A badge scan this long before a shift starts already clocks in for that shift.
    clock_in_early_minutes: int = Field(default=60, ge=0, le=720)
    # A presence nobody closed is closed automatically at shift end plus this grace period.
    clock_out_grace_minutes: int = Field(default=30, ge=0, le=720)
    # Terminals resend after the network drops: a scan may arrive this late, never later. A replay of a
    # plant's past (the plant simulator's compressed runs over a past window) needs up to the window's length.
    terminal_max_delay_minutes: int = Field(default=24 * 60, ge=1, le=400 * 24 * 60)
    # How often the workers close forgotten clock-outs and announce expired qualifications.
    sweep_interval_s: float = Field(default=30.0, ge=0.5, le=3600)
    sweep_batch_size: int = Field(default=200, ge=1, le=10_000)
    # HR's CSV import: the largest file and the most rows accepted in one request.
    import_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    import_max_rows: int = Field(default=20_000, ge=1, le=200_000)

    @field_validator("plant_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value
