"""Creating runs and submitting them: saved as ``submitting`` before any POST, one POST per run, crash recovery."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from lib import budget, events
from lib.messages import join, say
from lib.schema import GenerationRequest, Task
from lib.settings import HOOK_PREFIX, TASK_ID_MAX
from lib.status import POLLED, RunStatus
from lib.store.leases import alive_clause
from lib.store.polling import status_of, video_url_of
from lib.store.records import Run, new_id, run_of
from lib.store.tables import runs
from lib.store.workspaces import WorkspaceStore
from lib.text import clean_text

PARTICIPANT_MAX = 100
SUBMIT_GRACE_SECONDS = 5.0  # a run may sit in `submitting` this long while its POST is on the wire
ORPHAN_AFTER = 600.0  # a run of this very process still `submitting` after this long lost its POST
PROCESS = secrets.token_hex(8)  # marks runs created by this process, for crash recovery


class TaskTaken(ValueError):
    """The provider task id already belongs to another run: a paid task is followed by one run only."""


@dataclass(frozen=True)
class NewRun:
    """One run to save (``Store.create_runs``): what to send, what we expect it to cost, its submit key."""

    request: GenerationRequest
    estimate_credits: float
    estimate_exact: bool = True
    submit_key: str | None = None
    parent_id: str | None = None


class SubmissionStore(WorkspaceStore):
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
        participant_id: str | None = None,
        enforce_budget: bool = False,
        now: float | None = None,
    ) -> Run:
        """Persist one run as ``submitting``, before any POST (see ``create_runs``)."""
        [run] = self.create_runs(
            workspace_id,
            [NewRun(request, estimate_credits, estimate_exact, submit_key, parent_id)],
            fingerprint=key_fingerprint,
            participant=participant,
            participant_id=participant_id,
            group_id=group_id,
            enforce_budget=enforce_budget,
            now=now,
        )
        return run

    def create_runs(
        self,
        workspace_id: str,
        new: Sequence[NewRun],
        *,
        fingerprint: str,
        participant: str | None = None,
        participant_id: str | None = None,
        group_id: str | None = None,
        enforce_budget: bool = False,
        what: str = "This run",
        now: float | None = None,
    ) -> list[Run]:
        """Persist runs as ``submitting``, before any POST: all of them or none; returned in order.

        ``participant`` is the display name the runs show, ``participant_id`` whose cap
        they count against (``lib.identity``).

        A run whose ``submit_key`` is already stored (a double click, a rerun of the same
        group) is returned as stored, neither inserted nor charged again. With
        ``enforce_budget`` the budget rule (``lib.budget.check``, naming the total
        ``what``) weighs the runs still to insert in the transaction that inserts them,
        so two people cannot both take the last credits; raises ``BudgetExceeded``.
        """
        now = time.time() if now is None else now
        participant = clean_text(participant, PARTICIPANT_MAX) or None
        rows = [_row(workspace_id, item, fingerprint, (participant, participant_id), group_id, now) for item in new]
        keys = [row["submit_key"] for row in rows if row["submit_key"] is not None]
        try:
            with self._write() as conn:
                stored = _ids_by_key(conn, keys)
                fresh = [row for row in rows if row["submit_key"] not in stored]
                if enforce_budget and fresh:
                    credits = sum(row["estimate_credits"] for row in fresh)
                    budget.check(self._room(conn, workspace_id, participant_id, lock=True), credits, what=what)
                if fresh:
                    conn.execute(runs.insert(), fresh)
        except IntegrityError:
            # Lost a race with the same submit keys (or the workspace is gone): what is stored wins.
            with self._read() as conn:
                stored = _ids_by_key(conn, keys)
            if len(keys) < len(rows) or any(key not in stored for key in keys):
                raise
        ids = [stored.get(row["submit_key"], row["id"]) for row in rows]
        for row in rows:
            if row["id"] in ids:  # inserted by this call, not found stored
                events.publish(workspace_id, row["id"], "created")
        with self._read() as conn:
            found = {r.id: r for r in map(run_of, conn.execute(runs.select().where(runs.c.id.in_(ids))).all())}
        return [found[i] for i in ids]

    def claim_submit(self, run_id: str, *, now: float | None = None) -> bool:
        """Compare-and-set guard: True for exactly one caller, who may send the one POST."""
        now = time.time() if now is None else now
        with self._write() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == RunStatus.SUBMITTING.value, runs.c.claimed_at.is_(None))
                .values(claimed_at=now, updated_at=now)
            )
        return result.rowcount == 1

    def mark_submitted(self, run_id: str, task: Task, *, now: float | None = None) -> Run | None:
        """Record the provider's answer to the POST; the worker takes it from here.

        Also accepted from ``unknown``: a late answer beats crash recovery's guess. An answer
        naming a task another run already holds leaves this run ``unknown``, saying so.
        """
        now = time.time() if now is None else now
        try:
            return self._transition(run_id, {RunStatus.SUBMITTING, RunStatus.UNKNOWN}, _submitted(task, now))
        except IntegrityError:
            return self.mark_unknown(
                run_id,
                "duplicate_task",
                say("duplicate_task"),
                now=now,
            )

    def attach_task(self, run_id: str, task: Task, fingerprint: str, *, now: float | None = None) -> Run | None:
        """Give an ``unknown`` run without a task the provider's task (confirmed by a GET), and the key
        that read it; the worker follows it from here. ``TaskTaken`` if another run holds it already."""
        now = time.time() if now is None else now
        values = {**_submitted(task, now), "key_fingerprint": fingerprint}
        try:
            with self._write() as conn:
                holder = conn.execute(sa.select(runs.c.id).where(runs.c.task_id == values["task_id"])).first()
                if holder is not None and holder[0] != run_id:
                    raise TaskTaken("That task id already belongs to another run.")
                changed = conn.execute(
                    runs.update()
                    .where(runs.c.id == run_id, runs.c.status == RunStatus.UNKNOWN.value, runs.c.task_id.is_(None))
                    .values(**values)
                ).rowcount
                run = self._fetch(conn, run_id)
        except IntegrityError:  # another run took it between our look and our write
            raise TaskTaken("That task id already belongs to another run.") from None
        if changed and run is not None:
            events.publish(run.workspace_id, run.id, "updated")
        return run

    def mark_submit_failed(self, run_id: str, code: str, message: str, *, now: float | None = None) -> Run | None:
        """The POST was refused (or never sent): nothing was charged."""
        return self._finish(run_id, {RunStatus.SUBMITTING}, RunStatus.SUBMIT_FAILED, code, message, now)

    def mark_unknown(self, run_id: str, code: str, message: str, *, now: float | None = None) -> Run | None:
        """The POST's outcome is unknown (timeout, 5xx, crash): never resubmit it."""
        return self._finish(run_id, {RunStatus.SUBMITTING} | POLLED, RunStatus.UNKNOWN, code, message, now)

    def recover_after_crash(
        self, *, grace_seconds: float = SUBMIT_GRACE_SECONDS, now: float | None = None
    ) -> list[str]:
        """Settle runs a previous process left in ``submitting``; never resubmits.

        Unclaimed ones never reached the wire (``submit_failed``, nothing charged);
        claimed ones may have been created upstream (``unknown``: the facilitator
        checks the account). Runs younger than ``grace_seconds`` are left alone, and so are runs
        of a process still alive (this one, or another server whose worker beats:
        ``lib.store.leases``) unless older than ``ORPHAN_AFTER``, since their POST may
        still be in flight. Returns the ids changed.
        """
        now = time.time() if now is None else now
        submitting = runs.c.status == RunStatus.SUBMITTING.value
        alive = sa.or_(runs.c.owner == PROCESS, alive_clause(runs.c.owner, now))
        stale = sa.and_(
            submitting,
            runs.c.created_at < now - grace_seconds,
            sa.or_(sa.not_(alive), runs.c.created_at < now - ORPHAN_AFTER),
        )
        with self._write() as conn:
            rows = conn.execute(sa.select(runs.c.id, runs.c.claimed_at).where(stale)).all()
            for run_id, claimed_at in rows:
                if claimed_at is None:
                    status, code, msg = RunStatus.SUBMIT_FAILED, "not_sent", say("not_sent")
                else:
                    status, code = RunStatus.UNKNOWN, "submit_interrupted"
                    msg = join(say("submit_interrupted"), say("check_account"))
                conn.execute(
                    runs.update()
                    .where(runs.c.id == run_id, submitting)
                    .values(status=status.value, error_code=code, error_message=msg, finished_at=now, updated_at=now)
                )
            settled = conn.execute(sa.select(runs.c.workspace_id, runs.c.id).where(runs.c.id.in_([r[0] for r in rows])))
            notices = [(ws, run_id) for ws, run_id in settled]
        for ws, run_id in notices:
            events.publish(ws, run_id, "finished")
        return [r[0] for r in rows]


