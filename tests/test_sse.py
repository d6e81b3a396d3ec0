"""The event stream of run notices: its wire format, heartbeats, the card read once per notice, and cleanup.

The stream is driven on an event loop of its own; the last test serves it with uvicorn
on a real socket and hangs up, as a browser tab that closes would.
"""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from lib import events, sse
from tests.support.server import free_port
from tests.support.waiting import wait_until

WS = "ws_stream1"


def run(coro):
    """``asyncio.run`` on a thread of its own: the test process may already have a loop running."""
    out: list = []
    errors: list = []

    def target():
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    return out[0]


@pytest.fixture
def bus(monkeypatch):
    fresh = events.Bus()
    monkeypatch.setattr(events, "BUS", fresh)
    return fresh


def _data(chunk: bytes) -> dict:
    assert chunk.endswith(b"\n\n"), chunk  # a blank line ends an event
    lines = chunk.decode().splitlines()
    assert lines[0] == "event: run" and lines[1].startswith("data: ") and lines[2:] == [""], chunk
    return json.loads(lines[1].removeprefix("data: "))


def test_stream_starts_with_retry_advice_then_sends_each_notice_with_its_card(bus):
    reads: list[str] = []

    def read(run_id):
        reads.append(run_id)
        return {"id": run_id, "prompt": "<b>kept as text</b>"}

    async def scenario():
        cards = sse.Cards(read)
        stream = sse.stream(WS, cards, heartbeat=30, retry_ms=1500)
        first = await anext(stream)
        assert bus.subscribers(WS) == 1
        events.publish(WS, "run_a1", "created")
        events.publish("ws_other", "run_zz", "created")  # another workspace: not on this stream
        events.publish(WS, "run_a1", "finished")
        got = [await anext(stream), await anext(stream)]
        await stream.aclose()
        return first, got

    first, got = run(scenario())
    assert first == b"retry: 1500\n\n: connected\n\n"
    created, finished = (_data(c) for c in got)
    assert (created["run"], created["kind"]) == ("run_a1", "created")
    assert (finished["run"], finished["kind"]) == ("run_a1", "finished")
    assert finished["seq"] > created["seq"]
    assert created["card"] == {"id": "run_a1", "prompt": "<b>kept as text</b>"}
    assert reads == ["run_a1", "run_a1"]  # one read per notice
    assert bus.subscribers() == 0  # closed with the stream


def test_an_idle_stream_sends_only_heartbeats(bus):
    async def scenario():
        stream = sse.stream(WS, None, heartbeat=0.05)
        await anext(stream)
        beats = [await anext(stream) for _ in range(3)]
        await stream.aclose()
        return beats

    assert run(scenario()) == [b": heartbeat\n\n"] * 3


def test_one_read_per_notice_however_many_streams_send_it(bus):
    reads: list[str] = []
    cards = sse.Cards(lambda run_id: reads.append(run_id) or {"id": run_id})

    async def scenario():
        streams = [sse.stream(WS, cards, heartbeat=30) for _ in range(5)]
        for s in streams:
            await anext(s)
        events.publish(WS, "run_b2", "updated")
        got = [_data(await anext(s)) for s in streams]
        for s in streams:
            await s.aclose()
        return got

    got = run(scenario())
    assert [g["card"] for g in got] == [{"id": "run_b2"}] * 5
    assert reads == ["run_b2"]


def test_resync_has_no_card_and_a_failed_read_leaves_the_card_out(bus):
    def read(run_id):
        raise RuntimeError("database is locked")

    async def scenario():
        stream = sse.stream(WS, sse.Cards(read), heartbeat=30)
        await anext(stream)
        for _ in range(events.QUEUE_MAX + 1):  # more than the queue holds: it collapses to one resync
            events.publish(WS, "run_c3", "updated")
        resync = _data(await anext(stream))
        events.publish(WS, "run_c3", "finished")
        finished = _data(await anext(stream))
        await stream.aclose()
        return resync, finished

    resync, finished = run(scenario())
    assert resync["kind"] == "resync" and resync["run"] == "" and "card" not in resync
    assert finished["kind"] == "finished" and "card" not in finished  # the page reloads its list instead


def test_closing_ends_every_stream(bus):
    async def scenario():
        closing = asyncio.Event()
        streams = [sse.stream(WS, None, heartbeat=30, closing=closing) for _ in range(3)]
        for s in streams:
            await anext(s)
        pending = [asyncio.ensure_future(anext(s)) for s in streams]
        await asyncio.sleep(0)
        closing.set()
        results = await asyncio.gather(*pending, return_exceptions=True)
        return [type(r).__name__ for r in results]

    assert run(scenario()) == ["StopAsyncIteration"] * 3
    assert bus.subscribers() == 0


def test_too_many_streams_are_told_to_come_back_later(bus, monkeypatch):
    monkeypatch.setattr(events, "SUBSCRIBERS_MAX", 1)

    async def scenario():
        first = sse.stream(WS, None, heartbeat=30)
        await anext(first)
        second = sse.stream(WS, None, heartbeat=30)
        told = await anext(second)
        ended = await anext(second, None)
        await first.aclose()
        return told, ended

    told, ended = run(scenario())
    assert told == f"retry: {sse.BUSY_RETRY_MS}\n\n: busy\n\n".encode() and ended is None


# --- served: 404s and a client that hangs up ------------------------------------------------------


@pytest.fixture
def served(bus):
    """The endpoint on a real socket: workspace ``WS`` exists, nothing else does."""
    endpoint = sse.endpoint(lambda ws: ws == WS, lambda run_id: {"id": run_id}, heartbeat=30)
    app = Starlette(routes=[Route("/api/events/{workspace}", endpoint)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="uvicorn did not start")
    yield f"http://127.0.0.1:{port}/api/events/"
    server.should_exit = True
    thread.join(30)


@pytest.mark.parametrize("workspace", ["nosuchws1", "bad/id", "..", "x"])
def test_unknown_or_malformed_workspace_is_404(served, workspace):
    r = httpx.get(served + workspace, timeout=10)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/plain")


def test_a_client_that_hangs_up_leaves_no_subscription(served, bus):
    with httpx.Client(timeout=10) as client, client.stream("GET", served + WS) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        chunks = r.iter_raw()
        assert next(chunks).startswith(b"retry: ")
        assert bus.subscribers(WS) == 1
        events.publish(WS, "run_d4", "rated")
        assert _data(next(chunks)) == {"run": "run_d4", "kind": "rated", "seq": 1, "card": {"id": "run_d4"}}
    wait_until(lambda: bus.subscribers(WS) == 0, message="the stream's subscription outlived its client")
