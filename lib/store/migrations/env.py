"""Alembic's entry point: runs the migrations on the connection ``lib.store.migrate`` hands it."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# Batch mode lets later migrations alter SQLite tables (copy, alter, swap) the same way as PostgreSQL.
context.configure(connection=connection, render_as_batch=True, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
