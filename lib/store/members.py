"""Who takes part in a workspace: the facilitator and the participants, their display names, their recent workspaces.

A participant is a browser's random id (``lib.identity``). Whoever starts a
workspace is its facilitator; a facilitator link (``?ws=<id>&f=<secret>``) makes
another browser one too. Only a hash of that secret is stored, and it is compared in
constant time. Names are per workspace and editable; runs keep the name current.

Example:
    >>> from lib.store import Store
    >>> db = Store("sqlite://")
    >>> ws, secret = db.start_workspace("pid_facilitator_0123456789", "Monday")
    >>> db.is_facilitator(ws.id, "pid_facilitator_0123456789")
    True
    >>> db.join(ws.id, "pid_participant_0123456789").display_name
    'Participant 1'
    >>> db.claim_facilitator(ws.id, "pid_participant_0123456789", "a guess")
    False
    >>> db.claim_facilitator(ws.id, "pid_participant_0123456789", secret)
    True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lib.store.base import StoreBase
from lib.store.records import Member, Role, Workspace, member_of, valid_id, workspace_of
from lib.store.tables import members, runs, workspaces
from lib.text import clean_text

DISPLAY_NAME_MAX = 100
RECENT_MAX = 8  # recent workspaces offered to a browser

# Names a browser gets before it picks its own (data: the screen shows them).
FACILITATOR_NAME = "Facilitator"
PARTICIPANT_NAME = "Participant {n}"


class NotFacilitator(PermissionError):
    """Only the workspace's facilitator may change its name and limits."""

    def __init__(self) -> None:
        super().__init__("Only the facilitator of this workspace can change its name, budget and cap.")


def facilitator_secret() -> str:
    """A new facilitator link secret: shown once, stored only as ``secret_hash``."""
    return secrets.token_urlsafe(24)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class MemberStore(StoreBase):
    def join(self, workspace_id: str, participant_id: str, *, now: float | None = None) -> Member:
        """Record that this browser opened the workspace (its ``last_seen``); a first visit joins it.

        A newcomer is a participant named ``Participant <n>``, except in a workspace that
        has no facilitator at all (one made before roles existed): the first browser to
        open it becomes its facilitator, since somebody has to be able to set its limits.
        """
        now = time.time() if now is None else now
        with self._write() as conn:
            found = self._member(conn, workspace_id, participant_id)
            if found is not None:
                conn.execute(
                    members.update()
                    .where(*_is(workspace_id, participant_id))
                    .values(last_seen=max(now, found.last_seen))
                )
                return self._member(conn, workspace_id, participant_id) or found
            ws = conn.execute(workspaces.select().where(workspaces.c.id == workspace_id)).first()
            if ws is None:
                raise KeyError(f"no workspace {workspace_id!r}")
            has_facilitator = ws._mapping["facilitator_hash"] is not None or _count(
                conn, workspace_id, Role.FACILITATOR
            )
            role = Role.PARTICIPANT if has_facilitator else Role.FACILITATOR
            return self._add(conn, workspace_id, participant_id, role, now)

    def member(self, workspace_id: str, participant_id: str) -> Member | None:
        with self._read() as conn:
            return self._member(conn, workspace_id, participant_id)

    def members(self, workspace_id: str) -> list[Member]:
        """Everyone who has opened the workspace, facilitators first, then in the order they joined."""
        q = members.select().where(members.c.workspace_id == workspace_id)
        with self._read() as conn:
            found = [member_of(r) for r in conn.execute(q.order_by(members.c.joined_at)).all()]
        return sorted(found, key=lambda m: not m.facilitator)

    def is_facilitator(self, workspace_id: str, participant_id: str | None) -> bool:
        if not participant_id:
            return False
        found = self.member(workspace_id, participant_id)
        return found is not None and found.facilitator

    def claim_facilitator(
        self, workspace_id: str, participant_id: str, secret: str, *, now: float | None = None
    ) -> bool:
        """Make this browser a facilitator if ``secret`` is the workspace's facilitator secret (constant time)."""
        now = time.time() if now is None else now
        given = secret_hash(secret if isinstance(secret, str) else "")
        with self._write() as conn:
            stored = conn.execute(
                sa.select(workspaces.c.facilitator_hash).where(workspaces.c.id == workspace_id)
            ).scalar_one_or_none()
            if not stored or not hmac.compare_digest(given, stored):
                return False
            found = self._member(conn, workspace_id, participant_id)
            if found is None:
                self._add(conn, workspace_id, participant_id, Role.FACILITATOR, now)
            else:
                conn.execute(
                    members.update()
                    .where(*_is(workspace_id, participant_id))
                    .values(role=Role.FACILITATOR.value, last_seen=now)
                )
        return True

    def set_display_name(self, workspace_id: str, participant_id: str, name: str) -> Member:
        """Rename one participant in one workspace; their runs show the new name (the leaderboard follows the id)."""
        cleaned = clean_text(name, DISPLAY_NAME_MAX)
        if not cleaned:
            raise ValueError("Your name: cannot be empty.")
        with self._write() as conn:
            if self._member(conn, workspace_id, participant_id) is None:
                raise KeyError("not a member of this workspace")
            conn.execute(members.update().where(*_is(workspace_id, participant_id)).values(display_name=cleaned))
            conn.execute(
                runs.update()
                .where(runs.c.workspace_id == workspace_id, runs.c.participant_id == participant_id)
                .values(participant=cleaned)
            )
            found = self._member(conn, workspace_id, participant_id)
        assert found is not None
        return found

    def recent_workspaces(self, participant_id: str | None, *, limit: int = RECENT_MAX) -> list[Workspace]:
        """The workspaces this browser opened, the most recent first."""
        if not participant_id:
            return []
        q = (
            sa.select(workspaces)
            .join(members, members.c.workspace_id == workspaces.c.id)
            .where(members.c.participant_id == participant_id)
            .order_by(members.c.last_seen.desc(), workspaces.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [workspace_of(r) for r in conn.execute(q).all()]

    # --- shared with the workspace setters ----------------------------------------------------

    def _require_facilitator(self, conn: Connection, workspace_id: str, participant_id: str | None) -> None:
        found = self._member(conn, workspace_id, participant_id) if participant_id else None
        if found is None or not found.facilitator:
            raise NotFacilitator()

    @staticmethod
    def _member(conn: Connection, workspace_id: str, participant_id: str) -> Member | None:
        if not valid_id(workspace_id):
            return None
        row = conn.execute(members.select().where(*_is(workspace_id, participant_id))).first()
        return member_of(row) if row else None

    @staticmethod
    def _add(conn: Connection, workspace_id: str, participant_id: str, role: Role, now: float) -> Member:
        if role is Role.FACILITATOR:
            name = FACILITATOR_NAME
        else:
            name = PARTICIPANT_NAME.format(n=_count(conn, workspace_id, Role.PARTICIPANT) + 1)
        member = Member(workspace_id, participant_id, role, name, joined_at=now, last_seen=now)
        conn.execute(
            members.insert().values(
                workspace_id=workspace_id,
                participant_id=participant_id,
                role=role.value,
                display_name=name,
                joined_at=now,
                last_seen=now,
            )
        )
        return member


def _is(workspace_id: str, participant_id: str) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    return members.c.workspace_id == workspace_id, members.c.participant_id == participant_id


def _count(conn: Connection, workspace_id: str, role: Role | None = None) -> int:
    q = sa.select(sa.func.count()).select_from(members).where(members.c.workspace_id == workspace_id)
    if role is not None:
        q = q.where(members.c.role == role.value)
    return int(conn.execute(q).scalar_one())
