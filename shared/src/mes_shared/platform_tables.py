"""Tables every service has: outbox, inbox (processed events) and idempotency keys.

Each service's first migration calls `create_platform_tables_v1()`. This v1 never changes; a later
change is a new function called by a new migration, so old migrations stay replayable.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

platform_metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    platform_metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True)),
)
sa.Index("outbox_pending", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))

inbox = sa.Table(
    "inbox",
    platform_metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    platform_metadata,
    sa.Column("caller", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


def create_platform_tables_v1() -> None:
    """Create the platform tables from inside an Alembic migration."""
    from alembic import op

    bind = op.get_bind()
    platform_metadata.create_all(bind, tables=[outbox, inbox, idempotency_keys])


def drop_platform_tables_v1() -> None:
    from alembic import op

    platform_metadata.drop_all(op.get_bind(), tables=[idempotency_keys, inbox, outbox])
