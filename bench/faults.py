"""Benchmark: what two faults cost the worker's process at real speed — a full disk, and callbacks for a run
whose key is gone.

    .venv/bin/python bench/faults.py [--quick]

1. **Disk full.** Three runs complete on the simulator (its own process) while every
   write of a download fails with ENOSPC (``lib.archive.write_chunk`` replaced). The
   worker runs with its real defaults (archive backoff 2 s, doubling, 5 attempts).
   Measured until every run has ended: downloads (target: 5 per run; 870 in 10 s
   before), the most downloads in any 10 s, CPU of this process per wall second, and
   the bytes the ``studio`` loggers wrote at DEBUG (before: 4 MB every 10 s).
2. **Missing key.** A run made with a key the worker does not hold; a callback for it
   every 100 ms (``poke_task``). Measured: worker thread CPU and loop steps per second
   (before: a step every 20 ms, about 10 % of a core; target: the loop's idle pace).
"""

from __future__ import annotations

import argparse
import errno
import io
import logging
import subprocess
import sys
import tempfile
import time

import httpx
from _util import ROOT, Row, cpu_seconds, machine, table

from tests.support.server import free_port

KEY = "bench-faults-key"
ATTEMPTS_TARGET = 5


def _simulator(port: int, speed: float) -> subprocess.Popen:
    args = ["--port", str(port), "--speed", str(speed), "--balance", "1e9", "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lib.simulator", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/credits", headers={"Authorization": "Bearer x"}, timeout=1)
            return proc
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the simulator did not start") from None
            time.sleep(0.1)


def _most_in(times: list[float], width: float) -> int:
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + width) for t in times), default=0)


def disk_full(base: str, tmp: str) -> list[Row]:
    from lib import archive
    from lib.client import EvolinkClient
    from lib.schema import GenerationRequest
    from lib.status import TERMINAL
    from lib.store import Store
    from lib.worker import Worker

    downloads: list[float] = []

    def enospc(out, chunk):
        downloads.append(time.monotonic())
        raise OSError(errno.ENOSPC, "No space left on device")

    archive.write_chunk = enospc
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    studio = logging.getLogger("studio")
    studio.addHandler(handler)
    studio.setLevel(logging.DEBUG)
    store = Store(tmp)
    ws = store.create_workspace("bench")
    w = Worker(store, allowed_hosts=["127.0.0.1"])
    w.register_key(KEY, base)
    with EvolinkClient(KEY, base_url=base) as client:
        ids = []
        for i in range(3):
            req = GenerationRequest(
                model="seedance-2.0-fast-text-to-video", prompt=f"Run {i}: a kite", duration=4, quality="480p"
            )
            run = store.create_run(ws.id, req, 0.0, True, client.fingerprint)
            store.claim_submit(run.id)
            store.mark_submitted(run.id, client.create(req))
            ids.append(run.id)
    cpu0, t0 = cpu_seconds(), time.monotonic()
    w.start()
    while not all(store.get_run(i).status in TERMINAL for i in ids) and time.monotonic() - t0 < 300:
        time.sleep(0.5)
    cpu1, t1 = cpu_seconds(), time.monotonic()
    w.close()
    studio.removeHandler(handler)
    ended = [store.get_run(i) for i in ids]
    log_bytes = len(sink.getvalue().encode())
    cpu_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    per_run = len(downloads) / len(ids)
    return [
        Row(
            "faults", "disk full: downloads per run", f"{per_run:g}", f"= {ATTEMPTS_TARGET}", per_run == ATTEMPTS_TARGET
        ),
        Row("faults", "disk full: most downloads in any 10 s", f"{_most_in(downloads, 10.0)}"),
        Row(
            "faults", "disk full: process CPU until every run ended", f"{cpu_pct:.1f} % of a core", "< 5 %", cpu_pct < 5
        ),
        Row("faults", "disk full: log written (studio.*, DEBUG)", f"{log_bytes:,} bytes in {t1 - t0:.0f} s"),
        Row(
            "faults", "disk full: how the runs ended", ", ".join(sorted({f"{r.status}/{r.error_code}" for r in ended}))
        ),
    ]


def missing_key(base: str, tmp: str, seconds: float) -> list[Row]:
    from lib.client import EvolinkClient
    from lib.schema import GenerationRequest
    from lib.store import Store
    from lib.worker import Worker

    store = Store(tmp)
    ws = store.create_workspace("bench")
    gone = "bench-pasted-before-restart"
    with EvolinkClient(gone, base_url=base) as client:
        req = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A heron", duration=4, quality="480p")
        run = store.create_run(ws.id, req, 0.0, True, client.fingerprint)
        store.claim_submit(run.id)
        run = store.mark_submitted(run.id, client.create(req))
    w = Worker(store)
    w.register_key(KEY, base)  # the server's own key only
    steps = [0]
    real = w._step

    def counted(*args, **kwargs):
        steps[0] += 1
        return real(*args, **kwargs)

    w._step = counted
    w.start()
    tid = w._thread.native_id
    time.sleep(2.0)  # past its first poll time: due, and waiting for its key
    cpu0, s0, t0 = cpu_seconds(tid=tid), steps[0], time.monotonic()
    while time.monotonic() - t0 < seconds:
        w.poke_task(run.task_id)
        time.sleep(0.1)
    cpu1, s1, t1 = cpu_seconds(tid=tid), steps[0], time.monotonic()
    w.close()
    thread_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    rate = (s1 - s0) / (t1 - t0)
    return [
        Row(
            "faults",
            "missing key: worker thread CPU, a callback every 100 ms",
            f"{thread_pct:.1f} % of a core",
            "< 1 %",
            thread_pct < 1,
        ),
        Row("faults", "missing key: loop steps per second", f"{rate:.1f}", "≤ 1.5 (the idle pace)", rate <= 1.5),
    ]


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a shorter missing-key window (5 s instead of 15 s)")
    args = p.parse_args(argv)
    port = free_port()
    sim = _simulator(port, speed=50)
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
            rows = disk_full(base, f"{tmp}/disk")
            rows += missing_key(base, f"{tmp}/key", 5.0 if args.quick else 15.0)
    finally:
        sim.terminate()
        sim.wait(10)
    print(table(rows, f"Faults ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
