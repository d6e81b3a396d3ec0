"""The simulator's render queue: a process pool sized to the machine behind a bounded queue, fair between workspaces.

Renders wait in one line per workspace, and a free render process takes the next
render from the line whose workspace had a turn longest ago (a newcomer's first), so
one workspace's burst of 36 runs delays another workspace's run by at most the
renders already running, not by the whole burst. The queue is bounded twice: in all
(``limit``) and per workspace (``per_workspace``, half of it); a create request
beyond either is answered 429 ``rate_limit_exceeded`` with ``Retry-After``, as the
provider does when it is busy, and nothing is created or charged.

Example (a pool whose renders finish when we say so)::

    >>> import concurrent.futures as cf
    >>> started = []
    >>> def submit(fn, job):
    ...     started.append(cf.Future())
    ...     return started[-1]
    >>> queue = RenderQueue(submit, workers=1, limit=4)
    >>> for n in range(2):
    ...     _ = queue.submit(print, n, workspace="a")
    >>> queue.check("a")  # its 2 of 4 places are taken
    Traceback (most recent call last):
    ...
    lib.simulator.queue.QueueFull: Too many requests, please try again later
    >>> queue.check("b")  # another workspace still gets in
    >>> started[0].set_result(None)
    >>> queue.check("a")  # one render done: room again
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

PER_WORKER = 32  # places in the queue per render process
MAX_WORKERS = 4
RETRY_AFTER_MAX = 30  # seconds; what the provider asks for at most
DEFAULT_RENDER_SECONDS = 2.0  # a guess until renders have been timed


def default_workers(cpus: int | None = None) -> int:
    """Render processes for this machine: all cores but one for the server, 1 to ``MAX_WORKERS``.

    >>> default_workers(2), default_workers(8), default_workers(64)
    (1, 4, 4)
    """
    cpus = cpus if cpus is not None else (os.cpu_count() or 2)
    return max(1, min(MAX_WORKERS, cpus - 1))


class QueueFull(Exception):
    """429 ``rate_limit_exceeded``: the render queue (or this workspace's share of it) is full.

    Shaped like ``engine.RequestRejected`` (``status``, ``code``, ``message``, ``type``,
    ``param``), plus ``retry_after`` in seconds.
    """

    status, code, type, param = 429, "rate_limit_exceeded", "rate_limit_error", None
    message = "Too many requests, please try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(self.message)
        self.retry_after = retry_after


class RenderQueue:
    """Runs ``fn(job)`` through ``submit`` (an executor's), at most ``workers`` at once, workspaces in turn."""

    def __init__(
        self,
        submit: Callable[[Callable[[Any], Any], Any], cf.Future],
        *,
        workers: int,
        limit: int | None = None,
        per_workspace: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._submit = submit
        self.workers = max(1, workers)
        self.limit = max(1, limit if limit is not None else PER_WORKER * self.workers)
        self.per_workspace = max(1, per_workspace if per_workspace is not None else self.limit // 2)
        self.clock = clock
        self._lines: dict[str, deque[tuple[cf.Future, Callable[[Any], Any], Any]]] = {}
        self._held: dict[str, int] = {}  # workspace -> renders waiting or running
        self._turns = itertools.count()
        self._last_turn: dict[str, int] = {}  # workspace -> its latest turn, while it holds renders
        self._running = 0
        self._render_seconds = DEFAULT_RENDER_SECONDS
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(line) for line in self._lines.values())

    def check(self, workspace: str) -> None:
        """Raise ``QueueFull`` unless a render for ``workspace`` would be accepted now."""
        with self._lock:
            self._check(workspace)

    def _check(self, workspace: str) -> None:
        queued = sum(self._held.values())
        if queued >= self.limit or self._held.get(workspace, 0) >= self.per_workspace:
            ahead = min(queued, self._held.get(workspace, 0) * max(1, len(self._held)))
            wait = math.ceil(self._render_seconds * max(1, ahead) / self.workers)
            raise QueueFull(max(1, min(RETRY_AFTER_MAX, wait)))

    def submit(self, fn: Callable[[Any], Any], job: Any, *, workspace: str = "", force: bool = False) -> cf.Future:
        """Queue ``fn(job)`` for ``workspace``; ``QueueFull`` when full (``force``: take it anyway)."""
        future: cf.Future = cf.Future()
        with self._lock:
            if not force:
                self._check(workspace)
            self._lines.setdefault(workspace, deque()).append((future, fn, job))
            self._held[workspace] = self._held.get(workspace, 0) + 1
        self._dispatch()
        return future

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._running >= self.workers or not self._lines:
                    return
                # The line whose workspace had a turn longest ago; never had one: first, by arrival.
                workspace = min(self._lines, key=lambda ws: self._last_turn.get(ws, -1))
                line = self._lines[workspace]
                future, fn, job = line.popleft()
                if not line:
                    del self._lines[workspace]
                self._last_turn[workspace] = next(self._turns)
                self._running += 1
            self._start(workspace, future, fn, job)

    def _start(self, workspace: str, future: cf.Future, fn: Callable[[Any], Any], job: Any) -> None:
        started = self.clock()

        def finished(inner: cf.Future) -> None:
            with self._lock:
                self._running -= 1
                self._release(workspace, 1)
                took = self.clock() - started
                self._render_seconds = 0.8 * self._render_seconds + 0.2 * took
            if inner.cancelled():
                future.cancel()
            elif inner.exception() is not None:
                future.set_exception(inner.exception())
            else:
                future.set_result(inner.result())
            self._dispatch()

        try:
            inner = self._submit(fn, job)
        except Exception as exc:  # a broken or shut-down pool: this render fails, the next one may not
            inner = cf.Future()
            inner.set_exception(exc)
        inner.add_done_callback(finished)

    def _release(self, workspace: str, n: int) -> None:
        """``n`` of ``workspace``'s renders ended or were cancelled (with the lock held)."""
        self._held[workspace] -= n
        if not self._held[workspace]:
            del self._held[workspace]
            self._last_turn.pop(workspace, None)

    def cancel_all(self) -> None:
        """Cancel every render still waiting (the simulator is shutting down)."""
        with self._lock:
            lines, self._lines = self._lines, {}
            for workspace, line in lines.items():
                self._release(workspace, len(line))
        for line in lines.values():
            for future, _fn, _job in line:
                future.cancel()
