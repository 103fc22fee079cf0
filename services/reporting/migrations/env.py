from mes_shared.migrations import run_migrations
from reporting.adapters.tables import metadata

run_migrations(metadata, database_url_env="REPORTING_DATABASE_URL")
