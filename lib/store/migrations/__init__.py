"""Alembic migrations for the store: each file in ``versions/`` moves a database one step forward."""
