"""Run-change notices between servers that share one PostgreSQL: ``LISTEN``/``NOTIFY``.

Each server runs one ``Relay``: every notice its store publishes (after the commit)
is also sent as a ``NOTIFY`` on ``CHANNEL``, and a listener thread delivers the
notices of the *other* servers to this process's subscribers (``events.Bus.deliver``,
which does not relay them again). The payload names the sending server, so a server
skips its own. Publishing never waits for the database: notices queue (bounded) for a
sender thread, and when the queue is full or the database is away they are dropped,
which costs a page a refresh, never wrong data (a notice only says *which* run changed).

When the database restarts both connections are made again, waiting by
``lib.retries`` between tries; once the listener is back, every workspace with open
pages here is told to ``resync``, since notices sent meanwhile were lost.

On SQLite there is one server, so no relay (``start`` returns None).

Example (what server.py's lifespan does)::

    relay = start("postgresql+psycopg://studio@db/studio", server_id="a1b2c3")
    ...
    stop()
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

from lib import events
from lib.logs import Throttle
from lib.retries import RetryPolicy

log = logging.getLogger("studio.events")

CHANNEL = "studio_runs"
QUEUE_MAX = 10_000  # notices waiting to be sent; more are dropped (pages then catch up on their next read)
BATCH_MAX = 200  # notices sent in one round trip
RECONNECT = RetryPolicy(initial_delay=0.5, max_delay=10.0)
POLL_SECONDS = 0.5  # how often the listener looks up from waiting to see whether it should stop


def conninfo(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq connection string (psycopg's own).

    >>> conninfo("postgresql+psycopg://studio:pw@db:5432/studio")
    'postgresql://studio:pw@db:5432/studio'
    """
    import sqlalchemy as sa

    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def is_postgres(url: str) -> bool:
    return url.split("://", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


class Relay:
    """Sends this server's notices to the others and delivers theirs here (see the module docstring)."""

    def __init__(
        self, url: str, server_id: str, *, bus: events.Bus | None = None, retry: RetryPolicy = RECONNECT
    ) -> None:
        self.dsn = conninfo(url)
        self.server_id = server_id
        self.bus = bus or events.BUS
        self.retry = retry
        self._queue: queue.Queue[tuple[str, str, str]] = queue.Queue(QUEUE_MAX)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: dict[str, Any] = {}
        self._conns_lock = threading.Lock()
        self.listening = threading.Event()  # set while the listener is connected and LISTENing
        self.stats = {"sent": 0, "heard": 0, "dropped": 0, "reconnects": 0}
        self.logs = Throttle(log)

    # --- the bus's side --------------------------------------------------------------------

    def send(self, workspace_id: str, run_id: str, kind: events.Kind) -> None:
        """Queue one notice for the other servers; never blocks, never raises."""
        try:
            self._queue.put_nowait((workspace_id, run_id, kind))
        except queue.Full:
            self.stats["dropped"] += 1

    def start(self) -> Relay:
        self._stop.clear()
        for name, target in (("listen", self._listen), ("notify", self._notify)):
            thread = threading.Thread(target=target, name=f"studio-relay-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self.bus.set_relay(self.send)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.bus.set_relay(None)
        self._stop.set()
        try:
            self._queue.put_nowait(("", "", "resync"))  # wakes the sender
        except queue.Full:
            pass  # a full queue wakes it anyway
        self._close_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    # --- connections -----------------------------------------------------------------------

    def _connect(self, role: str) -> Any:
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5, application_name=f"studio-{role}")
        with self._conns_lock:
            self._conns[role] = conn
        return conn

    def _close(self, role: str) -> None:
        with self._conns_lock:
            conn = self._conns.pop(role, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def _close_all(self) -> None:
        for role in list(self._conns):
            self._close(role)

    def _backoff(self, failures: int) -> None:
        self._stop.wait(self.retry.delay(failures))

    # --- the threads -----------------------------------------------------------------------

    def _listen(self) -> None:
        failures = 0
        first = True
        while not self._stop.is_set():
            try:
                conn = self._connect("listen")
                conn.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                if not first:
                    self.stats["reconnects"] += 1
                    self._resync()  # what was sent while we were away is lost: pages re-read
                first, failures = False, 0
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=POLL_SECONDS):
                        self._heard(note.payload)
            except Exception as exc:
                self.listening.clear()
                self._close("listen")
                if self._stop.is_set():
                    return
                self.logs.warning("listen", "relay: listening for other servers failed (%s); retrying", exc)
                self._backoff(failures)
                failures += 1
        self.listening.clear()
        self._close("listen")

    def _heard(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            sender, ws, run_id, kind = note["s"], note["w"], note["r"], note["k"]
        except (ValueError, KeyError, TypeError):
            return
        if sender == self.server_id or kind not in events.KINDS:
            return
        self.stats["heard"] += 1
        self.bus.deliver(str(ws), str(run_id), kind)

    def _resync(self) -> None:
        for workspace_id in self.bus.workspaces():
            self.bus.deliver(workspace_id, "", "resync")

    def _notify(self) -> None:
        failures = 0
        conn = None
        while not self._stop.is_set():
            batch = [self._queue.get()]
            while len(batch) < BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._stop.is_set():
                return
            payloads = [
                json.dumps({"s": self.server_id, "w": ws, "r": run_id, "k": kind}, separators=(",", ":"))
                for ws, run_id, kind in batch
            ]
            try:
                if conn is None:
                    conn = self._connect("notify")
                with conn.transaction():
                    for payload in payloads:
                        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                self.stats["sent"] += len(payloads)
                failures = 0
            except Exception as exc:
                conn = None
                self._close("notify")
                self.stats["dropped"] += len(payloads)
                if self._stop.is_set():
                    return
                self.logs.warning("notify", "relay: telling other servers failed (%s); retrying", exc)
                self._backoff(failures)
                failures += 1


_relay: Relay | None = None
_lock = threading.Lock()


def start(url: str, server_id: str) -> Relay | None:
    """This process's relay for ``url`` (None on SQLite: one server, nothing to relay)."""
    global _relay
    if not is_postgres(url):
        return None
    with _lock:
        if _relay is None:
            _relay = Relay(url, server_id).start()
        return _relay


def current() -> Relay | None:
    with _lock:
        return _relay


def stop() -> None:
    global _relay
    with _lock:
        relay, _relay = _relay, None
    if relay is not None:
        relay.stop()
