"""When the worker asks the provider again: the polling schedule and the global request-rate limit.

The schedule uses everything the provider says about a task: its ``estimated_time``
until progress moves, then its progress (``lib.worker.forecast`` turns both into a
window ``[earliest, latest]`` for the finish, in seconds since submission). With ``t``
the time of the last answer:

- **first poll** at ``fraction · estimate`` (at most ``ceiling``): progress, if the
  provider reports any, has started to move by then;
- **before the window**, while progress is on the move (a steady rate, or a first
  level that the next answer may turn into one) and the window is still wider than
  ``floor``: close in, half the way to the window or straight to one window-width
  before it, whichever is later; each answer sharpens the forecast. Otherwise answers
  before the window tell nothing new: go straight to the first poll inside it;
- **inside the window**, polls ``step = √(poll_worth · width)`` apart, the last one at
  ``latest``: with the finish anywhere in a window of width ``W`` and polls ``h``
  apart, the expected lag is ``h/2`` and the expected number of GETs ``W/(2h)``;
  ``h = √(poll_worth · W)`` minimises lag + ``poll_worth`` · GETs, i.e. a GET is sent
  while it saves about ``poll_worth`` seconds of lag. The window shrinks as polls
  find the task unfinished, so the steps do too;
- **past the window**: ``floor + growth · (t - latest)``, so a very late task thins out.
  A task past its *estimate* whose progress still rises is not late: its window moved;
- every wait lies between ``floor`` and ``ceiling``; in a ``rate`` window polls may
  come every ``floor / 2``.

Defaults: floor 1 s, ceiling 30 s, fraction 0.5, growth 0.1, spread ±30 %, poll_worth
0.4 s. Against tasks of 28-150 s finishing ±30 % around their estimate (simulated on a
fake clock, ``tests/test_schedule.py``), this sends 0.37× the GETs of a fixed 5 s poller
with linear progress (the finish seen a median 0.3 s late), 0.53× with progress in
steps and 0.52× with none (1.1-1.3 s late); the fixed poller sees each finish a median
2.5 s late.

Every GET to the API also passes one global ``TokenBucket`` (``max_rps``). When more
runs are due than it lets through, ``in_turn`` decides who goes first: a run a callback
said is done, then the runs likeliest to be done by now, and only then first looks and
polls closing in, which lose nothing by waiting. (Served in due order instead, 16 runs
sent within 5 s saw their finishes a median 1.0 s late instead of 0.4 s.) Waiting
after an error is not a schedule matter: ``lib.retries`` decides that.

Example:
    >>> s = Schedule()
    >>> s.delay(0, 165)                                        # first poll: half the estimate, at most 30 s
    30.0
    >>> steady = [Sample(20, 16), Sample(40, 44), Sample(70, 86)]   # announced 60 s, finishing at 79-81 s
    >>> round(s.delay(70, 60, steady), 1)                      # one window-width before the window
    7.6
    >>> round(s.delay(160, 165, [Sample(30, 0), Sample(160, 0)]), 1)  # no progress: √(0.4 · (214.5 - 160))
    4.7
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from lib.schema import Task
from lib.status import TO_ARCHIVE, RunStatus
from lib.worker.forecast import Forecast, ProgressLog, Sample, chance_done, forecast

DEFAULT_MAX_RPS = 2.0  # provider advice: 1-2 s between requests
IDLE_WAIT = 1.0  # how often the loop looks for new runs when nothing is due

__all__ = [
    "DEFAULT_MAX_RPS",
    "IDLE_WAIT",
    "Forecast",
    "ProgressLog",
    "Sample",
    "Schedule",
    "Submitted",
    "TokenBucket",
    "stored_samples",
]


class Submitted(Protocol):
    """What the schedule reads from a run."""

    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> float: ...
    @property
    def submitted_at(self) -> float | None: ...
    @property
    def estimated_time(self) -> float | None: ...
    @property
    def progress(self) -> int: ...
    @property
    def last_polled_at(self) -> float | None: ...
    @property
    def poll_failures(self) -> int: ...
    @property
    def status(self) -> RunStatus: ...


R = TypeVar("R", bound=Submitted)


def _start(run: Submitted) -> float:
    return run.submitted_at or run.created_at


def stored_samples(run: Submitted) -> list[Sample]:
    """What the store kept of a run's last answer, as a sample (after a restart, or on another server).

    Only when that poll was answered: a failed one moves ``last_polled_at`` but not ``progress``.
    """
    if run.last_polled_at is None or run.poll_failures:
        return []
    return [Sample(run.last_polled_at - _start(run), run.progress)]


@dataclass(frozen=True)
class Schedule:
    """When to poll next; see the module docstring for the rules."""

    floor: float = 1.0
    ceiling: float = 30.0
    fraction: float = 0.5
    growth: float = 0.1
    default_estimate: float = 60.0
    spread: float = 0.3  # how far off its estimate a task may finish (±30 %)
    poll_worth: float = 0.4  # seconds of expected lag one GET must save

    def scaled(self, speed: float) -> Schedule:
        """The same schedule for a provider ``speed`` times faster (every duration divided by ``speed``)."""
        return dataclasses.replace(
            self,
            floor=self.floor / speed,
            ceiling=self.ceiling / speed,
            default_estimate=self.default_estimate / speed,
            poll_worth=self.poll_worth / speed,
        )

    def estimate(self, estimated_time: float | None) -> float:
        return estimated_time if estimated_time and estimated_time > 0 else self.default_estimate

    def forecast(self, samples: Sequence[Sample], estimated_time: float | None) -> Forecast:
        return forecast(samples, self.estimate(estimated_time), spread=self.spread)

    def delay(self, elapsed: float, estimated_time: float | None, samples: Sequence[Sample] = ()) -> float:
        """Seconds until the next poll of a task last heard from ``elapsed`` seconds after submission.

        ``samples``: the progress it reported so far, oldest first (none: only the estimate is known).
        """
        if not samples:
            # Nothing heard yet: halve the way to the estimate, then the rule for late tasks.
            remaining = self.estimate(estimated_time) - elapsed
            wait = self.fraction * remaining if remaining > 0 else self.floor + self.growth * -remaining
            return self._clamp(wait, self.floor)
        return self._wait(elapsed, self.forecast(samples, estimated_time))

    def _wait(self, t: float, f: Forecast) -> float:
        lo, hi = f.earliest, f.latest
        if t >= hi:
            return self._clamp(self.floor + self.growth * (t - hi), self.floor)
        least = self.floor / 2 if f.basis == "rate" else self.floor
        step = max(math.sqrt(self.poll_worth * f.width), least)
        if t < lo and f.moving and f.width > self.floor:
            # Close in: each answer on the way sharpens the forecast.
            target = min(max(t + self.fraction * (lo - t), lo - f.width), lo + step, hi)
        else:
            target = min(max(lo, t) + step, hi)
        return self._clamp(target - t, least)

    def _clamp(self, wait: float, least: float) -> float:
        return min(max(wait, least), self.ceiling)

    def first_poll_at(self, run: Submitted) -> float:
        return _start(run) + self.delay(0.0, run.estimated_time)

    def after_poll(self, run: Submitted, task: Task, now: float, log: ProgressLog) -> float | None:
        """Record what the provider just said about ``run`` in ``log``; when to ask again (None: it ended)."""
        if task.state.terminal:
            log.forget(run.id)
            return None
        start = _start(run)
        log.seed(run.id, stored_samples(run))
        log.add(run.id, Sample(now - start, task.progress))
        estimated = task.estimated_time if task.estimated_time is not None else run.estimated_time
        f = self.forecast(log.samples(run.id), estimated)
        log.expect(run.id, start + f.earliest, start + f.latest)
        return now + self._wait(now - start, f)

    def in_turn(self, runs: Iterable[R], now: float, poked: set[str], log: ProgressLog) -> list[R]:
        """``runs`` in the order they get GETs when the rate limit cannot serve every due one at once.

        First runs to save and runs a callback said are done; then runs that may be done by
        now, the likeliest first (``chance_done`` over their forecast window); then the rest
        (first looks, closing in) in their stored order: delaying those costs no lag.
        """

        def turn(run: R) -> tuple[int, float]:
            if run.status in TO_ARCHIVE or run.id in poked:
                return (0, 0.0)
            window = log.expected(run.id)
            if window is None:  # not heard from in this process: what the estimate says
                estimate, start = self.estimate(run.estimated_time), _start(run)
                window = (start + (1 - self.spread) * estimate, start + (1 + self.spread) * estimate)
            chance = chance_done(*window, now)
            return (1, -chance) if chance > 0 else (2, 0.0)

        return sorted(runs, key=turn)


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
