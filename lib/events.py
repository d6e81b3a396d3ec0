"""Run-change notices for open pages: the store publishes, a page's event stream subscribes.

A notice says only *which* run of *which* workspace changed and how (``created``,
``updated``, ``finished``, ``rated``); a page that hears one re-reads the store. So a
lost notice costs a refresh, never wrong data, and a notice carries nothing a
subscriber could not read from the store anyway.

Publishing is thread-safe and never blocks (the worker's threads and Streamlit's
script threads publish; the server's event loop reads). Each subscriber has a bounded
queue: when a slow page falls behind, its oldest notices are dropped and it is told to
reload everything (``kind == "resync"``) instead of the server buffering without end.

In one process notices travel in memory. Several servers sharing one database pass
them through the database as well (``set_relay``); subscribers do not change.

Example (``await sub.next()`` in an event loop, ``sub.wait()`` in a thread):
    >>> with subscribe("ws_demo1") as sub:
    ...     publish("ws_demo1", "run_a1b2c3", "finished")
    ...     publish("ws_other", "run_zzzzzz", "created")   # another workspace: not heard
    ...     [(e.run_id, e.kind) for e in sub.wait(timeout=1)]
    [('run_a1b2c3', 'finished')]
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Self

Kind = Literal["created", "updated", "finished", "rated", "resync"]
KINDS: tuple[Kind, ...] = ("created", "updated", "finished", "rated", "resync")

QUEUE_MAX = 256  # notices a subscriber may fall behind by before it is told to resync
RECENT_MAX = 512  # notices remembered for streams that start just after them (``subscribe(replay=...)``)
SUBSCRIBERS_MAX = 2000  # open event streams per process; more are refused (a page then falls back to reloads)


@dataclass(frozen=True)
class RunEvent:
    """One change: ``seq`` grows by one per notice in this process."""

    workspace_id: str
    run_id: str
    kind: Kind
    seq: int
    at: float


class TooManySubscribers(RuntimeError):
    """``SUBSCRIBERS_MAX`` event streams are open already."""


class Subscription:
    """Notices for one workspace, read with ``await next()``; close it (or use ``with``) when done."""

    def __init__(self, bus: Bus, workspace_id: str, loop: asyncio.AbstractEventLoop | None) -> None:
        self.workspace_id = workspace_id
        self._bus = bus
        self._loop = loop
        self._pending: deque[RunEvent] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._wake: asyncio.Event | None = asyncio.Event() if loop is not None else None
        self.dropped = 0

    def _push(self, event: RunEvent) -> None:
        with self._lock:
            if len(self._pending) >= QUEUE_MAX:
                self._pending.clear()
                self.dropped += 1
                event = RunEvent(self.workspace_id, "", "resync", event.seq, event.at)
            self._pending.append(event)
        self._ready.set()
        if self._loop is not None and self._wake is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the subscriber's loop has closed: it will never read again
                self.close()

    def _take(self) -> list[RunEvent]:
        with self._lock:
            out = list(self._pending)
            self._pending.clear()
            self._ready.clear()
        if self._wake is not None:
            self._wake.clear()
        return out

    async def next(self, timeout: float | None = None) -> list[RunEvent]:
        """Every notice since the last call, waiting up to ``timeout`` seconds for one ([] on timeout)."""
        events = self._take()
        if events or self._wake is None:
            return events
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return []
        return self._take()

    def wait(self, timeout: float | None = None) -> list[RunEvent]:
        """``next`` for a thread instead of an event loop."""
        self._ready.wait(timeout)
        return self._take()

    def close(self) -> None:
        self._bus._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus:
    """Fan-out of notices to this process's subscribers, by workspace."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._relay: Callable[[str, str, Kind], None] | None = None
        self._recent: deque[RunEvent] = deque(maxlen=RECENT_MAX)
        self._last = 0

    def subscribe(self, workspace_id: str, *, replay: float = 0.0) -> Subscription:
        """Notices about ``workspace_id`` from now on, and those of the last ``replay`` seconds.

        A page reads its runs, then opens its stream: a run that changed in between would
        otherwise never reach it. Replayed notices are harmless to a page that saw them
        (a card keeps the newer of two versions).
        """
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        sub = Subscription(self, workspace_id, loop)
        with self._lock:
            if sum(len(s) for s in self._subs.values()) >= SUBSCRIBERS_MAX:
                raise TooManySubscribers(f"{SUBSCRIBERS_MAX} event streams are open already")
            self._subs.setdefault(workspace_id, set()).add(sub)
            since = time.time() - replay
            missed = [e for e in self._recent if replay > 0 and e.workspace_id == workspace_id and e.at >= since]
        for event in missed:
            sub._push(event)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.workspace_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.workspace_id]

    def subscribers(self, workspace_id: str | None = None) -> int:
        with self._lock:
            if workspace_id is not None:
                return len(self._subs.get(workspace_id, ()))
            return sum(len(s) for s in self._subs.values())

    def workspaces(self) -> list[str]:
        """The workspaces somebody here listens to (a relay back from an outage tells each to resync)."""
        with self._lock:
            return list(self._subs)

    def publish(self, workspace_id: str, run_id: str, kind: Kind) -> None:
        """Tell this process's subscribers, then the relay (other servers), if one is set."""
        self.deliver(workspace_id, run_id, kind)
        relay = self._relay
        if relay is not None:
            relay(workspace_id, run_id, kind)

    def deliver(self, workspace_id: str, run_id: str, kind: Kind) -> None:
        """Tell this process's subscribers only (what a relay calls for notices from elsewhere)."""
        with self._lock:
            event = RunEvent(workspace_id, run_id, kind, next(self._seq), time.time())
            self._last = event.seq
            self._recent.append(event)
            subs = list(self._subs.get(workspace_id, ()))
        for sub in subs:
            sub._push(event)

    def last_seq(self) -> int:
        """The ``seq`` of the latest notice in this process (0: none yet)."""
        return self._last

    def set_relay(self, relay: Callable[[str, str, Kind], None] | None) -> None:
        """Also send every published notice through ``relay`` (e.g. PostgreSQL NOTIFY), or stop (None)."""
        self._relay = relay


BUS = Bus()


def publish(workspace_id: str, run_id: str, kind: Kind) -> None:
    """A run of ``workspace_id`` changed; never raises for want of listeners."""
    BUS.publish(workspace_id, run_id, kind)


def last_seq() -> int:
    """The ``seq`` of the latest notice so far: a page that reads the store after taking it missed none before it.

    Its stream may still bring notices from before its read (they are harmless); those
    with a higher ``seq`` may be news to it.
    """
    return BUS.last_seq()


def subscribe(workspace_id: str, *, replay: float = 0.0) -> Subscription:
    """Notices about ``workspace_id`` from now on, and of the last ``replay`` seconds (``Bus.subscribe``).

    Raises ``TooManySubscribers`` past the limit.
    """
    return BUS.subscribe(workspace_id, replay=replay)
