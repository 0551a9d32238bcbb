"""Alembic environment for the runtime's tables. `Database.migrate` passes the connection in."""

from __future__ import annotations

from alembic import context

from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `workflow-kit migrate` or Database.migrate()")

context.configure(
    connection=connection,
    target_metadata=schema.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
