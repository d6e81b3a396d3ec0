"""Bring a database to the schema this code expects, at start-up: upgraded in place, never dropped.

The migrations live in ``lib/store/migrations/versions`` (Alembic). A database made
before migrations existed (tables, no ``alembic_version``) is the baseline schema:
it is stamped ``0001`` and upgraded from there. A database made by a *newer* version
of the app is refused with a message instead of being used half-understood.
Servers starting at once on one PostgreSQL take turns (an advisory lock).

Example:
    >>> import sqlalchemy as sa
    >>> engine = sa.create_engine("sqlite://")
    >>> upgrade(engine)[-1] == head()
    True
    >>> upgrade(engine)  # already there: nothing to do
    []
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

SCRIPTS = Path(__file__).with_name("migrations")
BASELINE = "0001"
_LOCK_ID = 7_204_311  # any constant shared by every server of this app


class SchemaTooNew(RuntimeError):
    """The database was upgraded by a newer version of the app than this one."""


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this code knows."""
    revision = _scripts().get_current_head()
    assert revision is not None, "no migrations found"
    return revision


def current(connection: sa.Connection) -> str | None:
    """The database's revision (None for a database that has never been stamped)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine) -> list[str]:
    """Upgrade ``engine``'s database to ``head()``; returns the revisions applied (oldest first)."""
    from lib.store.engine import WRITE_OPTION

    with engine.connect() as conn, conn.execution_options(**{WRITE_OPTION: True}).begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        before = current(conn)
        if before is None and sa.inspect(conn).has_table("runs"):
            command.stamp(_config(conn), BASELINE)
            before = BASELINE
        if before is not None and before not in {s.revision for s in _scripts().walk_revisions()}:
            raise SchemaTooNew(
                f"The database is at schema revision {before!r}, made by a newer version of this app. "
                "Run that version, or restore a backup made before the upgrade."
            )
        if before == head():
            return []
        pending = [s.revision for s in _scripts().iterate_revisions(head(), before or "base")]
        command.upgrade(_config(conn), "head")
    return list(reversed(pending))
