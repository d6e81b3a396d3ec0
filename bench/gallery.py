"""Benchmark: a 200-run gallery in Chromium — time to all cards, and server memory per open session.

    .venv/bin/python bench/gallery.py [--runs 200] [--sessions 5] [--quick] [--no-bytes]

Seeds a workspace with 200 archived runs straight into the store (one real 4 s 480p
MP4 from the simulator's renderer, copied under 200 random tokens, each copy made
unique by a trailing MP4 ``free`` box so no cache can fold them into one), then serves
it with ``streamlit run server.py`` (demo mode) and opens ``/gallery?ws=...`` in
headless Chromium (``/usr/bin/chromium``, the e2e suite's flags):

* time from ``page.goto`` until all 200 cards (``[class*='st-key-run-']``) are in the
  page — target ≤ 2 s (first, cold session; then the median of the others);
* the server's RSS (``VmRSS`` from /proc) before any session, with 1 session open,
  then with ``--sessions`` open: growth per additional session — target ≤ 50 MB.

Then the same for ``bench/_bytes_gallery.py``: the same cards, but every video passed
to ``st.video`` as bytes — the way the app deliberately does not do it. Streamlit's
media store is shared and de-duplicated by content, so with every session looking at
the same 200 files the bytes variant pays once (the first session's growth, about the
size of all the videos) and again on every rerun (200 files read and hashed).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _util import ROOT, Row, machine, median, rss_mb, table

TARGET_LOAD_S = 2.0
TARGET_MB = 50.0
CARDS = "[class*='st-key-run-']"


def seed(data_dir: Path, n: int) -> str:
    """A workspace with ``n`` archived runs whose files exist under data_dir/media; returns its id."""
    from lib import archive
    from lib.schema import GenerationRequest, Task
    from lib.simulator.render import RenderJob, render
    from lib.store import Store

    data_dir.mkdir(parents=True, exist_ok=True)
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
    media = archive.media_dir(data_dir)
    media.mkdir(parents=True, exist_ok=True)
    db = Store(data_dir)
    ws = db.create_workspace("Gallery bench")
    now = time.time() - n
    for i in range(n):
        token = secrets.token_urlsafe(24)
        pad = secrets.token_bytes(16)
        (media / f"{token}.mp4").write_bytes(clip + struct.pack(">I", 8 + len(pad)) + b"free" + pad)
        req = GenerationRequest(
            model="seedance-2.0-fast-text-to-video",
            duration=4,
            quality="480p",
            aspect_ratio="16:9",
            prompt=f"Run {i}: a paper boat drifts down a rainy street at dusk, slow tracking shot, "
            "reflections of neon signs, shallow depth of field",
        )
        run = db.create_run(ws.id, req, 30.0, True, "k_bench", now=now + i)
        db.claim_submit(run.id, now=now + i)
        task = Task(
            id=f"task-unified-{int(now)}-b{i:07d}",
            status="completed",
            progress=100,
            results=[f"http://127.0.0.1:1/files/{token}.mp4"],
        )
        db.mark_submitted(run.id, task, now=now + i)
        db.mark_archived(run.id, token, len(clip) + 24, 4.0, 864, 496, now=now + i)
    return ws.id


class Server:
    """``streamlit run <script>`` on a free port with a data dir (server.py: like the e2e AppProcess)."""

    def __init__(self, script: str, data_dir: Path, env: dict | None = None):
        from tests.support.server import free_port

        self.script, self.data_dir, self.port = script, data_dir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env or {}

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVOLINK_")}
        env.update(STUDIO_DATA_DIR=str(self.data_dir), PYTHONUNBUFFERED="1", **self.env)
        self.log = open(self.data_dir / f"{Path(self.script).stem}-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                self.script,
                "--server.port",
                str(self.port),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.script} did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


from components.gallery import PAGE as GALLERY_PAGE  # noqa: E402 - what the gallery shows on arrival


def open_session(browser, url: str, n: int, timeout_s: float = 120, page_through: int = 0):
    """A new browser context on ``url``; returns (context, seconds until ``n`` cards were in the page,
    seconds until the first card, seconds until ``page_through`` cards after pressing "Show more")."""
    from tests.support.browser import IDLE, rerun

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})  # a new visitor: cold cache
    page = ctx.new_page()
    page.set_default_timeout(timeout_s * 1000)
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(CARDS, state="attached")
    first = time.perf_counter() - started
    page.wait_for_function(f'document.querySelectorAll("{CARDS}").length >= {n}', polling=50)
    took = time.perf_counter() - started
    page.wait_for_selector(IDLE)
    everything = None
    if page_through > n:
        while page.locator(f"{CARDS}").count() < page_through:
            rerun(page, lambda: page.click(".st-key-gallery_more button"))
        everything = time.perf_counter() - started
    return ctx, took, first, everything


def script_seconds(data_dir: Path, ws: str, runs: int = 3) -> float:
    """The Gallery page's own script run, server side (AppTest, warm; best of ``runs``)."""
    import logging

    from streamlit.testing.v1 import AppTest

    from components import run_card

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    os.environ["STUDIO_DATA_DIR"] = str(data_dir)
    # AppTest has no browser URL (st.context.url), which the card's absolute media URL needs.
    run_card.media_url = lambda token: f"http://127.0.0.1:8501/api/media/{token}"
    at = AppTest.from_file(str(ROOT / "pages" / "gallery.py"), default_timeout=120)
    at.query_params["ws"] = ws
    at.run()
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        best = min(best, time.perf_counter() - started)
    assert not at.exception, at.exception
    return best


