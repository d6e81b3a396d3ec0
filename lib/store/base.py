"""What every part of the store shares: its database, read and write transactions, and guarded state changes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from sqlalchemy.engine import Connection

from lib import events
from lib.settings import Settings, load_settings
from lib.status import RunStatus
from lib.store.engine import WRITE_OPTION, database_url, get_engine
from lib.store.records import Run, run_of
from lib.store.tables import runs
from lib.text import clean_text

ERROR_CODE_MAX = 64


def values_of(statuses: Iterable[RunStatus]) -> list[str]:
    """Statuses as the plain strings the database stores (for ``IN`` clauses)."""
    return sorted(s.value for s in statuses)


class StoreBase:
    """The connection side of ``Store``; cheap to construct (engines are cached per URL).

    ``url_or_data_dir`` is a SQLAlchemy URL or a data directory (its ``studio.db``);
    without it, ``lib.settings`` decides. ``data_dir`` is where archived videos go.
    """

    def __init__(
        self, url_or_data_dir: str | os.PathLike[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None
    ) -> None:
        if url_or_data_dir is None:
            settings = load_settings()
            url_or_data_dir, data_dir = settings.db_url, data_dir or settings.data_dir
        if data_dir is None:
            # A data directory names both the database and where videos go; a bare URL
            # leaves the videos in the configured data directory.
            data_dir = load_settings().data_dir if "://" in str(url_or_data_dir) else url_or_data_dir
        self.url = database_url(url_or_data_dir)
        self.data_dir = Path(data_dir).resolve()
        self.engine = get_engine(self.url)
        self._writer = self.engine.execution_options(**{WRITE_OPTION: True})

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The store the app's settings name: ``DATABASE_URL`` or the data dir's file."""
        return cls(settings.db_url, data_dir=settings.data_dir)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @staticmethod
    def _fetch(conn: Connection, run_id: str) -> Run | None:
        row = conn.execute(runs.select().where(runs.c.id == run_id)).first()
        return run_of(row) if row else None

    def _transition(self, run_id: str, allowed: Iterable[RunStatus], values: dict[str, Any]) -> Run | None:
        """Update only if the run is still in one of ``allowed``; return it either way.

        Open pages of the run's workspace hear about a change once it is committed.
        """
        with self._write() as conn:
            changed = conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status.in_(values_of(allowed))).values(**values)
            ).rowcount
            run = self._fetch(conn, run_id)
        if changed and run is not None:
            events.publish(run.workspace_id, run.id, "finished" if run.finished else "updated")
        return run

    def _finish(
        self,
        run_id: str,
        allowed: Iterable[RunStatus],
        status: RunStatus,
        code: str,
        message: str,
        now: float | None,
    ) -> Run | None:
        """End a run without a video: a short code and a plain message, always."""
        now = time.time() if now is None else now
        values = {
            "status": status.value,
            "error_code": clean_text(code, ERROR_CODE_MAX) or "error",
            "error_message": clean_text(message) or status.label,
            "finished_at": now,
            "next_poll_at": None,
            "updated_at": now,
        }
        return self._transition(run_id, allowed, values)
