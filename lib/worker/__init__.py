"""The one background poller and archiver per process: it follows every unfinished run to the end.

The end is ``archived`` or a clear failure. The worker never calls Streamlit; pages
read the store. Parts:

- ``lib.worker.forecast``: when a task will finish, from its estimate and the progress
  seen so far (``forecast``, ``ProgressLog``);
- ``lib.worker.schedule``: when to poll (the schedule's rules, from the forecast) and the
  global request-rate limit (``TokenBucket``);
- ``lib.worker.worker``: the ``Worker`` itself (polling, its thread);
- ``lib.worker.archiving``: saving finished videos, every failure counted and backed off;
- this module: the process's one worker, for ``server.py`` and the pages:
  ``start(settings)``, ``current()``, ``stop()``.

Example (what server.py's lifespan does)::

    w = start(load_settings(), base_url="http://127.0.0.1:8501/sim")
    assert current() is w and w.running
    stop()  # the worker's thread ends and its keys leave memory
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from lib import demo
from lib.settings import Settings
from lib.store import Store
from lib.worker.archiving import ARCHIVE_ATTEMPTS
from lib.worker.schedule import DEFAULT_MAX_RPS, IDLE_WAIT, Schedule, TokenBucket
from lib.worker.worker import NOT_FOUND_LIMIT, Worker

__all__ = [
    "ARCHIVE_ATTEMPTS",
    "DEFAULT_MAX_RPS",
    "IDLE_WAIT",
    "NOT_FOUND_LIMIT",
    "Schedule",
    "TokenBucket",
    "Worker",
    "current",
    "start",
    "stop",
]

_worker: Worker | None = None
_lock = threading.Lock()


def start(settings: Settings, base_url: str | None = None, **config: Any) -> Worker:
    """Start this process's worker from ``settings`` (once; later calls return the running one).

    The server's own key is registered with ``base_url`` (default ``settings.base_url``);
    in demo mode this process's demo key (``lib.demo``), so demo runs resume too, and the
    simulator's host joins ``settings.allowed_fetch_hosts`` so its videos can be saved.
    ``config`` goes to ``Worker`` (``max_rps=``, ``schedule=``, ...).
    """
    global _worker
    url = base_url or settings.base_url
    with _lock:
        if _worker is None or not _worker.running:
            demo_host = urlsplit(url).hostname if settings.demo and url else None
            allowed = (*settings.allowed_fetch_hosts, demo_host) if demo_host else settings.allowed_fetch_hosts
            config.setdefault("allowed_hosts", allowed)
            config.setdefault("transport", settings.transport)
            config.setdefault("min_free", settings.min_free_bytes)
            store = Store.from_settings(settings)
            _worker = Worker(store, **config).start()
        worker = _worker
    key = settings.api_key or (demo.key() if settings.demo else None)
    if key and url:
        worker.register_key(key, url)
    return worker


def current() -> Worker | None:
    """This process's worker, or None before ``start`` (and after ``stop``)."""
    with _lock:
        return _worker


def stop(timeout: float = 10.0) -> None:
    """Stop the worker and drop its keys from memory (server shutdown)."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop(timeout)
        worker.close()
