"""Workspaces and runs, persisted with SQLAlchemy Core so browser sessions and the worker share one truth.

A run's ``status`` is one closed set of plain strings (see ``STATUSES``)::

    submitting ──POST──▶ pending ─▶ processing ─▶ completed ──download──▶ archived
        │                    └──────────┴────────────┴──▶ failed
        ├──▶ submit_failed   (refused or never sent: nothing was charged)
        └──▶ unknown         (the POST's outcome is unknown: check the provider)
                                                  completed ──▶ expired (link gone)

``archived`` is the only happy ending; ``failed``, ``submit_failed``, ``unknown``
and ``expired`` are the other terminal states and always carry ``error_code`` and
``error_message``. A run is *billed* (counts against the budget) unless it ended
``submit_failed``, or ``failed`` before the provider completed it.

Times are Unix seconds (floats). SQLite (the default, a file in ``STUDIO_DATA_DIR``)
runs in WAL mode with a busy timeout and ``BEGIN IMMEDIATE`` write transactions, so
several sessions and the worker write at once without "database is locked".
``DATABASE_URL`` points the same code at PostgreSQL.

Example:
    >>> store = Store("sqlite://")
    >>> ws = store.create_workspace("Demo")
    >>> store.get_workspace(ws.id).name
    'Demo'
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from lib.schema import GenerationRequest, Task, TaskState
from lib.settings import HOOK_PREFIX

# --- statuses ----------------------------------------------------------------------------

SUBMITTING = "submitting"
PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
ARCHIVED = "archived"
FAILED = "failed"
SUBMIT_FAILED = "submit_failed"
UNKNOWN = "unknown"
EXPIRED = "expired"

STATUSES: tuple[str, ...] = (
    SUBMITTING,
    PENDING,
    PROCESSING,
    COMPLETED,
    ARCHIVED,
    FAILED,
    SUBMIT_FAILED,
    UNKNOWN,
    EXPIRED,
)
# The provider is working on it: the worker polls these.
POLLED = frozenset({PENDING, PROCESSING})
# Finished upstream, video not yet saved: the worker downloads these.
TO_ARCHIVE = frozenset({COMPLETED})
UNFINISHED = frozenset({SUBMITTING}) | POLLED | TO_ARCHIVE
TERMINAL = frozenset({ARCHIVED, FAILED, SUBMIT_FAILED, UNKNOWN, EXPIRED})

# Words for the screen; the UI should not invent its own.
STATUS_LABELS = {
    SUBMITTING: "submitting",
    PENDING: "queued",
    PROCESSING: "generating",
    COMPLETED: "saving video",
    ARCHIVED: "done",
    FAILED: "failed",
    SUBMIT_FAILED: "not submitted",
    UNKNOWN: "unknown — check the provider dashboard",
    EXPIRED: "expired — the video link ran out before it was saved",
}

ERROR_TEXT_MAX = 500  # server text is kept as plain text, and only this much of it
NOTES_MAX = 5000
RATING_RANGE = (1, 5)
SUBMIT_GRACE_SECONDS = 5.0  # a run may sit in `submitting` this long while its POST is on the wire

DEFAULT_DB_NAME = "studio.db"

_ID = re.compile(r"^[A-Za-z0-9_-]{6,32}$")
_PROCESS = secrets.token_hex(8)  # marks runs created by this process, for crash recovery


def new_id(nbytes: int = 9) -> str:
    """A random url-safe id (only ``[A-Za-z0-9_-]``), safe in widget keys and URLs."""
    return secrets.token_urlsafe(nbytes)


def valid_id(value: object) -> bool:
    """True for strings shaped like our ids; use before trusting one from a URL."""
    return isinstance(value, str) and bool(_ID.fullmatch(value))


def clean_text(value: object, limit: int = ERROR_TEXT_MAX) -> str:
    """Untrusted text reduced to printable plain text of bounded length."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- schema --------------------------------------------------------------------------------

metadata = sa.MetaData()

workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("budget_credits", sa.Float, nullable=True),
    sa.Column("per_participant_cap", sa.Float, nullable=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), nullable=False, index=True),
    # One form submission = one key: a double click inserts nothing new.
    sa.Column("submit_key", sa.String(128), nullable=True, unique=True),
    sa.Column("request_json", sa.Text, nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("estimate_credits", sa.Float, nullable=False),
    sa.Column("estimate_exact", sa.Boolean, nullable=False),
    sa.Column("key_fingerprint", sa.String(64), nullable=False),
    sa.Column("participant", sa.String(100), nullable=True),
    sa.Column("parent_id", sa.String(32), nullable=True),
    sa.Column("group_id", sa.String(64), nullable=True, index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("progress", sa.Integer, nullable=False, default=0),
    sa.Column("task_id", sa.String(256), nullable=True, index=True),
    sa.Column("credits_reserved", sa.Float, nullable=True),
    sa.Column("estimated_time", sa.Float, nullable=True),
    sa.Column("video_url", sa.Text, nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("poll_error", sa.Text, nullable=True),
    sa.Column("media_token", sa.String(64), nullable=True),
    sa.Column("media_bytes", sa.Integer, nullable=True),
    sa.Column("media_duration", sa.Float, nullable=True),
    sa.Column("media_width", sa.Integer, nullable=True),
    sa.Column("media_height", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=True),
    sa.Column("submitted_at", sa.Float, nullable=True),
    sa.Column("completed_at", sa.Float, nullable=True),
    sa.Column("archived_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("next_poll_at", sa.Float, nullable=True),
    sa.Column("last_polled_at", sa.Float, nullable=True),
    sa.Column("poll_count", sa.Integer, nullable=False, default=0),
    sa.Column("poll_failures", sa.Integer, nullable=False, default=0),
    sa.Column("archive_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("owner", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


# A comparison grid: its axes, labels and which run fills each cell. The runs carry
# the comparison id as their group_id, so they also appear in the gallery as runs.
comparisons = sa.Table(
    "comparisons",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)


# --- plain data out --------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created_at: float
    budget_credits: float | None
    per_participant_cap: float | None


@dataclass(frozen=True)
class Run:
    """One run as stored: plain fields; ``.request`` rebuilds the GenerationRequest."""

    id: str
    workspace_id: str
    submit_key: str | None
    request_json: str
    model: str
    estimate_credits: float
    estimate_exact: bool
    key_fingerprint: str
    participant: str | None
    parent_id: str | None
    group_id: str | None
    status: str
    progress: int
    task_id: str | None
    credits_reserved: float | None
    estimated_time: float | None
    video_url: str | None
    error_code: str | None
    error_message: str | None
    poll_error: str | None
    media_token: str | None
    media_bytes: int | None
    media_duration: float | None
    media_width: int | None
    media_height: int | None
    created_at: float
    claimed_at: float | None
    submitted_at: float | None
    completed_at: float | None
    archived_at: float | None
    finished_at: float | None
    next_poll_at: float | None
    last_polled_at: float | None
    poll_count: int
    poll_failures: int
    archive_attempts: int
    rating: int | None
    notes: str | None
    owner: str
    updated_at: float

    @cached_property
    def payload(self) -> dict:
        return json.loads(self.request_json)

    @cached_property
    def request(self) -> GenerationRequest:
        return GenerationRequest.from_payload(self.payload)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def archived(self) -> bool:
        return self.status == ARCHIVED and self.media_token is not None

    @property
    def billed(self) -> bool:
        """May this run cost credits? (What budgets count.)"""
        return _billed(self.status, self.completed_at)

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _billed(status: str, completed_at: float | None) -> bool:
    return not (status == SUBMIT_FAILED or (status == FAILED and completed_at is None))


_RUN_FIELDS = tuple(f.name for f in fields(Run))


def _run(row: Any) -> Run:
    m = row._mapping
    return Run(**{name: m[name] for name in _RUN_FIELDS})


def _workspace(row: Any) -> Workspace:
    return Workspace(**dict(row._mapping))


@dataclass(frozen=True)
class Comparison:
    """A saved comparison grid; ``spec`` is the plain dict ``lib.compare`` reads and writes."""

    id: str
    workspace_id: str
    title: str
    spec_json: str
    created_at: float

    @cached_property
    def spec(self) -> dict:
        return json.loads(self.spec_json)


def _comparison(row: Any) -> Comparison:
    return Comparison(**dict(row._mapping))


class BudgetExceeded(Exception):
    """A run would take the workspace or a participant over budget."""

    def __init__(self, message: str, *, room: float) -> None:
        super().__init__(message)
        self.room = room


# --- engines -----------------------------------------------------------------------------

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def database_url(url_or_data_dir: str | os.PathLike | None = None) -> str:
    """The URL to use: an explicit URL, a data dir's SQLite file, else env, else ./data."""
    if url_or_data_dir is None:
        env_url = os.environ.get("DATABASE_URL", "").strip()
        if env_url:
            return env_url
        url_or_data_dir = default_data_dir()
    text = str(url_or_data_dir)
    if "://" in text:
        return text
    path = Path(text)
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(path / DEFAULT_DB_NAME).resolve()}"


def default_data_dir() -> Path:
    return Path(os.environ.get("STUDIO_DATA_DIR", "").strip() or "data").resolve()


def get_engine(url: str) -> Engine:
    """One engine per URL per process, its tables created once."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            metadata.create_all(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, future=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        # An in-memory database exists once per connection: share that one connection.
        poolclass=StaticPool if memory else None,
    )
    _sqlite_pragmas(engine, wal=not memory)
    return engine


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        # Take transaction control from the driver so we decide when BEGIN happens.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Writers take the write lock up front: a deferred transaction that reads and
        # then writes can fail with "database is locked" without waiting at all.
        mode = "IMMEDIATE" if conn.get_execution_options().get("studio_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


# --- the store -----------------------------------------------------------------------------


class Store:
    """Workspaces and runs in one database; cheap to construct (engines are cached)."""

    def __init__(
        self, url_or_data_dir: str | os.PathLike | None = None, *, data_dir: str | os.PathLike | None = None
    ) -> None:
        self.url = database_url(url_or_data_dir)
        if data_dir is not None:
            self.data_dir = Path(data_dir).resolve()
        elif url_or_data_dir is not None and "://" not in str(url_or_data_dir):
            self.data_dir = Path(url_or_data_dir).resolve()
        else:
            self.data_dir = default_data_dir()
        self.engine = get_engine(self.url)
        self._writer = self.engine.execution_options(studio_write=True)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- workspaces ----------------------------------------------------------------------

    def create_workspace(self, name: str | None = None, *, now: float | None = None) -> Workspace:
        now = time.time() if now is None else now
        row = {
            "id": new_id(8),
            "name": clean_text(name, 200) or "Untitled workspace",
            "created_at": now,
            "budget_credits": None,
            "per_participant_cap": None,
        }
        with self._write() as conn:
            conn.execute(workspaces.insert().values(**row))
        return Workspace(**row)

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        if not valid_id(workspace_id):
            return None
        with self._read() as conn:
            row = conn.execute(workspaces.select().where(workspaces.c.id == workspace_id)).first()
        return _workspace(row) if row else None

    def list_workspaces(self) -> list[Workspace]:
        with self._read() as conn:
            rows = conn.execute(workspaces.select().order_by(workspaces.c.created_at)).all()
        return [_workspace(r) for r in rows]

    def rename_workspace(self, workspace_id: str, name: str) -> Workspace | None:
        name = clean_text(name, 200)
        if not name:
            raise ValueError("Workspace name: cannot be empty.")
        with self._write() as conn:
            conn.execute(workspaces.update().where(workspaces.c.id == workspace_id).values(name=name))
        return self.get_workspace(workspace_id)

    def set_budget(
        self, workspace_id: str, budget_credits: float | None, per_participant_cap: float | None = None
    ) -> Workspace | None:
        """Set or clear (None) the workspace budget and the per-participant cap, in credits."""
        for label, value in (("Budget", budget_credits), ("Per-participant cap", per_participant_cap)):
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"{label}: a number of credits, 0 or more, or empty for no limit.")
        with self._write() as conn:
            conn.execute(
                workspaces.update()
                .where(workspaces.c.id == workspace_id)
                .values(budget_credits=budget_credits, per_participant_cap=per_participant_cap)
            )
        return self.get_workspace(workspace_id)

    # --- creating and submitting runs ----------------------------------------------------

    def create_run(
        self,
        workspace_id: str,
        request: GenerationRequest,
        estimate_credits: float,
        estimate_exact: bool,
        key_fingerprint: str,
        participant: str | None = None,
        parent_id: str | None = None,
        group_id: str | None = None,
        *,
        submit_key: str | None = None,
        enforce_budget: bool = False,
        now: float | None = None,
    ) -> Run:
        """Persist a run as ``submitting``, before any POST.

        With ``submit_key`` (one per form submission) a second call returns the first
        run instead of inserting another. With ``enforce_budget`` the budget check and
        the insert happen in one transaction, so two participants cannot both take the
        last credits; raises ``BudgetExceeded``.
        """
        workspace_id = getattr(workspace_id, "id", workspace_id)
        now = time.time() if now is None else now
        if submit_key is not None:
            existing = self._run_by_submit_key(submit_key)
            if existing is not None:
                return existing
        participant = clean_text(participant, 100) or None
        row = {
            "id": new_id(),
            "workspace_id": workspace_id,
            "submit_key": submit_key,
            "request_json": _request_json(request),
            "model": request.model,
            "estimate_credits": float(estimate_credits),
            "estimate_exact": bool(estimate_exact),
            "key_fingerprint": key_fingerprint,
            "participant": participant,
            "parent_id": parent_id,
            "group_id": group_id,
            "status": SUBMITTING,
            "progress": 0,
            "poll_count": 0,
            "poll_failures": 0,
            "archive_attempts": 0,
            "created_at": now,
            "owner": _PROCESS,
            "updated_at": now,
        }
        try:
            with self._write() as conn:
                if enforce_budget:
                    self._check_budget(conn, workspace_id, participant, float(estimate_credits))
                conn.execute(runs.insert().values(**row))
        except IntegrityError:
            # Lost a race with the same submit_key (or the workspace is gone).
            existing = self._run_by_submit_key(submit_key) if submit_key else None
            if existing is None:
                raise
            return existing
        return self.get_run(row["id"])  # type: ignore[return-value]

    def _run_by_submit_key(self, submit_key: str) -> Run | None:
        with self._read() as conn:
            row = conn.execute(runs.select().where(runs.c.submit_key == submit_key)).first()
        return _run(row) if row else None

    def claim_submit(self, run_id: str, *, now: float | None = None) -> bool:
        """Compare-and-set guard: True for exactly one caller, who may send the one POST."""
        now = time.time() if now is None else now
        with self._write() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == SUBMITTING, runs.c.claimed_at.is_(None))
                .values(claimed_at=now, updated_at=now)
            )
        return result.rowcount == 1

    def mark_submitted(self, run_id: str, task: Task, *, now: float | None = None) -> Run | None:
        """Record the provider's answer to the POST; the worker takes it from here.

        Also accepted from ``unknown``: a late answer beats crash recovery's guess.
        """
        now = time.time() if now is None else now
        status = _status_of(task)
        url = _url(task)
        # Anything but a plain "working on it" (or a finished run with its link) is left
        # for the worker's first GET to confirm.
        if status not in POLLED and not (status == COMPLETED and url):
            status = PENDING
        values = {
            "status": status,
            "task_id": clean_text(task.id, 256),
            "credits_reserved": task.credits_reserved,
            "estimated_time": task.estimated_time,
            "progress": task.progress,
            "submitted_at": now,
            "next_poll_at": None,  # None: the worker's schedule decides from submitted_at
            "error_code": None,
            "error_message": None,
            "finished_at": None,
            "updated_at": now,
        }
        if status == COMPLETED:
            values.update(completed_at=now, video_url=url, progress=100)
        return self._transition(run_id, {SUBMITTING, UNKNOWN}, values)

    def mark_submit_failed(self, run_id: str, code: str, message: str, *, now: float | None = None) -> Run | None:
        """The POST was refused (or never sent): nothing was charged."""
        return self._finish(run_id, {SUBMITTING}, SUBMIT_FAILED, code, message, now)

    def mark_unknown(self, run_id: str, code: str, message: str, *, now: float | None = None) -> Run | None:
        """The POST's outcome is unknown (timeout, 5xx, crash): never resubmit it."""
        return self._finish(run_id, {SUBMITTING} | POLLED, UNKNOWN, code, message, now)

    # --- the worker's updates ------------------------------------------------------------------

    def update_from_task(
        self, run_id: str, task: Task, next_poll_at: float | None = None, *, now: float | None = None
    ) -> Run | None:
        """Apply one poll's answer; never moves a run backwards out of a later state."""
        now = time.time() if now is None else now
        status = _status_of(task)
        values: dict[str, Any] = {
            "progress": task.progress,
            "last_polled_at": now,
            "next_poll_at": next_poll_at,
            "poll_count": runs.c.poll_count + 1,
            "poll_failures": 0,
            "poll_error": None,
            "updated_at": now,
        }
        if task.estimated_time is not None:
            values["estimated_time"] = task.estimated_time
        if status == COMPLETED:
            url = _url(task)
            if url is None:
                values.update(
                    status=FAILED,
                    completed_at=now,
                    finished_at=now,
                    error_code="no_result",
                    error_message="The provider reported the run completed but sent no video link.",
                )
            else:
                values.update(status=COMPLETED, progress=100, completed_at=now, video_url=url, next_poll_at=None)
        elif status == FAILED:
            err = task.error
            values.update(
                status=FAILED,
                finished_at=now,
                error_code=clean_text(err.code if err else "unknown_error", 64),
                error_message=clean_text(
                    err.message if err and err.message else "The provider reported the run failed."
                ),
            )
        elif status == UNKNOWN:
            values.update(
                status=UNKNOWN,
                finished_at=now,
                error_code="unexpected_status",
                error_message=clean_text(
                    f"The provider ended this task with status {task.status!r}, which this app does not know. "
                    "Check the provider dashboard."
                ),
            )
        else:
            values["status"] = status
        return self._transition(run_id, POLLED, values)

    def record_poll_error(
        self, run_id: str, message: str, next_poll_at: float, *, now: float | None = None
    ) -> Run | None:
        """A poll went wrong (429, 5xx, network): keep the run, try again later."""
        now = time.time() if now is None else now
        values = {
            "poll_failures": runs.c.poll_failures + 1,
            "poll_count": runs.c.poll_count + 1,
            "poll_error": clean_text(message),
            "last_polled_at": now,
            "next_poll_at": next_poll_at,
            "updated_at": now,
        }
        return self._transition(run_id, POLLED, values)

    def defer(self, run_id: str, next_poll_at: float, *, now: float | None = None) -> None:
        """Move a run's next poll or download without counting an attempt."""
        now = time.time() if now is None else now
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(next_poll_at=next_poll_at, updated_at=now))

    def mark_failed(self, run_id: str, code: str, message: str, *, now: float | None = None) -> Run | None:
        """Give up on a run (task gone, video unsavable) with a message a person can act on."""
        return self._finish(run_id, POLLED | TO_ARCHIVE, FAILED, code, message, now)

    def mark_archived(
        self,
        run_id: str,
        token: str,
        size: int,
        duration: float | None = None,
        width: int | None = None,
        height: int | None = None,
        *,
        now: float | None = None,
    ) -> Run | None:
        now = time.time() if now is None else now
        values = {
            "status": ARCHIVED,
            "media_token": token,
            "media_bytes": int(size),
            "media_duration": duration,
            "media_width": width,
            "media_height": height,
            "archived_at": now,
            "finished_at": now,
            "next_poll_at": None,
            "error_code": None,
            "error_message": None,
            "updated_at": now,
        }
        return self._transition(run_id, TO_ARCHIVE, values)

    def record_archive_error(
        self, run_id: str, message: str, next_attempt_at: float, *, now: float | None = None
    ) -> Run | None:
        now = time.time() if now is None else now
        values = {
            "archive_attempts": runs.c.archive_attempts + 1,
            "poll_error": clean_text(message),
            "next_poll_at": next_attempt_at,
            "updated_at": now,
        }
        return self._transition(run_id, TO_ARCHIVE, values)

    def mark_expired(self, run_id: str, message: str | None = None, *, now: float | None = None) -> Run | None:
        message = message or "The video link expired (links last 24 hours) before the video was saved."
        return self._finish(run_id, TO_ARCHIVE, EXPIRED, "link_expired", message, now)

    def _finish(
        self, run_id: str, allowed: set | frozenset, status: str, code: str, message: str, now: float | None
    ) -> Run | None:
        now = time.time() if now is None else now
        values = {
            "status": status,
            "error_code": clean_text(code, 64) or "error",
            "error_message": clean_text(message) or STATUS_LABELS[status],
            "finished_at": now,
            "next_poll_at": None,
            "updated_at": now,
        }
        return self._transition(run_id, allowed, values)

    def _transition(self, run_id: str, allowed: Iterable[str], values: dict) -> Run | None:
        """Update only if the run is still in one of ``allowed``; return it either way."""
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.status.in_(list(allowed))).values(**values))
            row = conn.execute(runs.select().where(runs.c.id == run_id)).first()
        return _run(row) if row else None

    # --- crash recovery ----------------------------------------------------------------------

    def recover_after_crash(
        self, *, grace_seconds: float = SUBMIT_GRACE_SECONDS, now: float | None = None
    ) -> list[str]:
        """Settle runs a previous process left in ``submitting``; never resubmits.

        Unclaimed ones never reached the wire (``submit_failed``, nothing charged);
        claimed ones may have been created upstream (``unknown``: check the provider
        dashboard). Runs of this process younger than ``grace_seconds`` are left alone,
        since their POST may still be in flight. Returns the ids changed.
        """
        now = time.time() if now is None else now
        cutoff = now - grace_seconds
        stale = sa.and_(
            runs.c.status == SUBMITTING,
            runs.c.created_at < cutoff,
            sa.or_(runs.c.owner != _PROCESS, runs.c.created_at < now - 600),
        )
        with self._write() as conn:
            rows = conn.execute(sa.select(runs.c.id, runs.c.claimed_at).where(stale)).all()
            for run_id, claimed_at in rows:
                if claimed_at is None:
                    status, code, msg = (
                        SUBMIT_FAILED,
                        "not_sent",
                        "The app stopped before this run was sent; nothing was charged. Submit it again.",
                    )
                else:
                    status, code, msg = (
                        UNKNOWN,
                        "submit_interrupted",
                        "The app stopped while sending this run, so it may or may not have been "
                        "created (and billed). Check the provider dashboard before submitting again.",
                    )
                conn.execute(
                    runs.update()
                    .where(runs.c.id == run_id, runs.c.status == SUBMITTING)
                    .values(status=status, error_code=code, error_message=msg, finished_at=now, updated_at=now)
                )
        return [r[0] for r in rows]

    # --- reading ----------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run | None:
        if not valid_id(run_id):
            return None
        with self._read() as conn:
            row = conn.execute(runs.select().where(runs.c.id == run_id)).first()
        return _run(row) if row else None

    def run_for_task(self, task_id: str) -> Run | None:
        """The run holding a provider task id (callbacks name tasks, not runs)."""
        if not isinstance(task_id, str) or not task_id or len(task_id) > 256:
            return None
        with self._read() as conn:
            row = conn.execute(runs.select().where(runs.c.task_id == task_id)).first()
        return _run(row) if row else None

    def list_runs(
        self,
        workspace_id: str,
        *,
        status: str | Iterable[str] | None = None,
        participant: str | None = None,
        group_id: str | None = None,
        model: str | None = None,
        parent_id: str | None = None,
        min_rating: int | None = None,
        since: float | None = None,
        limit: int | None = 500,
        newest_first: bool = True,
    ) -> list[Run]:
        """Runs of one workspace, newest first by default; every filter is optional."""
        workspace_id = getattr(workspace_id, "id", workspace_id)
        q = runs.select().where(runs.c.workspace_id == workspace_id)
        if status is not None:
            q = q.where(runs.c.status.in_([status] if isinstance(status, str) else list(status)))
        for column, value in (
            (runs.c.participant, participant),
            (runs.c.group_id, group_id),
            (runs.c.model, model),
            (runs.c.parent_id, parent_id),
        ):
            if value is not None:
                q = q.where(column == value)
        if min_rating is not None:
            q = q.where(runs.c.rating >= min_rating)
        if since is not None:
            q = q.where(runs.c.created_at >= since)
        order = runs.c.created_at.desc() if newest_first else runs.c.created_at.asc()
        q = q.order_by(order, runs.c.id)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(q).all()]

    def unfinished_runs(self, *, due_before: float | None = None, limit: int | None = None) -> list[Run]:
        """Runs the worker owes a poll or a download, across all workspaces, soonest first."""
        q = runs.select().where(runs.c.status.in_(list(POLLED | TO_ARCHIVE)))
        if due_before is not None:
            q = q.where(sa.or_(runs.c.next_poll_at.is_(None), runs.c.next_poll_at <= due_before))
        q = q.order_by(sa.func.coalesce(runs.c.next_poll_at, 0.0), runs.c.created_at)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(q).all()]

    def count_runs(self, workspace_id: str | None = None, status: str | Iterable[str] | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(runs)
        if workspace_id is not None:
            q = q.where(runs.c.workspace_id == getattr(workspace_id, "id", workspace_id))
        if status is not None:
            q = q.where(runs.c.status.in_([status] if isinstance(status, str) else list(status)))
        with self._read() as conn:
            return int(conn.execute(q).scalar_one())

    # --- rating and notes -----------------------------------------------------------------------

    def set_rating(self, run_id: str, rating: int | None) -> Run | None:
        lo, hi = RATING_RANGE
        if rating is not None and (type(rating) is not int or not lo <= rating <= hi):
            raise ValueError(f"Rating: a whole number from {lo} to {hi}, or empty.")
        return self._set(run_id, rating=rating)

    def set_notes(self, run_id: str, notes: str | None) -> Run | None:
        text = (notes or "")[:NOTES_MAX]
        return self._set(run_id, notes=text or None)

    def _set(self, run_id: str, **values: Any) -> Run | None:
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values, updated_at=time.time()))
        return self.get_run(run_id)

    # --- comparisons ------------------------------------------------------------------------------

    def create_comparison(
        self, workspace_id: str, title: str, spec: dict, *, comparison_id: str | None = None, now: float | None = None
    ) -> Comparison:
        """Save a comparison grid; ``comparison_id`` lets the caller use the id its runs already carry."""
        workspace_id = getattr(workspace_id, "id", workspace_id)
        if comparison_id is not None and not valid_id(comparison_id):
            raise ValueError("comparison id: 6-32 characters of letters, digits, - and _.")
        row = {
            "id": comparison_id or new_id(),
            "workspace_id": workspace_id,
            "title": clean_text(title, 200) or "Comparison",
            "spec_json": json.dumps(spec, sort_keys=True),
            "created_at": time.time() if now is None else now,
        }
        with self._write() as conn:
            existing = conn.execute(comparisons.select().where(comparisons.c.id == row["id"])).first()
            if existing is not None:  # a rerun of the same submission: keep the first
                return _comparison(existing)
            conn.execute(comparisons.insert().values(**row))
        return Comparison(**row)

    def get_comparison(self, comparison_id: str) -> Comparison | None:
        if not valid_id(comparison_id):
            return None
        with self._read() as conn:
            row = conn.execute(comparisons.select().where(comparisons.c.id == comparison_id)).first()
        return _comparison(row) if row else None

    def list_comparisons(self, workspace_id: str, *, limit: int | None = 100) -> list[Comparison]:
        """Comparisons of one workspace, newest first."""
        q = (
            comparisons.select()
            .where(comparisons.c.workspace_id == getattr(workspace_id, "id", workspace_id))
            .order_by(comparisons.c.created_at.desc(), comparisons.c.id)
        )
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [_comparison(r) for r in conn.execute(q).all()]

    def update_comparison_spec(self, comparison_id: str, spec: dict) -> Comparison | None:
        """Replace a comparison's spec (e.g. to record the winner)."""
        with self._write() as conn:
            conn.execute(
                comparisons.update()
                .where(comparisons.c.id == comparison_id)
                .values(spec_json=json.dumps(spec, sort_keys=True))
            )
        return self.get_comparison(comparison_id)

    # --- budgets ----------------------------------------------------------------------------------

    def committed_credits(self, workspace_id: str, participant: str | None = None) -> float:
        """Estimated credits of every billed run (finished or in flight): what budgets count."""
        with self._read() as conn:
            return self._committed(conn, getattr(workspace_id, "id", workspace_id), participant)

    def spent_credits(self, workspace_id: str, participant: str | None = None) -> float:
        """Estimated credits of runs the provider finished (completed, archived, expired)."""
        q = sa.select(sa.func.coalesce(sa.func.sum(runs.c.estimate_credits), 0.0)).where(
            runs.c.workspace_id == getattr(workspace_id, "id", workspace_id),
            runs.c.completed_at.is_not(None),
        )
        if participant is not None:
            q = q.where(runs.c.participant == participant)
        with self._read() as conn:
            return float(conn.execute(q).scalar_one())

    def budget_room(self, workspace_id: str, participant: str | None = None) -> float | None:
        """Credits still allowed for this participant (None: no limit at all)."""
        with self._read() as conn:
            return self._room(conn, getattr(workspace_id, "id", workspace_id), participant)

    def _committed(self, conn: Connection, workspace_id: str, participant: str | None) -> float:
        not_billed = sa.or_(
            runs.c.status == SUBMIT_FAILED,
            sa.and_(runs.c.status == FAILED, runs.c.completed_at.is_(None)),
        )
        q = sa.select(sa.func.coalesce(sa.func.sum(runs.c.estimate_credits), 0.0)).where(
            runs.c.workspace_id == workspace_id, sa.not_(not_billed)
        )
        if participant is not None:
            q = q.where(runs.c.participant == participant)
        return float(conn.execute(q).scalar_one())

    def _room(self, conn: Connection, workspace_id: str, participant: str | None) -> float | None:
        q = workspaces.select().where(workspaces.c.id == workspace_id)
        if conn.dialect.name != "sqlite":
            q = q.with_for_update()  # serialise budget checks on PostgreSQL too
        row = conn.execute(q).first()
        if row is None:
            raise KeyError(f"no workspace {workspace_id!r}")
        ws = _workspace(row)
        rooms = []
        if ws.budget_credits is not None:
            rooms.append(ws.budget_credits - self._committed(conn, workspace_id, None))
        if ws.per_participant_cap is not None and participant:
            rooms.append(ws.per_participant_cap - self._committed(conn, workspace_id, participant))
        return min(rooms) if rooms else None

    def _check_budget(self, conn: Connection, workspace_id: str, participant: str | None, credits: float) -> None:
        room = self._room(conn, workspace_id, participant)
        if room is not None and credits > room + 1e-9:
            raise BudgetExceeded(
                f"Budget: this run needs about {credits:.1f} credits but only {max(room, 0):.1f} are left.",
                room=room,
            )


def _request_json(request: GenerationRequest) -> str:
    payload = request.to_payload()
    # This server's own callback URL carries its hook secret, and runs get exported and
    # shown: it is added again at submit time. A user's own callback URL is kept.
    if HOOK_PREFIX in payload.get("callback_url", ""):
        payload.pop("callback_url")
    return json.dumps(payload, sort_keys=True)


def _status_of(task: Task) -> str:
    state = task.state
    if state is TaskState.OTHER:
        return UNKNOWN
    return state.value


def _url(task: Task) -> str | None:
    url = task.video_url
    if not isinstance(url, str) or not url or len(url) > 8192:
        return None
    return url
