"""What the worker writes: each poll's answer, retries, and a run's end (archived, failed or expired)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from lib.messages import join, say
from lib.schema import Task, TaskState
from lib.status import POLLED, TO_ARCHIVE, RunStatus
from lib.store.base import ERROR_CODE_MAX, StoreBase, values_of
from lib.store.records import Run, run_of
from lib.store.tables import runs
from lib.text import clean_text

URL_MAX = 8192


def status_of(task: Task) -> RunStatus:
    """The run status a provider task status means (one the app does not know: ``unknown``)."""
    if task.state is TaskState.OTHER:
        return RunStatus.UNKNOWN
    return RunStatus(task.state.value)


def video_url_of(task: Task) -> str | None:
    """The task's video link when it is a plausible one; never trusted beyond that."""
    url = task.video_url
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        return None
    return url


class PollingStore(StoreBase):
    def unfinished_runs(self, *, due_before: float | None = None, limit: int | None = None) -> list[Run]:
        """Runs the worker owes a poll or a download, across all workspaces, soonest first."""
        q = runs.select().where(runs.c.status.in_(values_of(POLLED | TO_ARCHIVE)))
        if due_before is not None:
            q = q.where(sa.or_(runs.c.next_poll_at.is_(None), runs.c.next_poll_at <= due_before))
        q = q.order_by(sa.func.coalesce(runs.c.next_poll_at, 0.0), runs.c.created_at)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [run_of(r) for r in conn.execute(q).all()]

    def update_from_task(
        self, run_id: str, task: Task, next_poll_at: float | None = None, *, now: float | None = None
    ) -> Run | None:
        """Apply one poll's answer; never moves a run backwards out of a later state."""
        now = time.time() if now is None else now
        status = status_of(task)
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
        if status is RunStatus.COMPLETED:
            url = video_url_of(task)
            if url is None:
                values.update(
                    status=RunStatus.FAILED.value,
                    completed_at=now,
                    finished_at=now,
                    error_code="no_result",
                    error_message=say("no_result"),
                )
            else:
                values.update(status=status.value, progress=100, completed_at=now, video_url=url, next_poll_at=None)
        elif status is RunStatus.FAILED:
            err = task.error
            values.update(
                status=status.value,
                finished_at=now,
                error_code=clean_text(err.code if err else "unknown_error", ERROR_CODE_MAX),
                error_message=clean_text(err.message if err and err.message else say("provider_failed")),
            )
        elif status is RunStatus.UNKNOWN:
            values.update(
                status=status.value,
                finished_at=now,
                error_code="unexpected_status",
                error_message=clean_text(
                    join(say("unexpected_status", status=repr(task.status)), say("check_account"))
                ),
            )
        else:
            values["status"] = status.value
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
        return self._finish(run_id, POLLED | TO_ARCHIVE, RunStatus.FAILED, code, message, now)

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
        """The video is saved under ``token``: the run's happy ending."""
        now = time.time() if now is None else now
        values = {
            "status": RunStatus.ARCHIVED.value,
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
        """A download went wrong: keep the run, try again at ``next_attempt_at``."""
        now = time.time() if now is None else now
        values = {
            "archive_attempts": runs.c.archive_attempts + 1,
            "poll_error": clean_text(message),
            "next_poll_at": next_attempt_at,
            "updated_at": now,
        }
        return self._transition(run_id, TO_ARCHIVE, values)

    def mark_expired(self, run_id: str, message: str | None = None, *, now: float | None = None) -> Run | None:
        """The video link ran out before the video was saved (still billed: the provider finished it)."""
        message = message or say("link_expired")
        return self._finish(run_id, TO_ARCHIVE, RunStatus.EXPIRED, "link_expired", message, now)
