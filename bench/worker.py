"""Benchmark: what 200 unfinished runs cost the process that polls them, and whether the rate limit holds.

    .venv/bin/python bench/worker.py [--runs 200] [--window 75] [--quick]

The simulator runs in its own process (``python -m lib.simulator``), so this process
holds only the worker, its store and its HTTP clients. 200 runs (10-15 s at 720p, so
100-150 s of provider time at speed 1) stay unfinished for the whole window; their
prompts carry the simulator's ``[fail:generation_timeout]`` trigger, so it renders no
video for them (rendering would only load the machine, not this process).

Measured over the window, from /proc: CPU seconds of this process and of the worker
thread, per wall second (target < 5 % of one core), and every task-status GET as the
worker's transport sends it: the most GETs in any sliding 1-second window (target: never
above ``max_rps``). The adaptive schedule leaves the first 30 s quiet (first poll at
half the estimate, at most 30 s), then all 200 runs are due at once and the global
token bucket is the only thing between them and the API — the worst case.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import httpx
from _util import ROOT, Row, cpu_seconds, machine, table

from tests.support.server import free_port
from tests.support.transport import Recorder

TARGET_CPU = 5.0  # percent of one core
KEY = "bench-worker-key"


def max_in_window(times: list[float], width: float = 1.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - width:
            j += 1
        best = max(best, i - j + 1)
    return best


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--window", type=float, default=75.0, help="seconds measured after the last submission")
    p.add_argument("--max-rps", type=float, default=None, help="worker rate limit (default lib.worker.DEFAULT_MAX_RPS)")
    p.add_argument("--quick", action="store_true", help="a 40 s window")
    args = p.parse_args(argv)
    if args.quick:
        args.window = 40.0

    from lib.client import EvolinkClient, key_fingerprint
    from lib.schema import GenerationRequest
    from lib.status import POLLED
    from lib.store import Store
    from lib.worker import DEFAULT_MAX_RPS, Worker

    max_rps = args.max_rps or DEFAULT_MAX_RPS
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lib.simulator",
            "--port",
            str(port),
            "--speed",
            "1",
            "--balance",
            "1e9",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/v1/credits", headers={"Authorization": "Bearer x"}, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or sim.poll() is not None:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.1)
        with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
            store = Store(tmp)
            ws = store.create_workspace("bench")
            fp = key_fingerprint(KEY)
            print(f"Submitting {args.runs} runs to the simulator (pid {sim.pid}) ...", flush=True)
            with EvolinkClient(KEY, base_url=base) as client:
                for i in range(args.runs):
                    req = GenerationRequest(
                        model="seedance-2.0-text-to-video",
                        quality="720p",
                        duration=10 + i % 6,
                        prompt=f"Run {i}: a tram crosses a bridge at night [fail:generation_timeout]",
                    )
                    run = store.create_run(ws.id, req, 0.0, True, fp)
                    store.claim_submit(run.id)
                    store.mark_submitted(run.id, client.create(req))
            recorder = Recorder()  # notes when each request leaves
            w = Worker(store, max_rps=max_rps)
            w.register_key(KEY, base, transport=recorder)
            cpu0, t0 = cpu_seconds(), time.monotonic()
            w.start()
            tid = w._thread.native_id
            print(f"Measuring for {args.window:g} s ...", flush=True)
            time.sleep(args.window)
            cpu1, t1 = cpu_seconds(), time.monotonic()
            thread_cpu = cpu_seconds(tid=tid)
            unfinished = sum(r.status in POLLED for r in store.list_runs(ws.id, limit=None))
            w.close()
    finally:
        sim.terminate()
        sim.wait(10)

    gets = [e.at for e in recorder.log if e.method == "GET" and "/v1/tasks/" in e.url]
    first = min(gets) if gets else t1
    busy = [t for t in gets if t >= first]
    cpu_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    thread_pct = 100 * thread_cpu / (t1 - t0)
    peak = max_in_window(gets)
    rate = len(busy) / (t1 - first) if t1 > first else 0.0
    rows = [
        Row(
            "worker",
            f"process CPU, {args.runs} unfinished runs",
            f"{cpu_pct:.1f} % of a core",
            f"< {TARGET_CPU:g} %",
            cpu_pct < TARGET_CPU,
        ),
        Row("worker", "worker thread CPU", f"{thread_pct:.1f} % of a core"),
        Row("worker", "most GETs in any 1 s window", f"{peak}", f"≤ {max_rps:g} (max_rps)", peak <= max_rps),
        Row("worker", "mean GET rate once polling began", f"{rate:.2f} /s"),
        Row("worker", "GETs sent / runs still unfinished", f"{len(gets)} / {unfinished}"),
        Row("worker", "setup", f"{args.runs} runs, {t1 - t0:.0f} s window, first GET after {first - t0:.1f} s"),
    ]
    print(table(rows, f"Worker cost ({machine()}, pid {os.getpid()})"))
    return rows


if __name__ == "__main__":
    main()
