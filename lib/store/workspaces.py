"""Workspaces: their name, the facilitator's limits, and the committed spend the budget rule weighs.

Only a facilitator (``members``) changes a workspace's name and limits: the setters
take ``by=<participant id>`` and refuse anyone else with ``NotFacilitator``, whatever
the page offered. A limit of ``None`` is no limit; clearing one stores ``None``.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lib import budget, status
from lib.budget import Room
from lib.store.members import MemberStore, facilitator_secret, secret_hash
from lib.store.records import Role, Spend, Workspace, new_id, valid_id, workspace_of
from lib.store.tables import members, runs, workspaces
from lib.text import clean_text

NAME_MAX = 200
DEFAULT_NAME = "Untitled workspace"


class WorkspaceStore(MemberStore):
    def create_workspace(
        self, name: str | None = None, *, facilitator: str | None = None, now: float | None = None
    ) -> Workspace:
        """A new workspace; ``facilitator`` (a participant id) is recorded as its facilitator.

        Without one, the first browser that opens it becomes its facilitator (``join``).
        """
        ws, _secret = self._create(name, facilitator, with_secret=False, now=now)
        return ws

    def start_workspace(
        self, participant_id: str, name: str | None = None, *, now: float | None = None
    ) -> tuple[Workspace, str]:
        """A new workspace this browser facilitates, and the facilitator link's secret (shown once, never stored)."""
        ws, secret = self._create(name, participant_id, with_secret=True, now=now)
        assert secret is not None
        return ws, secret

    def _create(
        self, name: str | None, facilitator: str | None, *, with_secret: bool, now: float | None
    ) -> tuple[Workspace, str | None]:
        now = time.time() if now is None else now
        ws = Workspace(
            id=new_id(8),
            name=clean_text(name, NAME_MAX) or DEFAULT_NAME,
            created_at=now,
            budget_credits=None,
            per_participant_cap=None,
        )
        secret = facilitator_secret() if with_secret else None
        with self._write() as conn:
            conn.execute(
                workspaces.insert().values(**asdict(ws), facilitator_hash=secret_hash(secret) if secret else None)
            )
            if facilitator:
                self._add(conn, ws.id, facilitator, Role.FACILITATOR, now)
        return ws, secret

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        if not valid_id(workspace_id):
            return None
        with self._read() as conn:
            row = conn.execute(workspaces.select().where(workspaces.c.id == workspace_id)).first()
        return workspace_of(row) if row else None

    def rename_workspace(self, workspace_id: str, name: str, *, by: str | None) -> Workspace | None:
        """Rename (facilitators only: ``NotFacilitator`` for anyone else)."""
        cleaned = clean_text(name, NAME_MAX)
        if not cleaned:
            raise ValueError("Workspace name: cannot be empty.")
        with self._write() as conn:
            self._require_facilitator(conn, workspace_id, by)
            conn.execute(workspaces.update().where(workspaces.c.id == workspace_id).values(name=cleaned))
        return self.get_workspace(workspace_id)

    def set_budget(
        self,
        workspace_id: str,
        budget_credits: float | None,
        per_participant_cap: float | None = None,
        *,
        by: str | None,
    ) -> Workspace | None:
        """Set or clear (None) the workspace budget and the per-participant cap, in credits (facilitators only)."""
        for label, value in (("Budget", budget_credits), ("Per-participant cap", per_participant_cap)):
            if value is not None and (not isinstance(value, int | float) or value != value or value < 0):
                raise ValueError(f"{label}: a number of credits, 0 or more, or empty for no limit.")
        with self._write() as conn:
            self._require_facilitator(conn, workspace_id, by)
            conn.execute(
                workspaces.update()
                .where(workspaces.c.id == workspace_id)
                .values(budget_credits=budget_credits, per_participant_cap=per_participant_cap)
            )
        return self.get_workspace(workspace_id)

    # --- the figures lib.budget decides on ---------------------------------------------------

    def committed_credits(self, workspace_id: str, participant_id: str | None = None) -> float:
        """Credits every billed run (finished or in flight) commits: what budgets count (``lib.budget``).

        With ``participant_id``, only that participant's runs (what their cap counts).
        """
        with self._read() as conn:
            return self._committed(conn, workspace_id, participant_id)

    def budget_room(self, workspace_id: str, participant_id: str | None = None) -> Room:
        """What is left under the workspace budget and this participant's cap (shown before a click)."""
        with self._read() as conn:
            return self._room(conn, workspace_id, participant_id)

    def spend_by_participant(self, workspace_id: str) -> list[Spend]:
        """What each participant's runs commit, everyone who joined included, the biggest spender first."""
        spend = budget.spend_clause(runs.c.credits_reserved, runs.c.estimate_credits)
        billed = status.billed_clause(runs.c.status, runs.c.completed_at)
        q = (
            sa.select(
                members.c.participant_id,
                members.c.display_name,
                sa.func.coalesce(sa.func.sum(sa.case((billed, spend), else_=0.0)), 0.0),
                sa.func.count(runs.c.id),
            )
            .select_from(
                members.outerjoin(
                    runs,
                    sa.and_(
                        runs.c.workspace_id == members.c.workspace_id, runs.c.participant_id == members.c.participant_id
                    ),
                )
            )
            .where(members.c.workspace_id == workspace_id)
            .group_by(members.c.participant_id, members.c.display_name)
        )
        with self._read() as conn:
            rows = [Spend(pid, name, float(credits), int(n)) for pid, name, credits, n in conn.execute(q).all()]
        return sorted(rows, key=lambda s: (-s.credits, s.display_name.casefold()))

    def _committed(self, conn: Connection, workspace_id: str, participant_id: str | None) -> float:
        spend = budget.spend_clause(runs.c.credits_reserved, runs.c.estimate_credits)
        q = sa.select(sa.func.coalesce(sa.func.sum(spend), 0.0)).where(
            runs.c.workspace_id == workspace_id, status.billed_clause(runs.c.status, runs.c.completed_at)
        )
        if participant_id is not None:
            q = q.where(runs.c.participant_id == participant_id)
        return float(conn.execute(q).scalar_one())

    def _room(self, conn: Connection, workspace_id: str, participant_id: str | None, *, lock: bool = False) -> Room:
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
        capped = ws.per_participant_cap is not None and bool(participant_id)
        return Room.of(
            budget=ws.budget_credits,
            committed=self._committed(conn, ws.id, None) if ws.budget_credits is not None else 0.0,
            cap=ws.per_participant_cap,
            participant_committed=self._committed(conn, ws.id, participant_id) if capped else None,
        )
