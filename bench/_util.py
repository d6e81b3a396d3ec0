"""Shared helpers for the benchmark scripts: repo on sys.path, percentiles, the result table."""

from __future__ import annotations

import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Row:
    bench: str
    metric: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


def pct(values, q: float) -> float:
    """The q-th percentile (0-100), linear interpolation; NaN for no values."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def table(rows: list[Row], title: str | None = None) -> str:
    head = ("benchmark", "metric", "value", "target", "")
    body = [(r.bench, r.metric, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(5)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"  # noqa: E731
    out = [f"\n{title}" if title else "", line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(b) for b in body]
    return "\n".join(out)


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process from /proc/<pid>/status (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | str = "self", tid: int | None = None) -> float:
    """User + system CPU seconds of a process (or one of its threads) from /proc/.../stat."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15)


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def load_average() -> float:
    """The 1-minute load average, as ``uptime`` shows it."""
    return os.getloadavg()[0]


def load() -> str:
    """The machine's 1-minute load average against its cores: timings mean little on a busy machine."""
    return f"load {load_average():.1f} on {os.cpu_count()} cores"