def _submitted(task: Task, now: float) -> dict:
    """The values a run takes from the provider's answer about its task (the POST's, or a confirming GET)."""
    status = status_of(task)
    url = video_url_of(task)
    # Anything but a plain "working on it" (or a finished run with its link) is left
    # for the worker's first GET to confirm.
    if status not in POLLED and not (status is RunStatus.COMPLETED and url):
        status = RunStatus.PENDING
    values = {
        "status": status.value,
        "task_id": clean_text(task.id, TASK_ID_MAX),
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
    if status is RunStatus.COMPLETED:
        values.update(completed_at=now, video_url=url, progress=100)
    return values


def _row(
    workspace_id: str,
    item: NewRun,
    fingerprint: str,
    who: tuple[str | None, str | None],
    group_id: str | None,
    now: float,
) -> dict:
    request = item.request
    participant, participant_id = who
    return {
        "id": new_id(),
        "workspace_id": workspace_id,
        "submit_key": item.submit_key,
        "request_json": _request_json(request),
        "model": request.model,
        "estimate_credits": float(item.estimate_credits),
        "estimate_exact": bool(item.estimate_exact),
        "key_fingerprint": fingerprint,
        "participant": participant,
        "participant_id": participant_id,
        "parent_id": item.parent_id,
        "group_id": group_id,
        "status": RunStatus.SUBMITTING.value,
        "progress": 0,
        "poll_count": 0,
        "poll_failures": 0,
        "archive_attempts": 0,
        "created_at": now,
        "owner": PROCESS,
        "updated_at": now,
    }


def _ids_by_key(conn: Connection, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    q = sa.select(runs.c.submit_key, runs.c.id).where(runs.c.submit_key.in_(keys))
    return {key: run_id for key, run_id in conn.execute(q).all()}


def _request_json(request: GenerationRequest) -> str:
    payload = request.to_payload()
    # This server's own callback URL carries its hook secret, and runs get exported and
    # shown: it is added again at submit time. A user's own callback URL is kept.
    if HOOK_PREFIX in payload.get("callback_url", ""):
        payload.pop("callback_url")
    return json.dumps(payload, sort_keys=True)
