"""Benchmark: how soon a finished video is playable, and how many status GETs that costs.

    .venv/bin/python bench/detection.py [--runs 50] [--speed 12] [--quick]

50 runs with realistic settings (4-15 s, 480p/720p) go to the offline simulator,
running ``--speed`` times faster than the provider. Two pollers follow the *same*
tasks at the same time, each with its own store: our ``lib.worker.Worker`` with its
adaptive ``Schedule``, and the same Worker with a fixed 5-second schedule.

Time scaling, honestly: the simulator compresses provider time by ``speed``, so both
schedules are compressed by the same factor (every delay divided by ``speed``, the
rate limit multiplied by it, the loop's 1 s idle tick divided by it). Downloading and verifying a file is *not*
compressed: it takes real time. So a run's detection latency in provider seconds is

    poll lag  × speed   (run.completed_at - the simulator's completion time)
  + archive time        (run.archived_at - run.completed_at, real seconds)

where the simulator's completion time is ``SimTask.completed_at()`` (the later of its
schedule's end and its file being rendered). The fixed poller starts each run at a random
phase of its 5 s period, as a real one would. Target: median ≤ 1.5 s, with at most
half the task-status GETs of the fixed 5 s poller.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from dataclasses import replace

from _util import Row, machine, median, pct, table

TARGET_MEDIAN_S = 1.5
FIXED_PERIOD_S = 5.0
KEY = "bench-detection-key"
MODEL = "seedance-2.0-text-to-video"


def scaled_schedule(speed: float):
    from lib.worker import Schedule

    s = Schedule()
    return replace(s, floor=s.floor / speed, ceiling=s.ceiling / speed, default_estimate=s.default_estimate / speed)


def fixed_schedule(period: float):
    from lib.worker import Schedule

    class Fixed(Schedule):
        def delay(self, elapsed, estimated_time, progress=0):
            return period

        def first_poll_at(self, run):
            # A real fixed poller's phase against the provider's clock is arbitrary. Without
            # this, every 720p run (10 s of work per output second) would finish exactly on
            # a 5 s tick and the baseline would look better than it is.
            phase = int(hashlib.sha256(run.id.encode()).hexdigest()[:8], 16) / 16**8
            return (run.submitted_at or run.created_at) + period * (phase or 1.0)

    return Fixed()


def requests(n: int, seed: int) -> list:
    from lib.schema import GenerationRequest

    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            GenerationRequest(
                model=MODEL,
                prompt=f"Bench run {i}: a paper boat drifts down a rainy street, slow tracking shot",
                duration=rng.randint(4, 15),
                quality=rng.choice(["480p", "720p"]),
                aspect_ratio="16:9",
                generate_audio=rng.random() < 0.5,
            )
        )
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--speed", type=float, default=12.0)
    p.add_argument("--interval", type=float, default=1.5, help="real seconds between submissions")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="15 runs at speed 20")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.speed, args.interval = 15, 20.0, 0.8

    from lib.client import EvolinkClient, key_fingerprint
    from lib.simulator import serve_in_thread
    from lib.status import RunStatus
    from lib.store import Store
    from lib.worker import DEFAULT_MAX_RPS, IDLE_WAIT, Worker

    speed = args.speed
    fp = key_fingerprint(KEY)
    # The loop's idle tick is a time constant like the schedule's floor: compress it too,
    # or a 1 s real tick would stand for `speed` provider seconds. The simulator serves
    # the videos from 127.0.0.1, which downloads may only reach when allowed.
    common = {"max_rps": DEFAULT_MAX_RPS * speed, "idle_wait": IDLE_WAIT / speed, "allowed_hosts": ["127.0.0.1"]}
    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        sim = serve_in_thread(port=0, speed=speed, balance=1e9, render_workers=2, data_dir=f"{tmp}/sim")
        stores = {"adaptive": Store(f"{tmp}/adaptive"), "fixed 5 s": Store(f"{tmp}/fixed")}
        workers = {
            "adaptive": Worker(stores["adaptive"], schedule=scaled_schedule(speed), **common),
            "fixed 5 s": Worker(stores["fixed 5 s"], schedule=fixed_schedule(FIXED_PERIOD_S / speed), **common),
        }
        ws = {name: s.create_workspace("bench") for name, s in stores.items()}
        for w in workers.values():
            w.register_key(KEY, sim.base_url)
            w.start()
        client = EvolinkClient(KEY, base_url=sim.base_url)
        task_of: dict[str, dict[str, str]] = {name: {} for name in stores}
        reqs = requests(args.runs, args.seed)
        print(f"Submitting {len(reqs)} runs to the simulator at speed {speed:g} ...", flush=True)
        started = time.monotonic()
        try:
            for i, req in enumerate(reqs):
                task = client.create(req)
                now = time.time()
                for name, s in stores.items():
                    run = s.create_run(ws[name].id, req, 0.0, True, fp, now=now)
                    s.claim_submit(run.id, now=now)
                    s.mark_submitted(run.id, task, now=now)
                    task_of[name][run.id] = task.id
                time.sleep(max(0.0, started + (i + 1) * args.interval - time.monotonic()))
            for name, w in workers.items():
                if not w.wait_idle(timeout=120):
                    print(f"warning: {name} worker not idle after 120 s", flush=True)
        finally:
            client.close()
            for w in workers.values():
                w.close()
        wall = time.monotonic() - started
        engine = sim.app.engine
        results = {}
        for name, s in stores.items():
            lat, lag, arch, polls = [], [], [], []
            for run in s.list_runs(ws[name].id, limit=None):
                if run.status is not RunStatus.ARCHIVED:
                    print(f"warning: {name} run {run.id} ended {run.status}: {run.error_message}")
                    continue
                done = engine.tasks[run.task_id].completed_at()
                lag.append(max(0.0, run.completed_at - done))
                arch.append(run.archived_at - run.completed_at)
                lat.append(lag[-1] * speed + arch[-1])
                polls.append(run.poll_count)
            results[name] = {
                "lat": lat,
                "lag": lag,
                "arch": arch,
                "polls": sum(polls),
                "worker_polls": workers[name].stats().get("polls", 0),
                "n": len(lat),
            }
        gets = sim.app.state.stats["GET /v1/tasks/{task_id}"]
        sim.stop()

    a, f = results["adaptive"], results["fixed 5 s"]
    rows = []
    for name, r in results.items():
        ok = None
        if name == "adaptive":
            ok = median(r["lat"]) <= TARGET_MEDIAN_S
        rows += [
            Row(
                "detection",
                f"{name}: latency median (provider s)",
                f"{median(r['lat']):.2f} s",
                f"≤ {TARGET_MEDIAN_S:g} s" if ok is not None else "",
                ok,
            ),
            Row(
                "detection",
                f"{name}: latency p90 / max (provider s)",
                f"{pct(r['lat'], 90):.2f} / {max(r['lat']):.2f} s",
            ),
            Row("detection", f"{name}: poll lag median (provider s)", f"{median(r['lag']) * speed:.2f} s"),
            Row("detection", f"{name}: download+verify median (real s)", f"{median(r['arch']):.3f} s"),
            Row(
                "detection",
                f"{name}: real-time latency median (real s)",
                f"{median([lg + ar for lg, ar in zip(r['lag'], r['arch'], strict=False)]):.3f} s",
            ),
            Row("detection", f"{name}: task-status GETs", f"{r['worker_polls']} for {r['n']} runs"),
        ]
    ratio = a["worker_polls"] / f["worker_polls"] if f["worker_polls"] else float("nan")
    rows.append(Row("detection", "GETs adaptive / fixed 5 s", f"{ratio:.2f}", "≤ 0.50", ratio <= 0.5))
    rows.append(Row("detection", "simulator GETs seen (both pollers)", str(gets)))
    rows.append(Row("detection", "setup", f"{args.runs} runs, speed {speed:g}, {wall:.0f} s wall"))
    print(table(rows, f"Detection latency ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
