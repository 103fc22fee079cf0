from pydantic_settings import SettingsConfigDict

from mes_shared.settings import ServiceSettings

SERVICE = "kit-receiving"


class Settings(ServiceSettings):
    """Environment variables prefixed `KIT_RECEIVING_` (e.g. KIT_RECEIVING_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="KIT_RECEIVING_", extra="ignore", frozen=True)
