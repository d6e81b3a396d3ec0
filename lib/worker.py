"""The one background poller and archiver per process: it follows every unfinished run to the end.

The end is ``archived`` or a clear failure.

It only ever GETs (task status, result files): a POST is never sent from here, so a
run is never paid for twice. API keys live in memory only (``register_key``) and are
matched to runs by fingerprint; a run whose key is not registered simply waits.
The worker never calls Streamlit; pages read the store.

Polling schedule (``Schedule.delay``), with ``e`` the provider's ``estimated_time``
(``default_estimate`` when missing), ``t`` the seconds since submission and ``p`` the
progress in percent::

    remaining = e - t                       (and, once 0 < p < 100, at most t·(100-p)/p)
    delay     = fraction · remaining        while remaining > 0   (halve the gap)
              = floor + growth · overdue    after the expected end (overdue = -remaining)
    delay     = clamp(delay, floor, ceiling)

So the first poll comes at ``min(fraction·e, ceiling)``, polls close in geometrically
on the expected end, run at ``floor`` (1 s) around it, and thin out again if the
provider is very late. Defaults: fraction 0.5, floor 1 s, ceiling 30 s, growth 0.1.
A 165 s task is polled ~12 times instead of 33 times at a fixed 5 s.

Every GET to the API also passes one global token bucket (``max_rps``). A 429 pauses
all API polling for its ``Retry-After``; 5xx and network errors back the one run off
exponentially. Run ``start()`` for the daemon thread, or step deterministically with
``run_once(now)`` in tests.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from lib import archive
from lib.client import (
    DEFAULT_BASE_URL,
    ApiError,
    BadRequestError,
    EvolinkClient,
    NotFoundError,
    RateLimitError,
    key_fingerprint,
)
from lib.status import POLLED, TO_ARCHIVE, RunStatus
from lib.store import Run, Store
from lib.text import clean_text

log = logging.getLogger("studio.worker")

DEFAULT_MAX_RPS = 2.0  # provider advice: 1-2 s between requests
ARCHIVE_ATTEMPTS = 5
NOT_FOUND_LIMIT = 3  # consecutive 404s before a task is declared gone (tolerates a just-created task)
GIVE_UP_AFTER = 26 * 3600.0  # past the 24 h link lifetime nothing can be saved any more
MAX_BACKOFF = 120.0
IDLE_WAIT = 1.0  # how often the loop looks for new runs when nothing is due
RECOVER_EVERY = 60.0  # seconds between sweeps for runs stuck in `submitting` (see Store.recover_after_crash)


@dataclass(frozen=True)
class Schedule:
    """When to poll next; see the module docstring for the formula."""

    floor: float = 1.0
    ceiling: float = 30.0
    fraction: float = 0.5
    growth: float = 0.1
    default_estimate: float = 60.0

    def delay(self, elapsed: float, estimated_time: float | None, progress: int = 0) -> float:
        estimate = estimated_time if estimated_time and estimated_time > 0 else self.default_estimate
        remaining = estimate - elapsed
        if 0 < progress < 100 and elapsed > 0:
            remaining = min(remaining, elapsed * (100 - progress) / progress)
        if remaining > 0:
            wait = self.fraction * remaining
        else:
            wait = self.floor + self.growth * -remaining
        return min(max(wait, self.floor), self.ceiling)

    def next_poll_at(self, run: Run, now: float) -> float:
        start = run.submitted_at or run.created_at
        return now + self.delay(now - start, run.estimated_time, run.progress)

    def first_poll_at(self, run: Run) -> float:
        start = run.submitted_at or run.created_at
        return start + self.delay(0.0, run.estimated_time, 0)


class TokenBucket:
    """A global request-rate limit: ``rate`` per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self._tokens = self.burst
        self._at: float | None = None
        self._lock = threading.Lock()

    def try_take(self, now: float) -> bool:
        with self._lock:
            if self._at is not None:
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now if self._at is None else max(self._at, now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def wait_time(self) -> float:
        with self._lock:
            return max(0.0, (1.0 - self._tokens) / self.rate) if self.rate > 0 else IDLE_WAIT


def backoff(failures: int, base: float = 1.0, cap: float = MAX_BACKOFF) -> float:
    """Exponential backoff with jitter, so a dozen runs do not retry in step."""
    return min(base * 2 ** max(failures, 0), cap) * (0.75 + 0.25 * random.random())


class Worker:
    """Polls and archives every unfinished run of one store."""

    def __init__(
        self,
        store: Store,
        *,
        schedule: Schedule = Schedule(),
        max_rps: float = DEFAULT_MAX_RPS,
        burst: float | None = None,
        archive_attempts: int = ARCHIVE_ATTEMPTS,
        archive_backoff: float = 2.0,
        max_bytes: int = archive.MAX_BYTES,
        not_found_limit: int = NOT_FOUND_LIMIT,
        give_up_after: float = GIVE_UP_AFTER,
        download_client: httpx.Client | None = None,
        archive_threads: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.schedule = schedule
        # burst 1 by default: with a burst of max_rps, a 1-second window could see
        # burst + max_rps - 1 requests (3 at max_rps 2), above the advertised limit.
        self.bucket = TokenBucket(max_rps, 1.0 if burst is None else burst)
        self.archive_attempts = max(1, archive_attempts)
        self.archive_backoff = archive_backoff
        self.max_bytes = max_bytes
        self.not_found_limit = max(1, not_found_limit)
        self.give_up_after = give_up_after
        self.clock = clock
        self._download = download_client or httpx.Client(
            timeout=archive.DOWNLOAD_TIMEOUT, follow_redirects=True, max_redirects=5
        )
        self._clients: dict[str, EvolinkClient] = {}
        self._poked: set[str] = set()
        self._archiving: dict[str, Future] = {}
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._archive_threads = archive_threads
        self._pool: ThreadPoolExecutor | None = None
        self._counts: Counter = Counter()
        self._polls_by_run: Counter = Counter()
        self._next_due: float | None = None
        self._limited = False  # the last step left a due run waiting for a token
        self._recovered_at = float("-inf")

    # --- keys ---------------------------------------------------------------------------

    def register_key(
        self, api_key: str, base_url: str = DEFAULT_BASE_URL, *, transport: httpx.BaseTransport | None = None
    ) -> str:
        """Hold a client for this key (memory only); returns the fingerprint runs carry."""
        fingerprint = key_fingerprint(api_key)
        # The worker does its own backoff: a client that sleeps would stall every run.
        client = EvolinkClient(api_key, base_url=base_url, max_retries=0, transport=transport)
        with self._lock:
            old = self._clients.get(fingerprint)
            self._clients[fingerprint] = client
        if old is not None:
            old.close()
        self._wake.set()
        return fingerprint

    def forget_key(self, fingerprint: str) -> None:
        with self._lock:
            client = self._clients.pop(fingerprint, None)
        if client is not None:
            client.close()

    def has_key(self, fingerprint: str) -> bool:
        with self._lock:
            return fingerprint in self._clients

    def _client(self, fingerprint: str) -> EvolinkClient | None:
        with self._lock:
            return self._clients.get(fingerprint)

    # --- outside triggers -----------------------------------------------------------------

    def poke(self, run_id: str) -> None:
        """Poll this run as soon as the rate limit allows (a callback arrived, or a new run)."""
        with self._lock:
            self._poked.add(run_id)
        self._wake.set()

    def poke_task(self, task_id: str) -> bool:
        """``poke`` by provider task id (a callback's only claim); False if no unfinished run has it."""
        run = self.store.run_for_task(task_id)
        if run is None or run.status not in POLLED | TO_ARCHIVE:
            return False
        self.poke(run.id)
        return True

    def stats(self) -> dict:
        """Counters for benchmarks and tests: polls, downloads, outcomes, polls by run."""
        with self._lock:
            out = dict(self._counts)
            out["polls_by_run"] = dict(self._polls_by_run)
            out["paused_until"] = self._paused_until
        return out

    def polls_for(self, run_id: str) -> int:
        with self._lock:
            return self._polls_by_run[run_id]

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    # --- one step -----------------------------------------------------------------------------

    def run_once(self, now: float | None = None) -> int:
        """Handle every run that is due at ``now`` (downloads inline); returns how many were handled."""
        return self._step(self.clock() if now is None else now, background=False)

    def _step(self, now: float, *, background: bool) -> int:
        with self._lock:
            poked, self._poked = self._poked, set()
        handled = 0
        next_due: float | None = None
        self._limited = False
        self._recover_stuck(now)
        for run in self.store.unfinished_runs():
            due = self._due_at(run, poked)
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            try:
                done = self._handle(run, now, background=background)
            except Exception:
                log.exception("worker: run %s failed unexpectedly; backing off", run.id)
                self._count("errors")
                done = True
                self._safe_defer(run, now + backoff(run.poll_failures + 1, base=self.schedule.floor))
            if done:
                handled += 1
            elif run.id in poked:
                with self._lock:
                    self._poked.add(run.id)  # keep the poke until it can be served
        self._next_due = next_due
        return handled

    def _recover_stuck(self, now: float) -> None:
        """Now and then, settle runs left in ``submitting`` (a POST that died without an answer
        recorded): the worker never polls them, so nothing else would ever finish them."""
        if now - self._recovered_at < RECOVER_EVERY:
            return
        self._recovered_at = now
        try:
            for run_id in self.store.recover_after_crash(now=now):
                log.warning("worker: run %s was stuck submitting; settled without resending", run_id)
        except Exception:
            log.exception("worker: recovering stuck runs failed")

    def _due_at(self, run: Run, poked: set[str]) -> float:
        if run.status in TO_ARCHIVE:
            return run.next_poll_at or 0.0
        if run.id in poked:
            return 0.0
        return run.next_poll_at if run.next_poll_at is not None else self.schedule.first_poll_at(run)

    def _handle(self, run: Run, now: float, *, background: bool) -> bool:
        """Poll or archive one due run; False when it had to wait (no key, rate limit)."""
        if run.status in TO_ARCHIVE:
            return self._archive(run, now, background=background)
        started = run.submitted_at or run.created_at
        if now - started > self.give_up_after:
            self.store.mark_unknown(
                run.id,
                "gave_up",
                "No final answer from the provider within a day; its video link would have expired. "
                "Check the provider dashboard.",
                now=now,
            )
            self._count("gave_up")
            return True
        client = self._client(run.key_fingerprint)
        if client is None:
            self._count("waiting_for_key")
            return False
        if now < self._paused_until or not self.bucket.try_take(now):
            self._count("rate_limited_locally")
            self._limited = True
            return False
        self._poll(run, client, now, background=background)
        return True

    # --- polling ----------------------------------------------------------------------------

    def _poll(self, run: Run, client: EvolinkClient, now: float, *, background: bool) -> None:
        with self._lock:
            self._counts["polls"] += 1
            self._polls_by_run[run.id] += 1
        try:
            task = client.get_task(run.task_id or "")
        except RateLimitError as exc:
            wait = exc.retry_after if exc.retry_after else backoff(run.poll_failures, base=2.0)
            wait = min(max(wait, self.schedule.floor), MAX_BACKOFF)
            with self._lock:
                self._paused_until = max(self._paused_until, now + wait)  # everyone waits after a 429
                self._counts["http_429"] += 1
            self.store.record_poll_error(run.id, "The provider asked us to slow down (429).", now + wait, now=now)
            return
        except NotFoundError:
            self._count("http_404")
            self._not_found(run, now)
            return
        except BadRequestError as exc:
            # A malformed task id will never become valid: say so instead of retrying forever.
            self._count("bad_request")
            self.store.mark_failed(run.id, exc.code or "invalid_task_id", _plain(exc), now=now)
            return
        except ApiError as exc:
            # 5xx, timeouts, dropped connections, 401/403 (a key revoked or out of reach):
            # GETs are safe to repeat, so back off this run and try again.
            self._count("poll_errors")
            wait = backoff(run.poll_failures, base=self.schedule.floor)
            self.store.record_poll_error(run.id, _plain(exc), now + wait, now=now)
            return
        updated = self.store.update_from_task(run.id, task, self.schedule.next_poll_at(run, now), now=now)
        if updated is not None:
            self._count_outcome(run.status, updated.status)
            if updated.status in TO_ARCHIVE:
                self._archive(updated, now, background=background)

    def _not_found(self, run: Run, now: float) -> None:
        if run.poll_failures + 1 >= self.not_found_limit:
            self.store.mark_failed(
                run.id,
                "task_not_found",
                "The provider no longer knows this task (404 task_not_found), so its video cannot be "
                "fetched. This happens when the API address or account changed since it was submitted. "
                "Check the provider dashboard.",
                now=now,
            )
            self._count("failed")
            return
        self.store.record_poll_error(
            run.id,
            "The provider did not find this task (404); checking again.",
            now + backoff(run.poll_failures, base=self.schedule.floor),
            now=now,
        )

    def _count_outcome(self, before: str, after: str) -> None:
        if after != before and after in (RunStatus.FAILED, RunStatus.UNKNOWN, RunStatus.COMPLETED):
            self._count(after)

    # --- archiving ---------------------------------------------------------------------------

    def _archive(self, run: Run, now: float, *, background: bool) -> bool:
        with self._lock:
            busy = run.id in self._archiving
        if busy:
            return False
        if not background:
            self._archive_now(run)
            return True
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max(1, self._archive_threads), thread_name_prefix="studio-archive")
            future = self._pool.submit(self._archive_now, run)
            self._archiving[run.id] = future
        future.add_done_callback(lambda _f, rid=run.id: self._archive_done(rid))
        return True

    def _archive_done(self, run_id: str) -> None:
        with self._lock:
            self._archiving.pop(run_id, None)
        self._wake.set()

    def _archive_now(self, run: Run) -> None:
        try:
            self._download_and_record(run)
        except Exception:
            log.exception("worker: archiving run %s failed unexpectedly", run.id)
            self._count("errors")
            self._safe_defer(run, self.clock() + backoff(run.archive_attempts + 1, base=self.archive_backoff))

    def _download_and_record(self, run: Run) -> None:
        self._count("downloads")
        try:
            expect = archive.expectation(run.request)
        except Exception:
            expect = archive.Expectation()
        try:
            saved = archive.archive_video(
                run.video_url or "",
                self.store.data_dir,
                expect,
                max_bytes=self.max_bytes,
                client=self._download,
                metadata=_metadata(run),
            )
        except archive.LinkExpired as exc:
            self.store.mark_expired(run.id, str(exc), now=self.clock())
            self._count("expired")
            return
        except archive.ArchiveError as exc:
            attempts = run.archive_attempts + 1
            if not exc.retry or attempts >= self.archive_attempts:
                self.store.mark_failed(
                    run.id,
                    "archive_failed",
                    f"The video was generated (and billed) but could not be saved after {attempts} "
                    f"attempt{'s' if attempts > 1 else ''}: {exc}",
                    now=self.clock(),
                )
                self._count("failed")
                return
            now = self.clock()
            self.store.record_archive_error(
                run.id, str(exc), now + backoff(attempts - 1, base=self.archive_backoff), now=now
            )
            self._count("archive_retries")
            return
        self.store.mark_archived(
            run.id, saved.token, saved.size, saved.duration, saved.width, saved.height, now=self.clock()
        )
        self._count("archived")

    def _safe_defer(self, run: Run, when: float) -> None:
        try:
            self.store.defer(run.id, when)
        except Exception:
            log.exception("worker: could not reschedule run %s", run.id)

    # --- the thread --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Worker:
        if self.running:
            return self
        try:
            recovered = self.store.recover_after_crash()
            if recovered:
                log.warning("worker: %d run(s) were left submitting by a previous process", len(recovered))
        except Exception:
            log.exception("worker: crash recovery failed")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="studio-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """stop(), then close every client (the keys leave memory)."""
        self.stop()
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        self._download.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._step(self.clock(), background=True)
            except Exception:
                log.exception("worker: loop step failed")
                self._count("loop_errors")
            self._wake.wait(self._sleep_time())
            self._wake.clear()

    def _sleep_time(self) -> float:
        now = self.clock()
        waits = [IDLE_WAIT]
        if self._next_due is not None:
            waits.append(self._next_due - now)
        with self._lock:
            if self._poked or self._limited:
                waits.append(max(self._paused_until - now, self.bucket.wait_time()))
        return min(max(min(waits), 0.02), IDLE_WAIT)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no run is left that this worker can move on (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(self._archiving)
            pending = [
                r for r in self.store.unfinished_runs() if r.status in TO_ARCHIVE or self.has_key(r.key_fingerprint)
            ]
            if not busy and not pending:
                return True
            self._wake.set()
            time.sleep(0.05)
        return False


def _metadata(run: Run) -> dict[str, str] | None:
    try:
        return archive.metadata_for(run.request)
    except Exception:
        return None


def _plain(exc: Exception) -> str:
    return clean_text(getattr(exc, "message", None) or str(exc))


# --- the process-wide singleton --------------------------------------------------------------

_worker: Worker | None = None
_worker_lock = threading.Lock()


def start_worker(store: Store, **config) -> Worker:
    """Start this process's worker (once; later calls return the running one)."""
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.running:
            _worker = Worker(store, **config).start()
        return _worker


def get_worker() -> Worker | None:
    with _worker_lock:
        return _worker


def stop_worker(timeout: float = 10.0) -> None:
    """Stop the worker and drop its keys from memory (server shutdown)."""
    global _worker
    with _worker_lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop(timeout)
        worker.close()


# --- what server.py's lifespan calls ------------------------------------------------------------


def start(settings, base_url: str | None = None, **config) -> Worker:
    """Start the worker from ``lib.settings.Settings`` and register the server's own key.

    In demo mode the simulator's well-known key is registered, so demo runs resume too.
    """
    from lib.settings import DEMO_API_KEY

    store = Store.from_settings(settings)
    w = start_worker(store, **config)
    key = settings.api_key or (DEMO_API_KEY if settings.demo else None)
    url = base_url or settings.base_url
    if key and url:
        w.register_key(key, url)
    return w


def current() -> Worker | None:
    return get_worker()


def stop(timeout: float = 10.0) -> None:
    stop_worker(timeout)
