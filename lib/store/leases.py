"""Several servers on one database: each unfinished run is followed by exactly one process at a time.

A worker *claims* the unfinished runs it will poll and archive: those nobody holds,
those whose lease ran out (their server died), and its own, renewed once half the
lease is gone. A claim sets ``lease_owner`` (the process's id) and ``lease_expires``
(now + ``LEASE_SECONDS``). While a server lives it renews its leases every worker step
that finds them half spent; when it dies (SIGKILL, power) its runs are free again
within ``LEASE_SECONDS`` and the next worker step of another server takes them. On
PostgreSQL the claim locks the rows it takes with ``SELECT … FOR UPDATE SKIP LOCKED``,
so two servers claiming at once never take the same run; on SQLite (one machine)
write transactions are serialized already (``BEGIN IMMEDIATE``).

Archiving happens under the same lease, so one server downloads each video.

Each worker also writes a heartbeat (``servers.seen_at``): a run left ``submitting``
by a process that still beats is a POST in flight on another server, not a crash
(``SubmissionStore.recover_after_crash`` asks ``alive_clause``).

Example:
    >>> from lib.store import Store
    >>> from lib.schema import GenerationRequest, Task
    >>> store = Store("sqlite://")
    >>> ws = store.create_workspace("Two servers")
    >>> request = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox")
    >>> run = store.create_run(ws.id, request, 1.0, True, "k")
    >>> _ = store.mark_submitted(run.id, Task(id="task-1", status="pending"))
    >>> [r.id for r in store.claim_runs("server-a", now=100.0)] == [run.id]
    True
    >>> store.claim_runs("server-b", now=101.0)  # held by server-a
    []
    >>> [r.lease_owner for r in store.claim_runs("server-b", now=100.0 + LEASE_SECONDS + 1)]  # a died
    ['server-b']
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lib.status import POLLED, TO_ARCHIVE
from lib.store.base import StoreBase, values_of
from lib.store.records import Run, run_of
from lib.store.tables import runs, servers

LEASE_SECONDS = 15.0  # a dead server's runs are someone else's this long after its last renewal
FORGET_AFTER = 86400.0  # a server silent this long is dropped from ``servers`` (killed ones never say goodbye)
SERVER_ID_MAX = 32


def alive_clause(column: sa.ColumnElement, now: float, within: float = LEASE_SECONDS) -> sa.ColumnElement[bool]:
    """SQL: ``column`` names a process that has beaten within ``within`` seconds of ``now``."""
    return column.in_(sa.select(servers.c.id).where(servers.c.seen_at >= now - within))


class LeaseStore(StoreBase):
    def claim_runs(
        self, owner: str, *, now: float | None = None, ttl: float = LEASE_SECONDS, limit: int | None = None
    ) -> list[Run]:
        """The unfinished runs ``owner`` follows now (claimed or renewed here), soonest due first.

        Runs another live owner holds are left alone. Nothing is written when every run
        ``owner`` holds has more than half its lease left and nothing is free to take.
        """
        now = time.time() if now is None else now
        unfinished = runs.c.status.in_(values_of(POLLED | TO_ARCHIVE))
        takeable = sa.or_(
            runs.c.lease_owner.is_(None),
            runs.c.lease_expires.is_(None),
            runs.c.lease_expires < now,
            sa.and_(runs.c.lease_owner == owner, runs.c.lease_expires < now + ttl / 2),
        )
        with self._read() as conn:
            due = conn.execute(sa.select(runs.c.id).where(unfinished, takeable).limit(1)).first()
            if due is None:
                return self._held(conn, owner, unfinished, limit)
        with self._write() as conn:
            q = sa.select(runs.c.id).where(unfinished, takeable).order_by(runs.c.created_at)
            if limit is not None:
                q = q.limit(limit)
            if conn.dialect.name == "postgresql":
                # Rows another server is claiming right now are skipped, not waited for.
                q = q.with_for_update(skip_locked=True)
            ids = [row[0] for row in conn.execute(q).all()]
            if ids:
                conn.execute(
                    runs.update()
                    .where(runs.c.id.in_(ids), unfinished, takeable)
                    .values(lease_owner=owner, lease_expires=now + ttl)
                )
            return self._held(conn, owner, unfinished, limit)

    @staticmethod
    def _held(conn: Connection, owner: str, unfinished: sa.ColumnElement[bool], limit: int | None) -> list[Run]:
        q = (
            runs.select()
            .where(unfinished, runs.c.lease_owner == owner)
            .order_by(sa.func.coalesce(runs.c.next_poll_at, 0.0), runs.c.created_at)
        )
        if limit is not None:
            q = q.limit(limit)
        return [run_of(row) for row in conn.execute(q).all()]

    def release_runs(self, owner: str) -> int:
        """Give up every lease ``owner`` holds (a clean shutdown): other servers take them at their next step."""
        with self._write() as conn:
            return conn.execute(
                runs.update().where(runs.c.lease_owner == owner).values(lease_owner=None, lease_expires=None)
            ).rowcount

    def release_others(self, owner: str) -> int:
        """On a database only one server uses (SQLite): every lease not ``owner``'s was left by a dead process.

        Freed at start, so a restarted server resumes its runs at once instead of waiting
        out the leases of the process it replaces. Never used where servers share a database.
        """
        with self._write() as conn:
            held_by_others = sa.and_(runs.c.lease_owner.is_not(None), runs.c.lease_owner != owner)
            return conn.execute(
                runs.update().where(held_by_others).values(lease_owner=None, lease_expires=None)
            ).rowcount

    def beat(self, server_id: str, *, now: float | None = None) -> None:
        """``server_id`` is alive at ``now`` (a worker step says so every half lease)."""
        now = time.time() if now is None else now
        server_id = server_id[:SERVER_ID_MAX]
        with self._write() as conn:
            changed = conn.execute(servers.update().where(servers.c.id == server_id).values(seen_at=now)).rowcount
            if not changed:
                conn.execute(servers.insert().values(id=server_id, started_at=now, seen_at=now))
                conn.execute(servers.delete().where(servers.c.seen_at < now - FORGET_AFTER))

    def forget_server(self, server_id: str) -> None:
        """A clean shutdown: ``server_id`` no longer counts as alive."""
        with self._write() as conn:
            conn.execute(servers.delete().where(servers.c.id == server_id))

    def live_servers(self, *, now: float | None = None, within: float = LEASE_SECONDS) -> list[str]:
        """Ids of the processes that have beaten within ``within`` seconds, oldest first."""
        now = time.time() if now is None else now
        with self._read() as conn:
            q = sa.select(servers.c.id).where(servers.c.seen_at >= now - within).order_by(servers.c.started_at)
            return [row[0] for row in conn.execute(q).all()]