def settle(pid: int, seconds: float = 3.0) -> float:
    time.sleep(seconds)
    return rss_mb(pid)


def measure(browser, server: Server, path: str, n: int, sessions: int) -> dict:
    url = f"{server.url}{path}"
    rss0 = settle(server.proc.pid, 2)
    contexts, loads, firsts = [], [], []
    shown = min(n, GALLERY_PAGE) if path.startswith("/gallery") else n
    ctx, took, first, everything = open_session(browser, url, shown, page_through=n)
    contexts.append(ctx)
    loads.append(took)
    firsts.append(first)
    rss1 = settle(server.proc.pid)
    for _ in range(sessions - 1):
        ctx, took, first, _ = open_session(browser, url, shown)
        contexts.append(ctx)
        loads.append(took)
        firsts.append(first)
    rssn = settle(server.proc.pid)
    for ctx in contexts:
        ctx.close()
    return {
        "rss0": rss0,
        "rss1": rss1,
        "rssn": rssn,
        "loads": loads,
        "firsts": firsts,
        "shown": shown,
        "everything": everything,
        "per_session": (rssn - rss1) / max(1, sessions - 1),
    }


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--sessions", type=int, default=5)
    p.add_argument("--no-bytes", action="store_true", help="skip the st.video(bytes) comparison")
    p.add_argument("--quick", action="store_true", help="3 sessions")
    args = p.parse_args(argv)
    if args.quick:
        args.sessions = 3

    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as tmp:
        data = Path(tmp) / "data"
        print(f"Seeding {args.runs} archived runs ...", flush=True)
        ws = seed(data, args.runs)
        video_mb = sum(f.stat().st_size for f in (data / "media").glob("*.mp4")) / 2**20
        script_s = script_seconds(data, ws)
        variants = [("URL (/api/media)", "server.py", f"/gallery?ws={ws}")]
        if not args.no_bytes:
            variants.append(("bytes (st.video)", "bench/_bytes_gallery.py", "/"))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name, script, path in variants:
                    print(f"Measuring {name}: {script} ...", flush=True)
                    server = Server(script, data, env={"BENCH_WS": ws}).start()
                    try:
                        results[name] = measure(browser, server, path, args.runs, args.sessions)
                    finally:
                        server.stop()
            finally:
                browser.close()

    rows = []
    for name, r in results.items():
        real = name.startswith("URL")
        first, rest = r["loads"][0], r["loads"][1:]
        later = median(rest) if rest else first
        cards = f"{r['shown']} of {args.runs} cards (first page)" if r["shown"] < args.runs else f"{args.runs} cards"
        rows += [
            Row(
                "gallery",
                f"{name}: {cards}, first session",
                f"{first:.2f} s",
                f"≤ {TARGET_LOAD_S:g} s" if real else "",
                first <= TARGET_LOAD_S if real else None,
            ),
            Row(
                "gallery",
                f"{name}: {cards}, later sessions (median)",
                f"{later:.2f} s",
                f"≤ {TARGET_LOAD_S:g} s" if real else "",
                later <= TARGET_LOAD_S if real else None,
            ),
            Row("gallery", f"{name}: first card appeared (first session)", f"{r['firsts'][0]:.2f} s"),
            *(
                [Row("gallery", f'{name}: all {args.runs} cards, paging with "Show more"', f"{r['everything']:.2f} s")]
                if r["everything"] is not None
                else []
            ),
            Row(
                "gallery",
                f"{name}: server RSS idle → 1 → {args.sessions} sessions",
                f"{r['rss0']:.0f} → {r['rss1']:.0f} → {r['rssn']:.0f} MB",
            ),
            Row("gallery", f"{name}: RSS growth, first session", f"{r['rss1'] - r['rss0']:.0f} MB"),
            Row(
                "gallery",
                f"{name}: RSS growth per additional session",
                f"{r['per_session']:.1f} MB",
                f"≤ {TARGET_MB:g} MB" if real else "",
                r["per_session"] <= TARGET_MB if real else None,
            ),
        ]
    rows.append(
        Row(
            "gallery",
            f"server-side script run, first page of a {args.runs}-run gallery (AppTest, warm)",
            f"{script_s:.2f} s",
        )
    )
    rows.append(Row("gallery", "video bytes on the page", f"{video_mb:.1f} MB ({args.runs} files)"))
    print(table(rows, f"Gallery ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
