from kit_receiving.adapters.tables import metadata
from mes_shared.migrations import run_migrations

run_migrations(metadata, database_url_env="KIT_RECEIVING_DATABASE_URL")
