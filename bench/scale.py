"""Benchmark: 50 concurrent Studio sessions on one server, then spread over two servers on one PostgreSQL.

    .venv/bin/python bench/scale.py [--sessions 50] [--edits 6] [--think 2.0] [--quick]

Starts a throwaway PostgreSQL (``tests/support/postgres.py``), a simulator in this
process (live mode: both servers talk to it as to the provider; its clock stands
still and every prompt carries a ``[fail:...]`` trigger, so it renders nothing and
this process's CPU goes to the sessions), and ``streamlit run server.py`` twice with
one ``DATABASE_URL`` and one data directory. Then, once against the first server
alone and once with the sessions split between both:

* each session connects, opens the Studio (``?ws=`` one shared workspace), edits
  its prompt ``--edits`` times (a rerun each, as a text area sends on blur) and
  clicks Submit once (a rerun that saves the run and sends its one POST), pausing
  ``--think`` seconds ± 50 % between actions, as a person does (both servers are
  warmed up by one session each first);
* p50/p95 of the rerun and of the submit: from sending the click to the server's
  "script finished" message.

Sessions are real Streamlit websocket sessions (``/_stcore/stream``, the browser's
own protobuf messages), not Chromium contexts: 50 browsers on a small machine would
time the browsers, not the servers; what is left out is the page's own drawing,
the same for one server or two. Both servers run on this machine, so two servers
share its cores: the figures show the cost of a second server and of the database
between them, not the gain of a second machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _util import Row, cpu_seconds, load, machine, median, pct, table

KEY = "sk-bench-scale-key"
STREAM = "/_stcore/stream"
FAIL = "[fail:content_policy_violation]"  # the simulator renders nothing for it


@dataclass
class Timings:
    rerun_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Session:
    """One browser tab's conversation with a Streamlit server, over its websocket."""

    def __init__(self, base_url: str, query: str) -> None:
        self.url = base_url.replace("http://", "ws://") + STREAM
        self.query = query
        self.widgets: dict[str, str] = {}  # user key -> widget id, learned from the page's elements
        self.ws = None

    async def __aenter__(self) -> Session:
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=2**26, open_timeout=60)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, states: list | None = None, timeout: float = 120.0) -> float:
        """Send one rerun with ``states``; milliseconds until the script run it started has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        for state in states or []:
            msg.rerun_script.widget_states.widgets.append(state)
        started = time.perf_counter()
        assert self.ws is not None
        await self.ws.send(msg.SerializeToString())
        deadline = started + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(deadline - time.perf_counter(), 0.01))
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                self._learn(fwd)
            elif kind == "script_finished" and fwd.script_finished in (
                ForwardMsg.FINISHED_SUCCESSFULLY,
                ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
            ):
                return (time.perf_counter() - started) * 1000

    def _learn(self, fwd) -> None:
        if fwd.delta.WhichOneof("type") != "new_element":
            return
        element = fwd.delta.new_element
        kind = element.WhichOneof("type")
        widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
        if isinstance(widget_id, str) and widget_id.startswith("$$ID"):
            self.widgets[widget_id.rsplit("-", 1)[-1]] = widget_id

    def text(self, key: str, value: str):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        return WidgetState(id=self.widgets[key], string_value=value)

    def click(self, key: str):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        return WidgetState(id=self.widgets[key], trigger_value=True)


async def one_user(n: int, url: str, ws_id: str, edits: int, think: float, out: Timings) -> None:
    rng = random.Random(n)
    prompt = f"Session {n}: a lighthouse keeper climbs the stairs at dusk, slow dolly in, warm lamp light {FAIL}"
    try:
        async with Session(url, f"ws={ws_id}") as s:
            await s.rerun()  # the page opens
            if "prompt" not in s.widgets or "submit" not in s.widgets:
                raise RuntimeError(f"the Studio showed no prompt/submit widgets ({sorted(s.widgets)[:8]})")
            for i in range(edits):
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
                prompt = prompt.replace(FAIL, f"take {i} {FAIL}")
                out.rerun_ms.append(await s.rerun([s.text("prompt", prompt)]))
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            out.submit_ms.append(await s.rerun([s.text("prompt", prompt), s.click("submit")]))
    except Exception as exc:
        out.errors.append(f"session {n}: {type(exc).__name__}: {exc}")


async def crowd(urls: list[str], ws_id: str, sessions: int, edits: int, think: float) -> Timings:
    out = Timings()
    await asyncio.gather(*(one_user(n, urls[n % len(urls)], ws_id, edits, think, out) for n in range(sessions)))
    return out


def relay_latency(url: str, data_dir: Path, n: int = 200) -> list[float]:
    """Milliseconds from a run change committed by one server's store to the notice on another server's bus."""
    from lib import events, events_pg
    from lib.schema import GenerationRequest
    from lib.store import Store

    store = Store(url, data_dir=data_dir)
    ws = store.create_workspace("Relay bench")
    run = store.create_run(ws.id, GenerationRequest(model="seedance-2.0-text-to-video", prompt="A heron"), 1, True, "k")
    elsewhere = events.Bus()
    here = events_pg.Relay(url, "bench-here").start()
    there = events_pg.Relay(url, "bench-there", bus=elsewhere).start()
    out: list[float] = []
    try:
        for relay in (here, there):
            relay.listening.wait(30)
        with elsewhere.subscribe(ws.id) as sub:
            for i in range(n):
                started = time.perf_counter()
                store.set_rating(run.id, 1 + i % 5)  # commits, then publishes
                while not sub.wait(10):
                    pass
                out.append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)
    finally:
        here.stop()
        there.stop()
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--edits", type=int, default=6, help="prompt edits (reruns) per session before its submit")
    p.add_argument("--think", type=float, default=2.0, help="seconds between a person's actions (± 50 %%)")
    p.add_argument("--quick", action="store_true", help="10 sessions, 3 edits")
    args = p.parse_args(argv)
    if args.quick:
        args.sessions, args.edits = 10, 3

    from lib.simulator import serve_in_thread
    from lib.store import Store
    from tests.support import postgres
    from tests.support.server import AppProcess, free_port
    from tests.support.waiting import Clock

    bin_dir = postgres.find_bin_dir()
    if bin_dir is None:
        sys.exit(postgres.MISSING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    cluster = postgres.Cluster(bin_dir, free_port()).start()
    sim = serve_in_thread(port=0, speed=40, data_dir=tmp / "sim", balance=1e12, clock=Clock(time.time()))
    servers: list[AppProcess] = []
    rows: list[Row] = []
    try:
        url = cluster.new_database()
        env = {"EVOLINK_API_KEY": KEY, "EVOLINK_BASE_URL": sim.base_url, "DATABASE_URL": url}
        data = tmp / "shared-data"
        servers = [AppProcess(data, env=env).start(), AppProcess(data, env=env).start()]
        store = Store(url, data_dir=data)
        # Warm both up (imports, first page run, caches) so neither phase pays for a cold start.
        warm = store.create_workspace("Scale bench, warm-up")
        asyncio.run(crowd([s.url for s in servers], warm.id, len(servers), 1, 0.0))
        posts_before = sim.app.state.stats["POST /v1/videos/generations"]  # the warm-up's own submits
        results: dict[str, Timings] = {}
        for label, urls in (("1 server", [servers[0].url]), ("2 servers", [s.url for s in servers])):
            ws = store.create_workspace(f"Scale bench, {label}")
            started, cpu_before = time.perf_counter(), [cpu_seconds(s.proc.pid) for s in servers]
            results[label] = asyncio.run(crowd(urls, ws.id, args.sessions, args.edits, args.think))
            took = time.perf_counter() - started
            cpu = [cpu_seconds(s.proc.pid) - before for s, before in zip(servers, cpu_before, strict=True)]
            t = results[label]
            script_runs = args.sessions + len(t.rerun_ms) + len(t.submit_ms)  # page opens, edits, submits
            print(
                f"{label}: {args.sessions} sessions in {took:.0f} s, {len(t.rerun_ms)} reruns, "
                f"{len(t.submit_ms)} submits, {len(t.errors)} errors ({load()}); server CPU "
                + " + ".join(f"{c:.0f} s" for c in cpu)
                + f" = {sum(cpu) / took:.0%} of one core"
            )
            for e in t.errors[:5]:
                print("  ", e)
            saved = len(store.list_runs(ws.id, limit=None))
            rows += [
                Row(
                    "scale",
                    f"{label}: Studio rerun p50 / p95",
                    f"{median(t.rerun_ms):.0f} / {pct(t.rerun_ms, 95):.0f} ms",
                ),
                Row(
                    "scale", f"{label}: submit p50 / p95", f"{median(t.submit_ms):.0f} / {pct(t.submit_ms, 95):.0f} ms"
                ),
                Row("scale", f"{label}: server CPU per script run", f"{1000 * sum(cpu) / script_runs:.0f} ms"),
                Row(
                    "scale",
                    f"{label}: runs saved / submits",
                    f"{saved} / {len(t.submit_ms)}",
                    "equal",
                    saved == len(t.submit_ms) and not t.errors,
                ),
            ]
        posts = sim.app.state.stats["POST /v1/videos/generations"] - posts_before
        relay = relay_latency(url, tmp / "relay")
        rows.append(
            Row(
                "scale",
                "rating saved on one server → notice on the other (write included), p50 / p95",
                f"{median(relay):.1f} / {pct(relay, 95):.1f} ms",
            )
        )
        submits = sum(len(t.submit_ms) for t in results.values())
        rows.append(Row("scale", "paid POSTs / submits", f"{posts} / {submits}", "equal", posts == submits))
    finally:
        for server in servers:
            server.stop()
        sim.stop()
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    title = (
        f"{args.sessions} concurrent Studio sessions (websocket), {args.edits} edits + 1 submit each, "
        f"think {args.think:g} s — {machine()}, {load()}; both servers on this machine"
    )
    print(table(rows, title))
    return rows


if __name__ == "__main__":
    main()
