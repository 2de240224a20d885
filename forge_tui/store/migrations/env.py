"""Alembic environment: runs on the connection forge-tui hands it (see store/db.py)."""

from alembic import context
from sqlmodel import SQLModel

import forge_tui.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("forge-tui runs its migrations itself; start the app or call store.db.migrate().")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    transaction_per_migration=False,
)
context.run_migrations()
