"""Workspaces: their name, the facilitator's limits, and the committed spend the budget rule weighs."""

from __future__ import annotations

import time
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lib import budget, status
from lib.budget import Room
from lib.store.base import StoreBase
from lib.store.records import Workspace, new_id, valid_id, workspace_of
from lib.store.tables import runs, workspaces
from lib.text import clean_text

NAME_MAX = 200


class WorkspaceStore(StoreBase):
    def create_workspace(self, name: str | None = None, *, now: float | None = None) -> Workspace:
        ws = Workspace(
            id=new_id(8),
            name=clean_text(name, NAME_MAX) or "Untitled workspace",
            created_at=time.time() if now is None else now,
            budget_credits=None,
            per_participant_cap=None,
        )
        with self._write() as conn:
            conn.execute(workspaces.insert().values(**asdict(ws)))
        return ws

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        if not valid_id(workspace_id):
            return None
        with self._read() as conn:
            row = conn.execute(workspaces.select().where(workspaces.c.id == workspace_id)).first()
        return workspace_of(row) if row else None

    def rename_workspace(self, workspace_id: str, name: str) -> Workspace | None:
        name = clean_text(name, NAME_MAX)
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
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{label}: a number of credits, 0 or more, or empty for no limit.")
        with self._write() as conn:
            conn.execute(
                workspaces.update()
                .where(workspaces.c.id == workspace_id)
                .values(budget_credits=budget_credits, per_participant_cap=per_participant_cap)
            )
        return self.get_workspace(workspace_id)

    # --- the figures lib.budget decides on ---------------------------------------------------

    def committed_credits(self, workspace_id: str, participant: str | None = None) -> float:
        """Credits every billed run (finished or in flight) commits: what budgets count (``lib.budget``)."""
        with self._read() as conn:
            return self._committed(conn, workspace_id, participant)

    def budget_room(self, workspace_id: str, participant: str | None = None) -> Room:
        """What is left under the workspace budget and this participant's cap (shown before a click)."""
        with self._read() as conn:
            return self._room(conn, workspace_id, participant)

    def _committed(self, conn: Connection, workspace_id: str, participant: str | None) -> float:
        spend = budget.spend_clause(runs.c.credits_reserved, runs.c.estimate_credits)
        q = sa.select(sa.func.coalesce(sa.func.sum(spend), 0.0)).where(
            runs.c.workspace_id == workspace_id, status.billed_clause(runs.c.status, runs.c.completed_at)
        )
        if participant is not None:
            q = q.where(runs.c.participant == participant)
        return float(conn.execute(q).scalar_one())

    def _room(self, conn: Connection, workspace_id: str, participant: str | None, *, lock: bool = False) -> Room:
        """The figures, read in ``conn``'s transaction; ``lock`` serialises writers on PostgreSQL too.

        (SQLite writers are already serialised by ``BEGIN IMMEDIATE``.)
        """
        q = workspaces.select().where(workspaces.c.id == workspace_id)
        if lock and conn.dialect.name != "sqlite":
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is None:
            raise KeyError(f"no workspace {workspace_id!r}")
        ws = workspace_of(row)
        capped = ws.per_participant_cap is not None and bool(participant)
        return Room.of(
            budget=ws.budget_credits,
            committed=self._committed(conn, ws.id, None) if ws.budget_credits is not None else 0.0,
            cap=ws.per_participant_cap,
            participant_committed=self._committed(conn, ws.id, participant) if capped else None,
        )
