"""When a task will be done, from everything the provider has said about it: its estimate and the progress seen so far.

A ``Forecast`` is a window ``[earliest, latest]`` in seconds since submission. It
rests on one of three grounds (``basis``), the best the samples allow:

- ``"rate"``: progress has taken at least two different values and a straight line
  fits every sample. The window holds every finish such a line allows, reported
  progress being whole percent, floored or rounded (``_line_window``). A task past
  its estimate whose progress still rises is forecast from its progress, not its
  estimate.
- ``"step"``: progress moved, but no line fits (0 → 50 → 100), or it has taken only
  one value so far. The last level bounds the finish from above (level ``L`` first
  seen at ``t`` means at most ``t·100/L``) and, allowing for a queue before the work
  started, from below; the estimate narrows that window when they overlap.
- ``"estimate"``: no progress yet (some providers report 0 until done): the estimate,
  give or take ``spread``.

Whatever the basis, a task seen unfinished at ``t`` finishes after ``t``; one still
running after ``latest`` is late (then ``earliest > latest``).

Example:
    >>> steady = [Sample(20, 16), Sample(40, 44), Sample(70, 86)]   # announced 60 s, takes 80 s
    >>> f = forecast(steady, 60)
    >>> f.basis, round(f.earliest, 1), round(f.latest, 1)
    ('rate', 79.1, 80.6)
    >>> forecast([Sample(30, 0)], 60)
    Forecast(earliest=42.0, latest=78.0, basis='estimate', moving=False)
    >>> f = forecast([Sample(30, 0), Sample(45, 50)], 60)
    >>> f.basis, round(f.earliest, 1), round(f.latest, 1)
    ('step', 49.3, 78.0)
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Basis = Literal["rate", "step", "estimate"]

# Reported progress is a whole percent; whether the provider floors or rounds, the true
# value at a sample lies in [p - BELOW, p + ABOVE].
BELOW = 0.5
ABOVE = 1.0
# Levels outside [MOVING, STALLED] carry only a one-sided bound: providers hold 0 or 1
# while a task waits in a queue, and 99 while the result is being stored.
MOVING = 2
STALLED = 99
SAMPLES_KEPT = 12  # per run: the first moving sample and the most recent ones
RUNS_KEPT = 10_000  # runs whose samples are remembered (the least recently seen are forgotten)


@dataclass(frozen=True)
class Sample:
    """What one poll said: ``progress`` (0-100) ``at`` seconds after submission."""

    at: float
    progress: int


@dataclass(frozen=True)
class Forecast:
    """The finish lies in ``[earliest, latest]`` (seconds since submission), on ``basis``.

    ``moving``: progress is on the move (a ``rate``, or one level seen once so far, which
    the next answer may turn into a rate), so a poll before the window sharpens it.
    """

    earliest: float
    latest: float
    basis: Basis
    moving: bool = False

    @property
    def width(self) -> float:
        return max(0.0, self.latest - self.earliest)


def forecast(samples: Sequence[Sample], estimate: float, *, spread: float = 0.3, queue_share: float = 0.2) -> Forecast:
    """The finish window of a task with ``estimate`` seconds announced and these (time-ordered) samples.

    ``spread``: how far off its estimate a task may finish (0.3: ±30 %). ``queue_share``:
    the largest share of a run spent waiting before its progress starts, used to bound
    a step forecast from below.
    """
    seen = max((s.at for s in samples), default=0.0)
    guess = Forecast((1 - spread) * estimate, (1 + spread) * estimate, "estimate")
    moving = [s for s in samples if MOVING <= s.progress < 100]
    levels = {s.progress for s in moving}
    found: Forecast | None = None
    if len(levels) >= 2:
        window = _line_window(samples)
        if window is not None:
            found = Forecast(*window, "rate", moving=True)
    if found is None and moving:
        found = _overlap(_step_window(samples, queue_share), guess, moving=len(moving) == 1)
    return _after(found or guess, seen)


def _after(f: Forecast, seen: float) -> Forecast:
    """A task seen unfinished at ``seen`` finishes later. ``latest`` stays what the evidence
    says: a task still running past it is late (``earliest > latest``), by ``seen - latest``."""
    return Forecast(max(f.earliest, seen), f.latest, f.basis, f.moving)


def _overlap(progress: Forecast, estimate: Forecast, *, moving: bool) -> Forecast:
    """Both windows' common part, or the progress window alone when they do not meet."""
    lo, hi = max(progress.earliest, estimate.earliest), min(progress.latest, estimate.latest)
    if lo > hi:
        lo, hi = progress.earliest, progress.latest
    return Forecast(lo, hi, progress.basis, moving)


def _step_window(samples: Sequence[Sample], queue_share: float) -> Forecast:
    """Bounds from the last level reached: when it was first seen, and the sample before that."""
    top = max(s.progress for s in samples if s.progress < 100)
    first = next(i for i, s in enumerate(samples) if s.progress == top)
    reached_by = samples[first].at
    reached_after = samples[first - 1].at if first > 0 else 0.0
    # A run that started its work at t0 >= 0 and reached `top` at ts finishes at
    # t0 + (ts - t0) * 100 / top: at most ts * 100 / top; at least that much less the
    # queue, taken as at most `queue_share` of the run.
    ratio_hi = 100 / max(top - BELOW, 1.0)
    ratio_lo = 100 / (top + ABOVE)
    latest = reached_by * ratio_hi
    earliest = reached_after * ratio_lo / (1 + queue_share * (ratio_lo - 1))
    return Forecast(earliest, max(latest, earliest), "step")


