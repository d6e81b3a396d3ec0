"""Who may call the simulator, and how its render queue shares out: a per-process key, fair turns, 429 when full."""

from __future__ import annotations

import concurrent.futures as cf

import pytest

from lib import demo
from lib.simulator import create_app
from lib.simulator.queue import QueueFull, RenderQueue, default_workers
from tests.support.simulator import AUTH, MODEL, ManualPool, TestClient

BODY = {"model": MODEL, "prompt": "A queue of paper boats", "duration": 4, "quality": "480p"}


# --- the key --------------------------------------------------------------------------------------


@pytest.fixture()
def keyed(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path, api_key=demo.key())
    with TestClient(app) as client:
        yield app, client
    app.close()


@pytest.mark.parametrize(
    "headers",
    [{}, AUTH, {"Authorization": "Bearer " + demo.key()[:-1]}, {"Authorization": demo.key()}, {"Authorization": "x"}],
)
def test_with_a_key_of_its_own_anyone_else_gets_401_and_nothing_is_spent(keyed, headers):
    app, client = keyed
    for method, path in (
        ("POST", "/v1/videos/generations"),
        ("GET", "/v1/credits"),
        ("GET", "/v1/tasks/task-unified-1"),
    ):
        r = client.request(method, path, json=BODY if method == "POST" else None, headers=headers)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
    assert app.engine.tasks == {} and app.engine.ledger.used == 0


def test_with_a_key_of_its_own_that_key_works(keyed):
    _app, client = keyed
    auth = {"Authorization": f"Bearer {demo.key()}"}
    assert client.post("/v1/videos/generations", json=BODY, headers=auth).status_code == 200
    assert client.get("/v1/credits", headers=auth).status_code == 200


def test_without_a_key_of_its_own_any_well_formed_token_works(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path)
    with TestClient(app, headers=AUTH) as client:
        assert client.get("/v1/credits").status_code == 200
        assert client.get("/v1/credits", headers={"Authorization": "Bearer"}).status_code == 401
    app.close()


def test_the_demo_key_is_per_process_and_maps_to_the_demo_fingerprint():
    from lib.client import key_fingerprint

    assert demo.key().startswith("demo-") and len(demo.key()) > 40
    assert key_fingerprint(demo.key()) == demo.FINGERPRINT
    assert key_fingerprint("demo-something-else") != demo.FINGERPRINT


# --- the queue ------------------------------------------------------------------------------------


def _one_process() -> tuple[ManualPool, RenderQueue]:
    """A queue in front of one render process whose renders end when the test says so."""
    pool = ManualPool()
    return pool, RenderQueue(pool.submit, workers=1, limit=20)


def test_workspaces_take_turns():
    pool, queue = _one_process()
    for n in range(6):
        queue.submit(print, f"a{n}", workspace="a")
    queue.submit(print, "b0", workspace="b")
    queue.submit(print, "c0", workspace="c")
    assert pool.jobs == ["a0"]  # one process: one render at a time
    pool.drain()
    # b and c waited only for the render of a's burst that was running when they came.
    assert pool.jobs == ["a0", "b0", "c0", "a1", "a2", "a3", "a4", "a5"]


def test_the_workspace_that_had_a_turn_longest_ago_goes_next():
    pool, queue = _one_process()
    for n in range(3):
        queue.submit(print, f"a{n}", workspace="a")
    queue.submit(print, "b0", workspace="b")
    pool.finish()  # a0 ends: b has never had a turn
    queue.submit(print, "c0", workspace="c")  # comes while b0 renders, a1 and a2 waiting
    pool.drain()
    assert pool.jobs == ["a0", "b0", "c0", "a1", "a2"]
    queue.submit(print, "b1", workspace="b")  # b's renders all ended: it is a newcomer again
    queue.submit(print, "a3", workspace="a")
    pool.finish()
    assert pool.jobs[5:] == ["b1", "a3"]


def test_a_full_share_is_refused_with_retry_after_while_others_get_in():
    pool = ManualPool()
    queue = RenderQueue(pool.submit, workers=2, limit=6)
    assert queue.per_workspace == 3
    for n in range(3):
        queue.submit(print, n, workspace="a")
    with pytest.raises(QueueFull) as full:
        queue.submit(print, 3, workspace="a")
    assert full.value.status == 429 and full.value.code == "rate_limit_exceeded"
    assert 1 <= full.value.retry_after <= 30
    for n in range(3):
        queue.submit(print, n, workspace="b")
    with pytest.raises(QueueFull):
        queue.check("c")  # the whole queue is full now
    pool.finish(2)
    queue.check("c")  # two renders done: room again
    queue.submit(print, "again", workspace="a", force=True)  # a restored task is owed its video regardless
    assert queue.waiting == 3


def test_a_render_that_fails_to_start_fails_alone():
    calls = []

    def broken(fn, job):
        calls.append(job)
        if job == "bad":
            raise RuntimeError("pool is broken")
        future: cf.Future = cf.Future()
        future.set_result(job)
        return future

    queue = RenderQueue(broken, workers=1, limit=4)
    bad = queue.submit(print, "bad", workspace="a")
    good = queue.submit(print, "good", workspace="b")
    assert isinstance(bad.exception(1), RuntimeError) and good.result(1) == "good"


def test_the_pool_is_sized_to_the_machine():
    assert default_workers(1) == 1 and default_workers(2) == 1 and default_workers(4) == 3 and default_workers(32) == 4


def test_a_full_queue_answers_429_rate_limit_exceeded_and_creates_nothing(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path, render_workers=1, queue_limit=2)
    pool = ManualPool()
    app.engine.renders._submit = pool.submit  # renders start but never finish while we look
    with TestClient(app, headers=AUTH) as client:
        balance = client.get("/v1/credits").json()["data"]["token"]
        a = {demo.WORKSPACE_HEADER: "ws-a"}
        assert client.post("/v1/videos/generations", json=BODY, headers=a).status_code == 200
        r = client.post("/v1/videos/generations", json=BODY, headers=a)
        assert r.status_code == 429
        assert r.json()["error"] == {
            "code": "rate_limit_exceeded",
            "message": "Too many requests, please try again later",
            "type": "rate_limit_error",
        }
        assert 1 <= int(r.headers["retry-after"]) <= 30
        b = client.post("/v1/videos/generations", json=BODY, headers={demo.WORKSPACE_HEADER: "ws-b"})
        assert b.status_code == 200  # another workspace still gets its turn
        assert client.post("/v1/videos/generations", json=BODY).status_code == 429  # and now it is full for all
        failing = client.post("/v1/videos/generations", json={**BODY, "prompt": "Doomed [fail:service_error]"})
        assert failing.status_code == 200  # a run that will fail renders nothing: no place needed
        assert len(app.engine.tasks) == 3 and app.state.stats["queue full"] == 2
        assert client.get("/v1/credits").json()["data"]["token"] == balance  # nothing charged for the refusals
    app.close()
