"""Can this server work: is its database readable, is there room on its disk; and what to tell people when not.

``/api/health`` asks ``check(settings)``; pages ask ``trouble(exc)`` for the one plain
sentence that replaces a traceback when the store fails (a full disk, a damaged
database); the server's start-up asks ``explain(settings, exc)`` for what to write in
the log about a database it cannot open, with how to restore it.

A SQLite file is checked with ``PRAGMA quick_check`` (damaged pages, not just a damaged
header), read-only and at most every ``CHECK_EVERY`` seconds; any other database with
one ``SELECT 1``.

Example:
    >>> import sqlite3
    >>> trouble(sqlite3.DatabaseError("database disk image is malformed"))
    "The server's database is damaged, so runs cannot be shown or saved. Tell the facilitator."
    >>> trouble(OSError(28, "No space left on device"))
    "The server's disk is full, so nothing can be saved. Tell the facilitator."
    >>> trouble(ValueError("a bug")) is None
    True
"""

from __future__ import annotations

import errno
import logging
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lib.logs import Throttle
from lib.settings import DB_FILE, Settings
from lib.text import one_line

log = logging.getLogger("studio.health")
_logs = Throttle(log)

CHECK_EVERY = 10.0  # seconds a database check is reused (quick_check reads the whole file)

DAMAGED = "The server's database is damaged, so runs cannot be shown or saved. Tell the facilitator."
DISK_FULL = "The server's disk is full, so nothing can be saved. Tell the facilitator."
UNREADABLE = "The server cannot read its database right now. Tell the facilitator."

# What SQLite (through any driver) says when the file itself is broken.
_DAMAGE_WORDS = ("malformed", "not a database", "file is encrypted", "corrupt")
_FULL_WORDS = ("database or disk is full", "no space left")
_IO_WORDS = ("disk i/o error", "unable to open database file", "readonly database")
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


@dataclass(frozen=True)
class Part:
    """One thing the server needs: ``ok``, and a short word (``"ok"``, ``"damaged"``, ``"full"``, ...)."""

    ok: bool
    state: str
    detail: str = ""


@dataclass(frozen=True)
class Report:
    database: Part
    disk: Part
    free_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.database.ok and self.disk.ok

    def as_json(self) -> dict[str, Any]:
        problems = [p.detail for p in (self.database, self.disk) if not p.ok and p.detail]
        body: dict[str, Any] = {
            "status": "ok" if self.ok else "error",
            **self.extra,
            "database": self.database.state,
            "disk": self.disk.state,
            "free_bytes": self.free_bytes,
        }
        if problems:
            body["problems"] = problems
        return body


# --- what an exception means ------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 10:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__, getattr(item, "orig", None)])
    return seen


def kind(exc: BaseException) -> str | None:
    """``"full"``, ``"damaged"`` or ``"unreadable"`` when ``exc`` comes from the server's storage, else None."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.errno in _FULL_ERRNOS:
            return "full"
        text = str(item).lower()
        storage = isinstance(item, sqlite3.Error | sa.exc.DBAPIError | sa.exc.OperationalError)
        if storage and any(w in text for w in _FULL_WORDS):
            return "full"
        if storage and any(w in text for w in _DAMAGE_WORDS):
            return "damaged"
        if storage and any(w in text for w in _IO_WORDS):
            return "unreadable"
    return None


def trouble(exc: BaseException) -> str | None:
    """The plain sentence for a page when ``exc`` is the server's storage failing; None for anything else."""
    return {"full": DISK_FULL, "damaged": DAMAGED, "unreadable": UNREADABLE}.get(kind(exc) or "")


def note(exc: BaseException) -> None:
    """Log a storage failure a page met, with its traceback, at most once every few minutes per kind."""
    _logs.log(kind(exc) or "other", logging.ERROR, "a page met the server's storage failing: %s", exc, exc_info=True)


# --- checks -------------------------------------------------------------------------------------

_cache: dict[str, tuple[float, Part]] = {}
_cache_lock = threading.Lock()


def database(url: str, *, now: float | None = None) -> Part:
    """Is the database at ``url`` readable and whole? (Cached for ``CHECK_EVERY`` seconds.)"""
    now = time.monotonic() if now is None else now
    with _cache_lock:
        hit = _cache.get(url)
    if hit is not None and now - hit[0] < CHECK_EVERY:
        return hit[1]
    part = _check_database(url)
    with _cache_lock:
        _cache[url] = (now, part)
    return part


def _check_database(url: str) -> Part:
    parsed = sa.engine.make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return _check_sqlite(Path(str(parsed.database)))
        from lib.store.engine import get_engine

        with get_engine(url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return Part(True, "ok")
    except Exception as exc:
        what = kind(exc) or "unreadable"
        return Part(False, what, trouble(exc) or UNREADABLE)


def _check_sqlite(path: Path) -> Part:
    if not path.exists():
        return Part(True, "ok", "not created yet")
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    finally:
        conn.close()
    if rows != [("ok",)]:
        return Part(False, "damaged", DAMAGED)
    return Part(True, "ok")


def disk(data_dir: Path, min_free: int) -> tuple[Part, int | None]:
    """Is at least ``min_free`` bytes free where the data dir lives? Also returns the free bytes."""
    path = Path(data_dir)
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return Part(False, "unreadable", UNREADABLE), None
    if free < min_free:
        return Part(False, "full", DISK_FULL), free
    return Part(True, "ok"), free


def check(settings: Settings, **extra: Any) -> Report:
    """The database and the disk of ``settings``; ``extra`` goes into the JSON as it is (mode, worker)."""
    space, free = disk(settings.data_dir, settings.min_free_bytes)
    return Report(database(settings.db_url), space, free, dict(extra))


def forget() -> None:
    """Drop cached database checks (tests; after a restore)."""
    with _cache_lock:
        _cache.clear()


# --- the start-up log -----------------------------------------------------------------------------


def explain(settings: Settings, exc: BaseException) -> str:
    """What the server writes in its log when its database cannot be opened at start, and how to restore it."""
    what = kind(exc)
    reason = one_line(str(exc), 300)
    if what == "full":
        return (
            f"The disk holding {settings.data_dir} is full, so the database cannot be written ({reason}). "
            "The app keeps serving pages that say so. Free some space (old videos are in "
            f"{settings.data_dir / 'media'}), then restart the app."
        )
    if settings.database_url:
        return (
            f"The database at DATABASE_URL cannot be used ({reason}). The app keeps serving pages that say so; "
            "nothing was changed. Restore the database from your last backup, then restart the app."
        )
    db = settings.data_dir / DB_FILE
    return (
        f"The database {db} is damaged or unreadable ({reason}). The app keeps serving pages that say so; "
        f"nothing was changed or deleted. To restore it: stop the app; move {DB_FILE}, {DB_FILE}-wal and "
        f"{DB_FILE}-shm out of {settings.data_dir}; then either copy your last backup of {DB_FILE} back in, "
        f'or recover what is readable with: sqlite3 {DB_FILE}.damaged ".recover" | sqlite3 {db} ; '
        "or start with no database at all (runs are then forgotten; saved videos stay in media/). "
        "Then start the app again."
    )
