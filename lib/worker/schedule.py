"""When the worker asks the provider again: the adaptive polling schedule and the global request-rate limit.

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

Every GET to the API also passes one global ``TokenBucket`` (``max_rps``). Waiting
after an error is not a schedule matter: ``lib.retries`` decides that.

Example:
    >>> Schedule().delay(0, 165), Schedule().delay(164.5, 165)
    (30.0, 1.0)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

DEFAULT_MAX_RPS = 2.0  # provider advice: 1-2 s between requests
IDLE_WAIT = 1.0  # how often the loop looks for new runs when nothing is due


class Submitted(Protocol):
    """What the schedule reads from a run."""

    @property
    def created_at(self) -> float: ...
    @property
    def submitted_at(self) -> float | None: ...
    @property
    def estimated_time(self) -> float | None: ...
    @property
    def progress(self) -> int: ...


@dataclass(frozen=True)
class Schedule:
    """When to poll next; see the module docstring for the formula."""

    floor: float = 1.0
    ceiling: float = 30.0
    fraction: float = 0.5
    growth: float = 0.1
    default_estimate: float = 60.0

    def delay(self, elapsed: float, estimated_time: float | None, progress: int = 0) -> float:
        """Seconds until the next poll of a task submitted ``elapsed`` seconds ago."""
        estimate = estimated_time if estimated_time and estimated_time > 0 else self.default_estimate
        remaining = estimate - elapsed
        if 0 < progress < 100 and elapsed > 0:
            remaining = min(remaining, elapsed * (100 - progress) / progress)
        if remaining > 0:
            wait = self.fraction * remaining
        else:
            wait = self.floor + self.growth * -remaining
        return min(max(wait, self.floor), self.ceiling)

    def next_poll_at(self, run: Submitted, now: float) -> float:
        start = run.submitted_at or run.created_at
        return now + self.delay(now - start, run.estimated_time, run.progress)

    def first_poll_at(self, run: Submitted) -> float:
        start = run.submitted_at or run.created_at
        return start + self.delay(0.0, run.estimated_time, 0)


class TokenBucket:
    """A global request-rate limit: ``rate`` per second, bursts up to ``burst``.

    >>> bucket = TokenBucket(rate=2, burst=2)
    >>> [bucket.try_take(0.0) for _ in range(3)], bucket.try_take(0.5)
    ([True, True, False], True)
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self._tokens = self.burst
        self._at: float | None = None
        self._lock = threading.Lock()

    def try_take(self, now: float) -> bool:
        """Spend one token if there is one at ``now``."""
        with self._lock:
            if self._at is not None:
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now if self._at is None else max(self._at, now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def wait_time(self) -> float:
        """Seconds until the next token (``IDLE_WAIT`` when the rate is zero)."""
        with self._lock:
            return max(0.0, (1.0 - self._tokens) / self.rate) if self.rate > 0 else IDLE_WAIT
