from assembly_line.adapters.tables import metadata
from mes_shared.migrations import run_migrations

run_migrations(metadata, database_url_env="ASSEMBLY_LINE_DATABASE_URL")
