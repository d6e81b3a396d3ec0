"""Comparison grids: their axes, labels and cells, saved so they reopen from the gallery."""

from __future__ import annotations

import json
import time

from lib.store.base import StoreBase
from lib.store.records import Comparison, comparison_of, new_id, valid_id
from lib.store.tables import comparisons
from lib.text import clean_text

TITLE_MAX = 200


class ComparisonStore(StoreBase):
    def create_comparison(
        self, workspace_id: str, title: str, spec: dict, *, comparison_id: str | None = None, now: float | None = None
    ) -> Comparison:
        """Save a comparison grid; ``comparison_id`` lets the caller use the id its runs already carry."""
        if comparison_id is not None and not valid_id(comparison_id):
            raise ValueError("comparison id: 6-32 characters of letters, digits, - and _.")
        new = Comparison(
            id=comparison_id or new_id(),
            workspace_id=workspace_id,
            title=clean_text(title, TITLE_MAX) or "Comparison",
            spec_json=json.dumps(spec, sort_keys=True),
            created_at=time.time() if now is None else now,
        )
        with self._write() as conn:
            existing = conn.execute(comparisons.select().where(comparisons.c.id == new.id)).first()
            if existing is not None:  # a rerun of the same submission: keep the first
                return comparison_of(existing)
            conn.execute(
                comparisons.insert().values(
                    id=new.id,
                    workspace_id=new.workspace_id,
                    title=new.title,
                    spec_json=new.spec_json,
                    created_at=new.created_at,
                )
            )
        return new

    def get_comparison(self, comparison_id: str) -> Comparison | None:
        if not valid_id(comparison_id):
            return None
        with self._read() as conn:
            row = conn.execute(comparisons.select().where(comparisons.c.id == comparison_id)).first()
        return comparison_of(row) if row else None

    def list_comparisons(self, workspace_id: str, *, limit: int | None = 100) -> list[Comparison]:
        """Comparisons of one workspace, newest first."""
        q = (
            comparisons.select()
            .where(comparisons.c.workspace_id == workspace_id)
            .order_by(comparisons.c.created_at.desc(), comparisons.c.id)
        )
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [comparison_of(r) for r in conn.execute(q).all()]

    def update_comparison_spec(self, comparison_id: str, spec: dict) -> Comparison | None:
        """Replace a comparison's spec (e.g. to record the winner)."""
        with self._write() as conn:
            conn.execute(
                comparisons.update()
                .where(comparisons.c.id == comparison_id)
                .values(spec_json=json.dumps(spec, sort_keys=True))
            )
        return self.get_comparison(comparison_id)
