"""The ``Worker``: follows every unfinished run of one store to ``archived`` or a clear failure.

It only ever GETs (task status, result files): a POST is never sent from here, so a
run is never paid for twice. API keys live in memory only (``register_key``) and are
matched to runs by fingerprint; a run whose key is not registered waits without
costing anything (a personal key pasted before a restart): a callback for it is
remembered and served once the key is registered again. Saving videos is
``lib.worker.archiving``.

When each run is polled comes from ``lib.worker.schedule``; every GET passes one
global token bucket. A 429 pauses all API polling for its ``Retry-After``; 5xx and
network errors back the one run off by ``lib.retries`` (the client's formula, with
longer waits). Call ``start()`` for the daemon thread, or step deterministically with
``run_once(now)`` in tests.

Several servers may share one database: each step follows only the runs this worker
holds a lease on (``lib.store.leases``: claimed when free or when their holder died,
renewed while held), so each run is polled and archived by one process at a time.
Each step also says this process is alive (``Store.beat``), at most every half lease.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from lib import archive, retries
from lib.client import ApiError, BadRequestError, EvolinkClient, NotFoundError, RateLimitError, key_fingerprint
from lib.logs import Throttle
from lib.messages import join, say
from lib.retries import RetryPolicy
from lib.settings import DEFAULT_BASE_URL
from lib.status import POLLED, TO_ARCHIVE, RunStatus
from lib.store import LEASE_SECONDS, Run, Store, submission
from lib.text import clean_text
from lib.worker.archiving import ARCHIVE_ATTEMPTS, Archiver
from lib.worker.schedule import DEFAULT_MAX_RPS, IDLE_WAIT, ProgressLog, Schedule, TokenBucket

log = logging.getLogger("studio.worker")

NOT_FOUND_LIMIT = 3  # consecutive 404s before a task is declared gone (tolerates a just-created task)
GIVE_UP_AFTER = 26 * 3600.0  # past the 24 h link lifetime nothing can be saved any more
RECOVER_EVERY = 60.0  # seconds between sweeps for runs stuck in `submitting` (see Store.recover_after_crash)
# Outcomes worth a counter in ``stats()``.
_COUNTED = frozenset({RunStatus.FAILED, RunStatus.UNKNOWN, RunStatus.COMPLETED})


class Worker:
    """Polls and archives every unfinished run of one store.

    ``retry`` is the backoff between polls (default: ``lib.retries.BETWEEN_POLLS``
    starting at the schedule's floor); archive attempts back off by the same policy
    from ``archive_backoff``. ``allowed_hosts`` are result-link hosts downloads may
    reach although they are not public (``lib.net``); no download starts unless
    ``min_free`` bytes stay free on the data dir's disk; ``transport`` is used by every
    API client ``register_key`` makes unless it is given one. ``owner`` names this worker
    in run leases (default: this process's id, which its runs carry too); a run it has
    not claimed for ``lease_seconds`` may be taken by another server's worker.
    """

    def __init__(
        self,
        store: Store,
        *,
        schedule: Schedule | None = None,
        max_rps: float = DEFAULT_MAX_RPS,
        burst: float | None = None,
        retry: RetryPolicy | None = None,
        archive_attempts: int = ARCHIVE_ATTEMPTS,
        archive_backoff: float = 2.0,
        max_bytes: int = archive.MAX_BYTES,
        not_found_limit: int = NOT_FOUND_LIMIT,
        give_up_after: float = GIVE_UP_AFTER,
        allowed_hosts: Iterable[str] = (),
        min_free: int = 0,
        download_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        archive_threads: int = 2,
        idle_wait: float = IDLE_WAIT,
        clock: Callable[[], float] = time.time,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.owner = owner or submission.PROCESS
        self.lease_seconds = lease_seconds
        self._beat_at = float("-inf")
        self.schedule = schedule = schedule or Schedule()
        # burst 1 by default: with a burst of max_rps, a 1-second window could see
        # burst + max_rps - 1 requests (3 at max_rps 2), above the advertised limit.
        self.bucket = TokenBucket(max_rps, 1.0 if burst is None else burst)
        self.retry = retry or dataclasses.replace(retries.BETWEEN_POLLS, initial_delay=schedule.floor)
        self.not_found_limit = max(1, not_found_limit)
        self.give_up_after = give_up_after
        self.allowed_hosts = tuple(allowed_hosts)
        self.transport = transport
        self.idle_wait = idle_wait
        self.clock = clock
        self._clients: dict[str, EvolinkClient] = {}
        self._poked: set[str] = set()
        self._parked: dict[str, str] = {}  # run id -> key fingerprint: pokes waiting for their key
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counts: Counter[str] = Counter()
        self.logs = Throttle(log)
        self.archiver = Archiver(
            store,
            retry=dataclasses.replace(self.retry, initial_delay=archive_backoff),
            attempts=archive_attempts,
            max_bytes=max_bytes,
            min_free=min_free,
            allowed_hosts=self.allowed_hosts,
            download_client=download_client,
            threads=archive_threads,
            clock=clock,
            count=self._count,
            wake=self._wake.set,
        )
        self._polls_by_run: Counter[str] = Counter()
        self.samples = ProgressLog()  # what each run's polls said: the schedule forecasts from it
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
        client = EvolinkClient(api_key, base_url=base_url, max_retries=0, transport=transport or self.transport)
        with self._lock:
            old = self._clients.get(fingerprint)
            self._clients[fingerprint] = client
            # Callbacks that arrived while this key was away are served now.
            back = [run_id for run_id, fp in self._parked.items() if fp == fingerprint]
            for run_id in back:
                del self._parked[run_id]
            self._poked.update(back)
        if old is not None:
            old.close()
        self._wake.set()
        return fingerprint

    def has_key(self, fingerprint: str) -> bool:
        with self._lock:
            return fingerprint in self._clients

    def _client(self, fingerprint: str) -> EvolinkClient | None:
        with self._lock:
            return self._clients.get(fingerprint)

    # --- outside triggers -----------------------------------------------------------------

    def poke(self, run_id: str) -> None:
        """Poll this run as soon as the rate limit allows (a callback arrived, or a new run).

        A run already waiting for its key stays remembered; it costs nothing until the key returns.
        """
        with self._lock:
            if run_id in self._parked:
                return
            self._poked.add(run_id)
        self._wake.set()

    def poke_task(self, task_id: str) -> bool:
        """``poke`` by provider task id (a callback's only claim); False if no unfinished run has it."""
        run = self.store.run_for_task(task_id)
        if run is None or run.status not in POLLED | TO_ARCHIVE:
            return False
        self.poke(run.id)
        return True

    def stats(self) -> dict[str, Any]:
        """Counters for benchmarks and tests: polls, downloads, outcomes, polls by run, pokes waiting for a key."""
        with self._lock:
            out: dict[str, Any] = dict(self._counts)
            out["polls_by_run"] = dict(self._polls_by_run)
            out["paused_until"] = self._paused_until
            out["parked"] = len(self._parked)
        return out

    def polls_for(self, run_id: str) -> int:
        with self._lock:
            return self._polls_by_run[run_id]

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[str(name)] += n  # a run status counts under its plain name

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
        self._beat(now)
        self._recover_stuck(now)
        held = self.store.claim_runs(self.owner, now=now, ttl=self.lease_seconds)
        for run in self.schedule.in_turn(held, now, poked, self.samples):
            due = self._due_at(run, poked)
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            try:
                done = self._handle(run, now, background=background)
            except Exception:
                self.logs.exception(run.id, "worker: run %s failed unexpectedly; backing off", run.id)
                self._count("errors")
                done = True
                self._safe_defer(run, now + self.retry.delay(run.poll_failures + 1))
            if done:
                handled += 1
            elif run.id in poked:
                with self._lock:
                    if run.status in POLLED and run.key_fingerprint not in self._clients:
                        # Remembered, not retried: it is served when the key comes back.
                        self._parked[run.id] = run.key_fingerprint
                    else:
                        self._poked.add(run.id)  # keep the poke until it can be served
        handled += self._poll_held_elsewhere(poked - {run.id for run in held}, now)
        self._next_due = next_due
        return handled

    def _poll_held_elsewhere(self, run_ids: set[str], now: float) -> int:
        """A callback reached this server for a run another server follows: one GET here records the
        news, and the holder archives the video at its next step (a GET is safe; saving it is not ours)."""
        handled = 0
        for run_id in run_ids:
            run = self.store.get_run(run_id)
            if run is None or run.status not in POLLED or run.lease_owner in (None, self.owner):
                continue
            client = self._client(run.key_fingerprint)
            if client is None or now < self._paused_until or not self.bucket.try_take(max(now, self.clock())):
                continue  # the holder polls it on its own schedule anyway
            try:
                self._poll(run, client, now, background=False, archive=False)
                handled += 1
            except Exception:
                self.logs.exception(run.id, "worker: polling run %s for a callback failed", run.id)
        return handled

    def _beat(self, now: float) -> None:
        """Say this process is alive, every half lease (other servers then leave its `submitting` runs be)."""
        if now - self._beat_at < self.lease_seconds / 2:
            return
        try:
            self.store.beat(self.owner, now=now)
            self._beat_at = now
        except Exception:
            self.logs.exception("beat", "worker: could not record that this server is alive")

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
            self.logs.exception("recover", "worker: recovering stuck runs failed")

    def _due_at(self, run: Run, poked: set[str]) -> float:
        if run.status in TO_ARCHIVE:
            return max(run.next_poll_at or 0.0, self.archiver.not_before(run.id))
        if run.id in poked:
            return 0.0
        return run.next_poll_at if run.next_poll_at is not None else self.schedule.first_poll_at(run)

    def _handle(self, run: Run, now: float, *, background: bool) -> bool:
        """Poll or archive one due run; False when it had to wait (no key, rate limit)."""
        if run.status in TO_ARCHIVE:
            return self.archiver.save(run, background=background)
        started = run.submitted_at or run.created_at
        if now - started > self.give_up_after:
            self.store.mark_unknown(
                run.id,
                "gave_up",
                join(say("gave_up"), say("check_account")),
                now=now,
            )
            self._count("gave_up")
            return True
        client = self._client(run.key_fingerprint)
        if client is None:
            self._count("waiting_for_key")
            return False
        # The token is taken at the time of the request, not of the step's start: a step whose
        # earlier requests were slow would otherwise send its later ones bunched with the next step's.
        if now < self._paused_until or not self.bucket.try_take(max(now, self.clock())):
            self._count("rate_limited_locally")
            self._limited = True
            return False
        self._poll(run, client, now, background=background)
        return True

    # --- polling ----------------------------------------------------------------------------

    def _poll(self, run: Run, client: EvolinkClient, now: float, *, background: bool, archive: bool = True) -> None:
        with self._lock:
            self._counts["polls"] += 1
            self._polls_by_run[run.id] += 1
        try:
            task = client.get_task(run.task_id or "")
        except RateLimitError as exc:
            wait = max(self.retry.delay(run.poll_failures, exc.retry_after), self.schedule.floor)
            answered = max(now, self.clock())  # the wait counts from the answer, not from the step's start
            with self._lock:
                self._paused_until = max(self._paused_until, answered + wait)  # everyone waits after a 429
                self._counts["http_429"] += 1
            self.store.record_poll_error(run.id, say("slow_down"), now + wait, now=now)
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
            self.store.record_poll_error(run.id, _plain(exc), now + self.retry.delay(run.poll_failures), now=now)
            return
        next_at = self.schedule.after_poll(run, task, now, self.samples)
        updated = self.store.update_from_task(run.id, task, next_at, now=now)
        if updated is not None:
            self._count_outcome(run.status, updated.status)
            if archive and updated.status in TO_ARCHIVE:
                self.archiver.save(updated, background=background)

    def _not_found(self, run: Run, now: float) -> None:
        if run.poll_failures + 1 >= self.not_found_limit:
            self.store.mark_failed(
                run.id,
                "task_not_found",
                join(say("task_not_found"), say("check_account")),
                now=now,
            )
            self._count(RunStatus.FAILED)
            return
        self.store.record_poll_error(
            run.id,
            say("not_found_yet"),
            now + self.retry.delay(run.poll_failures),
            now=now,
        )

    def _count_outcome(self, before: str, after: str) -> None:
        if after != before and after in _COUNTED:
            self._count(after)

    def _safe_defer(self, run: Run, when: float) -> None:
        try:
            self.store.defer(run.id, when)
        except Exception:
            self.logs.exception(f"{run.id}/defer", "worker: could not reschedule run %s", run.id)

    # --- the thread --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Worker:
        """Settle runs a previous process left ``submitting``, then poll in a daemon thread."""
        if self.running:
            return self
        try:
            recovered = self.store.recover_after_crash()
            if recovered:
                log.warning("worker: %d run(s) were left submitting by a previous process", len(recovered))
            if self.store.engine.dialect.name == "sqlite":  # one server per SQLite file: nobody else holds leases
                self.store.release_others(self.owner)
        except Exception:
            log.exception("worker: crash recovery failed")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="studio-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread, finish downloads under way, then hand this worker's runs to the other servers."""
        was_running = self._thread is not None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        self.archiver.stop()
        if was_running:
            self.release()

    def release(self) -> None:
        """Give up this worker's leases and heartbeat, so another server follows its runs at once."""
        try:
            self.store.release_runs(self.owner)
            self.store.forget_server(self.owner)
        except Exception:
            log.exception("worker: could not hand its runs over on the way out")

    def close(self) -> None:
        """stop(), then close every client (the keys leave memory)."""
        self.stop()
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        self.archiver.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._step(self.clock(), background=True)
            except Exception:  # e.g. a damaged database: said once in a while, tried again each second
                self.logs.exception("loop", "worker: loop step failed")
                self._count("loop_errors")
            self._wake.wait(self._sleep_time())
            self._wake.clear()

    def _sleep_time(self) -> float:
        now = self.clock()
        waits = [self.idle_wait]
        if self._next_due is not None:
            waits.append(self._next_due - now)
        with self._lock:
            if self._poked or self._limited:
                waits.append(max(self._paused_until - now, self.bucket.wait_time()))
        return min(max(min(waits), 0.02), self.idle_wait)


def _plain(exc: Exception) -> str:
    return clean_text(getattr(exc, "message", None) or str(exc))