def _line_window(samples: Sequence[Sample]) -> tuple[float, float] | None:
    """Earliest and latest finish of any rising line ``progress = u·t + v`` consistent with every sample.

    Each sample confines the line to a band (one-sided at the levels ``MOVING`` and
    ``STALLED`` leave out), and progress at submission was 0. These are half-planes in
    ``(u, v)``; the finish ``(100 - v) / u`` is extreme at a corner of their
    intersection, so every corner is tried. None when no line fits.
    """
    # Half-planes a·u + b·v <= c.
    planes: list[tuple[float, float, float]] = [(0.0, 1.0, ABOVE), (-1.0, 0.0, -1e-6), (1.0, 0.0, 1e3)]
    planes.append((0.0, -1.0, 1e6))
    for s in samples:
        if s.progress >= 100:
            continue
        if s.progress < STALLED:
            planes.append((s.at, 1.0, s.progress + ABOVE))
        if s.progress >= MOVING:
            planes.append((-s.at, -1.0, -(s.progress - BELOW)))
    finishes = []
    for (a1, b1, c1), (a2, b2, c2) in itertools.combinations(planes, 2):
        det = a1 * b2 - a2 * b1
        if abs(det) < 1e-12:
            continue
        u, v = (c1 * b2 - c2 * b1) / det, (a1 * c2 - a2 * c1) / det
        if u > 0 and all(a * u + b * v <= c + 1e-7 * (1 + abs(c)) for a, b, c in planes):
            finishes.append((100 - v) / u)
    if not finishes:
        return None
    return min(finishes), max(finishes)


class ProgressLog:
    """The samples of every run in flight, in memory (bounded), for ``forecast``.

    A run this process has not seen yet (after a restart, or one another server
    followed) starts from what the store kept of its last poll.

    >>> log = ProgressLog()
    >>> log.add("run_a", Sample(10, 5)); log.add("run_a", Sample(20, 20))
    >>> [s.progress for s in log.samples("run_a")]
    [5, 20]
    >>> log.forget("run_a"); log.samples("run_a")
    []
    """

    def __init__(self, per_run: int = SAMPLES_KEPT, runs: int = RUNS_KEPT) -> None:
        self.per_run = max(6, per_run)
        self.runs = max(1, runs)
        self._samples: OrderedDict[str, list[Sample]] = OrderedDict()
        self._windows: dict[str, tuple[float, float]] = {}  # run id -> its finish window, in clock time
        self._lock = threading.Lock()

    def samples(self, run_id: str) -> list[Sample]:
        with self._lock:
            return list(self._samples.get(run_id, ()))

    def seed(self, run_id: str, samples: Iterable[Sample]) -> None:
        """Start a run's samples from what was stored, unless this process already has some."""
        with self._lock:
            if run_id in self._samples:
                return
        for s in samples:
            self.add(run_id, s)

    def add(self, run_id: str, sample: Sample) -> None:
        with self._lock:
            kept = self._samples.setdefault(run_id, [])
            self._samples.move_to_end(run_id)
            if kept and sample.at < kept[-1].at:
                return  # an answer older than one already recorded adds nothing
            kept.append(sample)
            if len(kept) > self.per_run:
                del kept[_expendable(kept)]
            while len(self._samples) > self.runs:
                gone, _ = self._samples.popitem(last=False)
                self._windows.pop(gone, None)

    def expect(self, run_id: str, earliest: float, latest: float) -> None:
        """Remember the run's last forecast window, in clock time (``chance_done`` reads it)."""
        with self._lock:
            if run_id in self._samples:
                self._windows[run_id] = (earliest, latest)

    def expected(self, run_id: str) -> tuple[float, float] | None:
        with self._lock:
            return self._windows.get(run_id)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._samples.pop(run_id, None)
            self._windows.pop(run_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)


def chance_done(earliest: float, latest: float, now: float) -> float:
    """How likely a task is done by ``now`` when its finish lies anywhere in ``[earliest, latest]``.

    >>> chance_done(10, 20, 5), chance_done(10, 20, 15), chance_done(10, 20, 25), chance_done(10, 9, 10)
    (0.0, 0.5, 1.0, 1.0)
    """
    if now < earliest:
        return 0.0
    if latest <= earliest:
        return 1.0
    return min(1.0, (now - earliest) / (latest - earliest))


def _expendable(kept: list[Sample]) -> int:
    """The oldest sample a forecast can best do without.

    Kept: the first moving sample (the longest baseline for a rate), the first at the
    highest level (a step's time), the one before each, and the latest.
    """
    below_top = [s.progress for s in kept if s.progress < 100]
    top = max(below_top, default=0)
    protected = {len(kept) - 1}
    for wanted in (lambda s: s.progress >= MOVING, lambda s: s.progress == top):
        i = next((i for i, s in enumerate(kept) if wanted(s)), None)
        if i is not None:
            protected |= {i, i - 1}
    return next(i for i in range(len(kept)) if i not in protected)
