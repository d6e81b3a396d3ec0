"""Reading runs for pages and callbacks, and what people add to them: ratings and notes."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from lib import events
from lib.settings import TASK_ID_MAX
from lib.store.base import StoreBase
from lib.store.records import Run, run_of, valid_id
from lib.store.tables import runs

NOTES_MAX = 5000
RATING_RANGE = (1, 5)


class ReadingStore(StoreBase):
    def get_run(self, run_id: str) -> Run | None:
        if not valid_id(run_id):
            return None
        with self._read() as conn:
            return self._fetch(conn, run_id)

    def run_for_task(self, task_id: str) -> Run | None:
        """The run holding a provider task id (callbacks name tasks, not runs)."""
        if not isinstance(task_id, str) or not task_id or len(task_id) > TASK_ID_MAX:
            return None
        with self._read() as conn:
            row = conn.execute(runs.select().where(runs.c.task_id == task_id)).first()
        return run_of(row) if row else None

    def runs_remixing(self, workspace_id: str, parent_ids: Collection[str], *, limit: int) -> list[Run]:
        """Runs of a workspace remixing one of ``parent_ids`` (the next generation of a lineage), oldest first."""
        ids = [i for i in parent_ids if valid_id(i)]
        if not ids or limit <= 0:
            return []
        q = (
            runs.select()
            .where(runs.c.workspace_id == workspace_id, runs.c.parent_id.in_(ids))
            .order_by(runs.c.created_at, runs.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [run_of(r) for r in conn.execute(q).all()]

    def runs_using(self, text: str, *, limit: int = 50) -> list[Run]:
        """Runs whose request contains ``text`` (an upload's random token names the runs that send its link)."""
        if not text:
            return []
        q = runs.select().where(runs.c.request_json.contains(text, autoescape=True)).limit(limit)
        with self._read() as conn:
            return [run_of(r) for r in conn.execute(q).all()]

    def list_runs(self, workspace_id: str, *, group_id: str | None = None, limit: int | None = 500) -> list[Run]:
        """Runs of one workspace (or of one grid or batch in it), newest first.

        The gallery filters them in memory (``lib.gallery``).
        """
        q = runs.select().where(runs.c.workspace_id == workspace_id)
        if group_id is not None:
            q = q.where(runs.c.group_id == group_id)
        q = q.order_by(runs.c.created_at.desc(), runs.c.id)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [run_of(r) for r in conn.execute(q).all()]

    def set_rating(self, run_id: str, rating: int | None) -> Run | None:
        lo, hi = RATING_RANGE
        if rating is not None and (type(rating) is not int or not lo <= rating <= hi):
            raise ValueError(f"Rating: a whole number from {lo} to {hi}, or empty.")
        return self._set(run_id, "rated", rating=rating)

    def set_notes(self, run_id: str, notes: str | None) -> Run | None:
        text = (notes or "")[:NOTES_MAX]
        return self._set(run_id, "updated", notes=text or None)

    def _set(self, run_id: str, kind: events.Kind, **values: Any) -> Run | None:
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values, updated_at=time.time()))
            run = self._fetch(conn, run_id)
        if run is not None:
            events.publish(run.workspace_id, run.id, kind)
        return run
