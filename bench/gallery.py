"""Benchmark: the live gallery in Chromium — 200 cards on arrival, and what 30 open galleries cost the server.

    .venv/bin/python bench/gallery.py [--runs 200] [--visits 3] [--sessions 30] [--inflight 20] [--seconds 60] [--quick]

1. **Navigation → all cards.** Seeds a workspace with ``--runs`` archived runs straight
   into the store (one real 4 s 480p MP4 from the simulator's renderer, copied under a
   random token per run with its poster and contact sheet), serves it with
   ``streamlit run server.py`` and opens ``/gallery?ws=...`` in headless Chromium
   (``/usr/bin/chromium``, the e2e suite's flags), each visit in a new browser context
   (cold cache): the time from ``page.goto`` until every card (``[data-run-id]``, each
   with its ``video[poster]``) is in the page. Target ≤ 2 s.
2. **Server CPU with open galleries.** The app in live mode against a simulator in this
   process (real provider time, so the ``--inflight`` runs of 10 s at 720p stay in
   flight, their progress rising, for the whole window); ``--sessions`` Chromium contexts
   keep the workspace's gallery open. Over ``--seconds`` s, the app process's CPU time
   (user + system, from /proc) as a share of one core. Target ≤ 10 %. The worker polls
   the provider and pushes each change to every open page; no page reruns on a timer.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import struct
import tempfile
import time
from pathlib import Path

from _util import Row, cpu_seconds, machine, median, rss_mb, table

TARGET_LOAD_S = 2.0
TARGET_CPU = 0.10  # of one core
CARDS = "[data-run-id]"
BENCH_KEY = "bench-gallery-key"
PROMPT = (
    "Run {i}: a paper boat drifts down a rainy street at dusk, slow tracking shot, "
    "reflections of neon signs, shallow depth of field"
)


def seed_archived(data_dir: Path, n: int) -> str:
    """A workspace with ``n`` archived runs whose video and stills exist under data_dir/media; returns its id."""
    from lib import posters
    from lib.schema import GenerationRequest, Task
    from lib.simulator.render import RenderJob, render
    from lib.store import Store

    media = data_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    src = data_dir / "source.mp4"
    render(
        RenderJob(
            path=str(src),
            width=864,
            height=496,
            duration=4,
            audio=True,
            prompt="bench source clip",
            model="seedance-2.0-fast-text-to-video",
            quality="480p",
            aspect_ratio="16:9",
        )
    )
    clip = src.read_bytes()
    posters.make(src, data_dir, "source")
    db = Store(data_dir)
    ws = db.create_workspace("Gallery bench")
    now = time.time() - n
    for i in range(n):
        token = secrets.token_urlsafe(24)
        pad = secrets.token_bytes(16)  # each copy differs, so no cache folds them into one
        (media / f"{token}.mp4").write_bytes(clip + struct.pack(">I", 8 + len(pad)) + b"free" + pad)
        shutil.copyfile(posters.poster_path(data_dir, "source"), posters.poster_path(data_dir, token))
        shutil.copyfile(posters.sheet_path(data_dir, "source"), posters.sheet_path(data_dir, token))
        req = GenerationRequest(
            model="seedance-2.0-fast-text-to-video",
            duration=4,
            quality="480p",
            aspect_ratio="16:9",
            prompt=PROMPT.format(i=i),
        )
        run = db.create_run(ws.id, req, 30.0, True, "k_bench", now=now + i)
        db.claim_submit(run.id, now=now + i)
        task = Task(
            id=f"task-unified-{int(now)}-b{i:07d}", status="completed", progress=100, results=["http://x/v.mp4"]
        )
        db.mark_submitted(run.id, task, now=now + i)
        db.mark_archived(run.id, token, len(clip) + 24, 4.0, 864, 496, now=now + i)
    return ws.id


def visit(browser, url: str, n: int, timeout_s: float = 180) -> tuple[float, float, float]:
    """A new context's visit: seconds from ``page.goto`` until the app's first script run ended,
    until the first card, and until ``n`` cards, each with its poster video, are in the page."""
    from tests.support.browser import IDLE

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(timeout_s * 1000)
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(CARDS, state="attached")
        first = time.perf_counter() - started
        page.wait_for_function(
            "(n) => document.querySelectorAll('[data-run-id] video[poster]').length >= n", arg=n, polling=50
        )
        every = time.perf_counter() - started
        page.wait_for_selector(IDLE)
        return first, every, time.perf_counter() - started
    finally:
        ctx.close()


def start_inflight(data_dir: Path, ws: str, base_url: str, n: int) -> None:
    """``n`` runs of 10 s at 720p sent to the provider now and saved as in flight."""
    from lib import pricing
    from lib.client import EvolinkClient
    from lib.schema import GenerationRequest
    from lib.store import Store

    db = Store(data_dir)
    with EvolinkClient(BENCH_KEY, base_url) as client:
        for i in range(n):
            req = GenerationRequest(
                model="seedance-2.0-fast-text-to-video",
                duration=10,
                quality="720p",
                prompt=PROMPT.format(i=f"live {i}"),
            )
            run = db.create_run(ws, req, pricing.estimate(req).credits, True, client.fingerprint)
            db.claim_submit(run.id)
            db.mark_submitted(run.id, client.create(req))


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--visits", type=int, default=3, help="gallery visits, each in a new browser context")
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--inflight", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--quick", action="store_true", help="2 visits, 10 sessions, 20 s")
    args = p.parse_args(argv)
    if args.quick:
        args.visits, args.sessions, args.seconds = 2, 10, 20

    from playwright.sync_api import sync_playwright

    from lib.simulator import serve_in_thread
    from lib.store import Store
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, IDLE
    from tests.support.server import AppProcess

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # 1. navigation → all cards
            data = Path(tmp) / "archived"
            print(f"Seeding {args.runs} archived runs ...", flush=True)
            ws = seed_archived(data, args.runs)
            server = AppProcess(data).start()
            try:
                url = f"{server.url}/gallery?ws={ws}"
                visits = [visit(browser, url, args.runs) for _ in range(args.visits)]
            finally:
                server.stop()
            loads = [every for _, every, _ in visits]
            first, later = loads[0], median(loads[1:]) if len(loads) > 1 else loads[0]
            rows += [
                Row("gallery", f"{args.runs} archived runs: navigation → all cards, first visit", f"{first:.2f} s",
                    f"≤ {TARGET_LOAD_S:g} s", first <= TARGET_LOAD_S),
                Row("gallery", f"… later visits (median of {len(loads) - 1})", f"{later:.2f} s",
                    f"≤ {TARGET_LOAD_S:g} s", later <= TARGET_LOAD_S),
                Row("gallery", "… first card on the page (median of all visits)",
                    f"{median([f for f, _, _ in visits]):.2f} s"),
                Row("gallery", "… page idle, script run ended (median of all visits)",
                    f"{median([i for _, _, i in visits]):.2f} s"),
            ]  # fmt: skip

            # 2. server CPU with open galleries and runs in flight
            sim = serve_in_thread(port=0, speed=0.8)  # 10 s at 720p: about 125 s of real provider time
            data = Path(tmp) / "live"
            server = AppProcess(data, env={"EVOLINK_API_KEY": BENCH_KEY, "EVOLINK_BASE_URL": sim.base_url}).start()
            contexts = []
            try:
                ws = Store(data).create_workspace("Gallery CPU bench").id
                url = f"{server.url}/gallery?ws={ws}"
                print(f"Opening {args.sessions} galleries ...", flush=True)
                for _ in range(args.sessions):
                    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = ctx.new_page()
                    page.set_default_timeout(180_000)
                    page.goto(url)
                    page.wait_for_selector(IDLE)
                    page.wait_for_selector(".st-key-gallery_cards", state="attached")
                    contexts.append((ctx, page))
                time.sleep(5)  # let the pages settle
                idle_start, t0 = cpu_seconds(server.proc.pid), time.monotonic()
                time.sleep(10)
                idle = (cpu_seconds(server.proc.pid) - idle_start) / (time.monotonic() - t0)
                print(f"Sending {args.inflight} runs; measuring {args.seconds:g} s ...", flush=True)
                cpu0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
                start_inflight(data, ws, sim.base_url, args.inflight)
                time.sleep(max(0.0, args.seconds - (time.monotonic() - t0)))
                busy = (cpu_seconds(server.proc.pid) - cpu0) / (time.monotonic() - t0)
                runs = Store(data).list_runs(ws)
                for _, page in contexts:  # every open gallery shows them, without a reload
                    page.wait_for_function(
                        "(n) => document.querySelectorAll('[data-run-id]').length >= n", arg=args.inflight
                    )
                moving = sum(1 for r in runs if not r.finished)
                progress = statistics.mean(r.progress for r in runs)
                rss = rss_mb(server.proc.pid)
            finally:
                for ctx, _ in contexts:
                    ctx.close()
                server.stop()
                sim.stop()
            rows += [
                Row("gallery", f"{args.sessions} open galleries, nothing changing: app CPU", f"{idle:.1%} of a core"),
                Row("gallery", f"{args.sessions} open galleries, {args.inflight} runs in flight, {args.seconds:g} s",
                    f"{busy:.1%} of a core", f"≤ {TARGET_CPU:.0%}", busy <= TARGET_CPU),
                Row("gallery", "… runs still in flight at the end, their mean progress",
                    f"{moving} of {len(runs)}, {progress:.0f} %"),
                Row("gallery", "… app memory (RSS) at the end", f"{rss:.0f} MB"),
            ]  # fmt: skip
        finally:
            browser.close()
    print(table(rows, f"Gallery ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
