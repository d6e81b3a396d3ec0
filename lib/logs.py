"""Log lines that repeat for one failing thing (a run that cannot be saved, a damaged database) come out rarely.

A full disk makes every attempt for every run fail the same way; logging each one
with its traceback grew the log by megabytes a minute. ``Throttle`` lets one line per
key through every ``every`` seconds and says how many it held back in between.

Example:
    >>> import logging
    >>> lines = []
    >>> class Keep(logging.Handler):
    ...     def emit(self, record):
    ...         lines.append(record.getMessage())
    >>> logger = logging.getLogger("studio.example")
    >>> logger.addHandler(Keep())
    >>> now = [0.0]
    >>> throttle = Throttle(logger, every=60.0, clock=lambda: now[0])
    >>> for _ in range(5):
    ...     _ = throttle.warning("run-1", "run %s: disk full", "run-1")
    >>> now[0] = 61.0
    >>> throttle.warning("run-1", "run %s: disk full", "run-1")
    True
    >>> lines
    ['run run-1: disk full', 'run run-1: disk full (4 similar lines held back in the last 61 s)']
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

EVERY = 300.0  # seconds between two lines about the same thing
MAX_KEYS = 1000  # things remembered at once; the oldest is forgotten first


class Throttle:
    """At most one line per ``key`` per ``every`` seconds through ``logger``; the next says how many were held."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = EVERY,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self.max_keys = max_keys
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()  # key -> (last line at, held since)
        self._lock = threading.Lock()

    def log(self, key: str, level: int, msg: str, *args: Any, exc_info: bool = False) -> bool:
        """Log unless a line for ``key`` went out less than ``every`` seconds ago; True when it went out."""
        now = self.clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self.every:
                self._seen[key] = (last[0], last[1] + 1)
                return False
            held, since = (last[1], now - last[0]) if last is not None else (0, 0.0)
            self._seen[key] = (now, 0)
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
        if held:
            msg = f"{msg} ({held} similar line{'s' if held > 1 else ''} held back in the last {since:.0f} s)"
        self.logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def warning(self, key: str, msg: str, *args: Any) -> bool:
        return self.log(key, logging.WARNING, msg, *args)

    def exception(self, key: str, msg: str, *args: Any) -> bool:
        """An error with its traceback (call from an ``except`` block)."""
        return self.log(key, logging.ERROR, msg, *args, exc_info=True)

    def forget(self, key: str) -> None:
        """``key`` is settled (the run ended): its next line, if any, goes out at once."""
        with self._lock:
            self._seen.pop(key, None)
