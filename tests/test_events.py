"""Run-change notices: who hears what, bounded queues, and the store publishing after each committed change."""

from __future__ import annotations

import asyncio
import threading

import pytest

from lib import events
from lib.schema import GenerationRequest, Task
from lib.store import Store

REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A paper boat", duration=4)


def run(coro):
    """``asyncio.run`` on a thread of its own: the test process may already have a loop running."""
    out = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join(30)
    return out[0]


@pytest.fixture
def bus(monkeypatch):
    fresh = events.Bus()
    monkeypatch.setattr(events, "BUS", fresh)
    return fresh


def test_a_subscriber_hears_only_its_workspace_in_order(bus):
    async def scenario():
        with events.subscribe("ws_a") as sub:
            events.publish("ws_a", "r1", "created")
            events.publish("ws_b", "r9", "created")
            events.publish("ws_a", "r1", "finished")
            return await sub.next(timeout=1)

    got = run(scenario())
    assert [(e.run_id, e.kind) for e in got] == [("r1", "created"), ("r1", "finished")]
    assert got[0].seq < got[1].seq


def test_next_times_out_empty_when_nothing_happens(bus):
    async def scenario():
        with events.subscribe("ws_a") as sub:
            return await sub.next(timeout=0.01)

    assert run(scenario()) == []


def test_a_notice_published_from_another_thread_wakes_the_event_loop(bus):
    async def scenario():
        with events.subscribe("ws_a") as sub:
            threading.Thread(target=events.publish, args=("ws_a", "r1", "updated")).start()
            return await sub.next(timeout=10)

    assert [e.kind for e in run(scenario())] == ["updated"]


def test_a_subscriber_that_falls_behind_is_told_to_resync_instead_of_buffering(bus):
    sub = events.subscribe("ws_a")
    for n in range(events.QUEUE_MAX + 5):
        events.publish("ws_a", f"r{n}", "updated")
    got = sub.wait(timeout=0)
    assert got[0].kind == "resync" and len(got) < events.QUEUE_MAX and sub.dropped == 1
    sub.close()


def test_closed_subscriptions_are_forgotten_and_the_total_is_bounded(bus, monkeypatch):
    monkeypatch.setattr(events, "SUBSCRIBERS_MAX", 2)
    a, b = events.subscribe("ws_a"), events.subscribe("ws_b")
    with pytest.raises(events.TooManySubscribers):
        events.subscribe("ws_c")
    a.close()
    events.subscribe("ws_c").close()
    b.close()
    assert bus.subscribers() == 0


def test_a_relay_carries_published_notices_and_delivers_remote_ones_locally(bus):
    sent = []
    bus.set_relay(lambda ws, run, kind: sent.append((ws, run, kind)))
    sub = events.subscribe("ws_a")
    events.publish("ws_a", "r1", "created")
    bus.deliver("ws_a", "r2", "finished")  # heard from another server: not relayed again
    assert sent == [("ws_a", "r1", "created")]
    assert [(e.run_id, e.kind) for e in sub.wait(timeout=0)] == [("r1", "created"), ("r2", "finished")]
    sub.close()


def test_the_store_publishes_each_committed_change_of_a_run(bus, tmp_path):
    db = Store(tmp_path)
    ws = db.create_workspace("Live")
    sub = events.subscribe(ws.id)
    run = db.create_run(ws.id, REQ, 20.0, True, "k_test", submit_key="form-1")
    again = db.create_run(ws.id, REQ, 20.0, True, "k_test", submit_key="form-1")  # a double click: no new run
    assert again.id == run.id
    assert db.claim_submit(run.id)
    db.mark_submitted(run.id, Task(id="task-unified-1", status="pending"))
    db.update_from_task(run.id, Task(id="task-unified-1", status="processing", progress=40))
    db.update_from_task(run.id, Task(id="task-unified-1", status="failed"))
    db.update_from_task(run.id, Task(id="task-unified-1", status="processing"))  # too late: no change, no notice
    db.set_rating(run.id, 4)
    got = [(e.run_id, e.kind) for e in sub.wait(timeout=0)]
    assert got == [
        (run.id, "created"),
        (run.id, "updated"),
        (run.id, "updated"),
        (run.id, "finished"),
        (run.id, "rated"),
    ]
    sub.close()


def test_a_new_subscriber_can_ask_for_what_it_just_missed():
    bus = events.Bus()
    bus.publish("ws_a", "run_1", "finished")  # between a page's read and its stream
    bus.publish("ws_b", "run_2", "finished")  # another workspace: not replayed
    with bus.subscribe("ws_a") as plain:
        assert plain.wait(0) == []  # from now on only
    with bus.subscribe("ws_a", replay=30) as catching_up:
        [event] = catching_up.wait(0)
        assert (event.run_id, event.kind) == ("run_1", "finished")
