"""The worker's archiving part: save each completed run's video, with every failure counted and backed off.

Any failure while saving is an attempt: the link (5xx, a dropped connection), the
file (not a video, the wrong one) and the disk (below the free-space floor, ENOSPC,
EIO, permissions: ``archive.StorageError``). Attempt ``n`` waits
``retry.delay(n)`` before the next; after ``attempts`` the run ends ``failed`` with
the error's code (``archive_failed``, ``disk_full``, ``storage_error``) and a plain
message. The wait is also kept in memory, so a store that cannot be written (its
disk is full too) still cannot make the worker download the same video in a loop.
Log lines about one run come out at most once per ``logs.EVERY`` seconds.

A run this archiver has ended (saved, failed for good, expired) is remembered for a
while: the worker's loop may still hold a copy read before the end, and that copy
must not start a download the run's limit no longer allows.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx

from lib import archive, posters
from lib.logs import Throttle
from lib.messages import say
from lib.retries import RetryPolicy
from lib.status import RunStatus
from lib.store import Run, Store

log = logging.getLogger("studio.worker")

ARCHIVE_ATTEMPTS = 5
ENDED_KEPT_S = 600.0  # how long an ended run is remembered; far longer than one step of the loop


class Archiver:
    """Downloads finished videos for one store: inline (``background=False``) or on a small thread pool.

    ``count(name)`` feeds the worker's counters; ``wake()`` tells its loop a download ended.
    """

    def __init__(
        self,
        store: Store,
        *,
        retry: RetryPolicy,
        attempts: int = ARCHIVE_ATTEMPTS,
        max_bytes: int = archive.MAX_BYTES,
        min_free: int = 0,
        allowed_hosts: Iterable[str] = (),
        download_client: httpx.Client | None = None,
        threads: int = 2,
        clock: Callable[[], float],
        count: Callable[[str], None] = lambda name: None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.retry = retry
        self.attempts = max(1, attempts)
        self.max_bytes = max_bytes
        self.min_free = max(0, min_free)
        self.allowed_hosts = tuple(allowed_hosts)
        self.clock = clock
        self._count = count
        self._wake = wake
        self._download = download_client or archive.download_client(allow=self.allowed_hosts)
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._running: dict[str, Future[None]] = {}
        # run id -> (failures seen here, not before): the backoff, even when the store cannot be written
        self._held: dict[str, tuple[int, float]] = {}
        # run id -> when this archiver ended it: a stale copy of the run does not start it again
        self._ended: dict[str, float] = {}
        self._lock = threading.Lock()
        self.logs = Throttle(log)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)

    def not_before(self, run_id: str) -> float:
        """The earliest time another attempt for this run may start (0: any time)."""
        with self._lock:
            held = self._held.get(run_id)
        return held[1] if held else 0.0

    def save(self, run: Run, *, background: bool) -> bool:
        """Start saving ``run``'s video (at once when not ``background``); False if it is already under way.

        A run this archiver has already ended is not started again (True: nothing is left to do).
        """
        with self._lock:
            if run.id in self._ended:
                return True
            if run.id in self._running:
                return False
        if not background:
            self._attempt(run)
            return True
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="studio-archive")
            future = self._pool.submit(self._attempt, run)
            self._running[run.id] = future
        future.add_done_callback(functools.partial(self._done, run.id))
        return True

    def _done(self, run_id: str, _future: Future[None]) -> None:
        with self._lock:
            self._running.pop(run_id, None)
        self._wake()

    def _attempt(self, run: Run) -> None:
        counted = self._seen(run.id)
        try:
            self._download_and_record(run)
        except Exception:
            self.logs.exception(run.id, "worker: archiving run %s failed unexpectedly", run.id)
            self._count("errors")
            if self._seen(run.id) != counted:
                return  # this attempt was counted already; the store refused to record it
            try:
                self._failed(run, archive.ArchiveError("The video could not be saved (an unexpected error)."))
            except Exception:
                self.logs.exception(f"{run.id}/record", "worker: could not record a failed attempt of run %s", run.id)

    def _seen(self, run_id: str) -> int:
        with self._lock:
            return self._held.get(run_id, (0, 0.0))[0]

    def _download_and_record(self, run: Run) -> None:
        self._count("downloads")
        try:
            request = run.request
        except ValueError:  # stored by an older version the request model no longer accepts
            request = None
        try:
            saved = archive.archive_video(
                run.video_url or "",
                self.store.data_dir,
                archive.expectation(request) if request else archive.Expectation(),
                max_bytes=self.max_bytes,
                client=self._download,
                metadata=archive.metadata_for(request) if request else None,
                allowed_hosts=self.allowed_hosts,
                min_free=self.min_free,
            )
        except archive.LinkExpired as exc:
            self.store.mark_expired(run.id, str(exc), now=self.clock())
            self._settled(run.id)
            self._count(RunStatus.EXPIRED)
            return
        except archive.ArchiveError as exc:
            self._failed(run, exc)
            return
        try:
            recorded = self.store.mark_archived(
                run.id, saved.token, saved.size, saved.duration, saved.width, saved.height, now=self.clock()
            )
        except Exception:
            _discard(self.store.data_dir, saved.token)  # no run points at it: do not leave it on the disk
            raise
        self._settled(run.id)
        if recorded is None or recorded.media_token != saved.token:
            # Another server saved it first (its lease outlived ours): one file per run stays.
            _discard(self.store.data_dir, saved.token)
            self._count("archived_elsewhere")
            return
        self._count(RunStatus.ARCHIVED)

    def _failed(self, run: Run, exc: archive.ArchiveError) -> None:
        """One more failed attempt: back off, or end the run once the attempts are used up."""
        now = self.clock()
        seen = self._seen(run.id) + 1
        attempts = max(run.archive_attempts + 1, seen)
        if isinstance(exc, archive.StorageError):
            self._count("storage_errors")
        if not exc.retry or attempts >= self.attempts:
            self._hold(run.id, seen, now + self.retry.delay(attempts - 1))  # in case the store refuses the end too
            said = (
                say("not_saved_once", reason=exc) if attempts == 1 else say("not_saved", attempts=attempts, reason=exc)
            )
            self.store.mark_failed(run.id, exc.code, said, now=now)
            self._settled(run.id)
            self._count(RunStatus.FAILED)
            return
        when = now + self.retry.delay(attempts - 1)
        self._hold(run.id, seen, when)
        self.logs.warning(
            run.id, "worker: run %s: video not saved (attempt %d of %d): %s", run.id, attempts, self.attempts, exc
        )
        self.store.record_archive_error(run.id, str(exc), when, now=now)
        self._count("archive_retries")

    def _hold(self, run_id: str, seen: int, until: float) -> None:
        with self._lock:
            self._held[run_id] = (seen, until)

    def _settled(self, run_id: str) -> None:
        now = self.clock()
        with self._lock:
            self._held.pop(run_id, None)
            self._ended[run_id] = now
            if len(self._ended) > 256:
                self._ended = {rid: at for rid, at in self._ended.items() if now - at < ENDED_KEPT_S}
        self.logs.forget(run_id)

    def stop(self) -> None:
        """Wait for downloads under way; drop those not started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self.stop()
        self._download.close()


def _discard(data_dir: Path, token: str) -> None:
    for path in (archive.media_dir(data_dir) / f"{token}{archive.SUFFIX}", *_stills(data_dir, token)):
        path.unlink(missing_ok=True)


def _stills(data_dir: Path, token: str) -> list[Path]:
    return [posters.still_path(data_dir, token, kind) for kind in posters.KINDS]
