from mes_shared.migrations import run_migrations
from workforce.adapters.tables import metadata

run_migrations(metadata, database_url_env="WORKFORCE_DATABASE_URL")
