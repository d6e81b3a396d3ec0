"""Which database the store talks to, and one engine per database per process, set up for many writers.

SQLite (the default: ``studio.db`` in the data directory) runs in WAL mode with a
busy timeout, and write transactions start with ``BEGIN IMMEDIATE``, so browser
sessions and the worker write at once without "database is locked". Any other
SQLAlchemy URL (PostgreSQL for a team) is used as given, except that a plain
``postgresql://`` (or ``postgres://``) URL gets the driver this app ships, psycopg 3.

Example:
    >>> database_url("sqlite://")
    'sqlite://'
    >>> database_url("postgres://studio@db.internal/studio")
    'postgresql+psycopg://studio@db.internal/studio'
    >>> database_url("/srv/studio").endswith("/srv/studio/studio.db")
    True
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from lib.settings import DB_FILE

# Execution option that marks a connection as a writer (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "studio_write"
SQLITE_BUSY_MS = 30000
PG_POOL, PG_OVERFLOW = 10, 20  # connections per server: kept open, and more at a peak

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def database_url(url_or_data_dir: str | os.PathLike[str]) -> str:
    """A SQLAlchemy URL as given, or the SQLite file of a data directory."""
    text = str(url_or_data_dir)
    if "://" in text:
        scheme, rest = text.split("://", 1)
        return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else text
    return f"sqlite:///{(Path(text) / DB_FILE).resolve()}"


def get_engine(url: str) -> Engine:
    """One engine per URL per process, its database upgraded to this code's schema once."""
    from lib.store import migrate

    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            migrate.upgrade(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _make_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Every page's script run and the worker borrow a connection briefly; a workshop's
        # dozens of sessions on one server should not queue behind SQLAlchemy's default 5 + 10.
        return sa.create_engine(url, pool_pre_ping=True, pool_size=PG_POOL, max_overflow=PG_OVERFLOW)
    memory = parsed.database in (None, "", ":memory:")
    if not memory and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000},
        # An in-memory database exists once per connection: share that one connection.
        poolclass=StaticPool if memory else None,
    )
    _sqlite_pragmas(engine, wal=not memory)
    return engine


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we decide when BEGIN happens.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and
        # then writes can fail with "database is locked" without waiting at all.
        mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")
