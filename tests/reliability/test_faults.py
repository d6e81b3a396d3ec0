"""The submit path and worker against the simulator with faults: nothing lost, nothing paid twice, clear endings.

Runs go through ``lib.submit`` (saved before the POST, one POST per run, each submit
"double clicked") and are followed by ``lib.worker.Worker`` in its background thread,
against ``lib.simulator.serve_in_thread`` at high speed with the worker's schedule
compressed by the same factor (see conftest).
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest
import uvicorn

from lib.client import EvolinkClient
from lib.simulator import Faults, runner, serve_in_thread
from lib.status import POLLED, RunStatus
from lib.store import Store
from tests.reliability.conftest import (
    KEY,
    Recorder,
    assert_clear_outcome,
    scaled_worker,
    submit_runs,
    wait_terminal,
)

SPEED = 40.0


@pytest.fixture
def world(tmp_path):
    """(simulator factory, store, workspace); everything started is stopped."""
    started = []

    def sim(**faults):
        handle = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9, **faults)
        started.append(handle)
        return handle

    store = Store(tmp_path / "data")
    ws = store.create_workspace("reliability")
    yield sim, store, ws
    for handle in started:
        handle.stop()


def run_scenario(sim, store, ws, n, prefix, *, timeout=60.0, client_transport=None, worker_transport=None, **kw):
    client = EvolinkClient(
        KEY, base_url=sim.base_url, transport=client_transport, sleep=lambda s: time.sleep(min(s, 1.0))
    )
    w = scaled_worker(store, sim.base_url, SPEED, transport=worker_transport, **kw).start()
    try:
        ids = submit_runs(store, ws.id, client, n, prefix)
        wait_terminal(store, ids, timeout)
    finally:
        w.close()
        client.close()
    return ids, w


def test_429_storm_is_waited_out_and_retry_after_honoured(world):
    sim, store, ws = world
    handle = sim(rate_429=0.35, retry_after=1, seed=429)
    rec = Recorder()
    ids, w = run_scenario(handle, store, ws, 6, "storm", worker_transport=rec)
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    # A 429 is never a reason to give up on a run: everything the provider took is archived.
    assert all(r.status == RunStatus.ARCHIVED for r in runs if r.task_id), [(r.status, r.error_message) for r in runs]
    assert handle.app.state.stats["fault 429"] > 0 and w.stats().get("http_429", 0) > 0
    # After each 429 the whole worker waits Retry-After (1 s) before its next task GET.
    gets = [(t, status) for t, method, url, status in rec.log if method == "GET" and "/v1/tasks/" in url]
    for (t, status), (t_next, _) in itertools.pairwise(gets):
        if status == "429":
            assert t_next - t >= 0.95, f"a GET {t_next - t:.2f} s after a 429 with Retry-After: 1"


def test_500s_never_resend_a_post_and_polls_recover(world):
    sim, store, ws = world
    handle = sim(rate_500=0.3, seed=500)
    ids, _w = run_scenario(handle, store, ws, 8, "five-hundred")
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    assert all(r.status == RunStatus.ARCHIVED for r in runs if r.task_id)
    # A 500 answer to the POST leaves the outcome unknown: said so, and never sent again.
    for r in runs:
        if r.task_id is None:
            assert r.status == RunStatus.UNKNOWN and "dashboard" in r.error_message
    assert handle.app.state.stats["fault 500"] > 0


def test_dropped_connections(world):
    sim, store, ws = world
    handle = sim(drop_rate=0.25, seed=3)
    ids, _w = run_scenario(handle, store, ws, 8, "drop")
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    assert all(r.status == RunStatus.ARCHIVED for r in runs if r.task_id)
    assert handle.app.state.stats["fault drop"] > 0


def test_faults_swapped_at_runtime_mixed_storm(world):
    """Start clean, then 429s, 500s, drops and slow answers at once while runs are in flight, then clean again."""
    sim, store, ws = world
    handle = sim()
    client = EvolinkClient(KEY, base_url=handle.base_url, sleep=lambda s: time.sleep(min(s, 1.0)))
    w = scaled_worker(store, handle.base_url, SPEED).start()
    try:
        ids = submit_runs(store, ws.id, client, 4, "calm", duration=10)
        handle.app.faults = Faults(
            rate_429=0.1, retry_after=1, rate_500=0.2, drop_rate=0.1, slow_rate=0.1, slow_seconds=0.3, seed=11
        )
        ids += submit_runs(store, ws.id, client, 4, "mixed")
        time.sleep(2.0)
        handle.app.faults = Faults()
        wait_terminal(store, ids, 60)
    finally:
        w.close()
        client.close()
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    assert all(r.status == RunStatus.ARCHIVED for r in runs if r.task_id)


def test_outage_of_60_provider_seconds_compressed_to_1_5_real_seconds(world):
    """The API is unreachable (connection refused) for 60 s of provider time.

    Compressed: the simulator runs at speed 40 and the worker's schedule with it, so the
    outage lasts 1.5 real seconds. Tasks finish during the outage; the worker backs off
    (exponential, from the compressed 1 s floor) and archives everything once the API is
    back on the same port — the same provider, its tasks intact.
    """
    sim, store, ws = world
    handle = sim()
    rec = Recorder()
    client = EvolinkClient(KEY, base_url=handle.base_url)
    w = scaled_worker(store, handle.base_url, SPEED, transport=rec).start()
    try:
        ids = submit_runs(store, ws.id, client, 5, "outage", duration=8)  # 80 provider s = 2 real s
        engine = handle.app.engine
        deadline = time.monotonic() + 20
        while not all(t.render is not None and t.render.done() for t in engine.tasks.values()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert all(store.get_run(i).status in POLLED for i in ids), "runs finished before the outage"
        # Down: stop serving, keep the provider's state (the engine) for its return.
        handle.server.should_exit = True
        handle.thread.join(10)
        down_at = time.monotonic()
        time.sleep(60 / SPEED)
        sock = runner._bind(runner.HOST, handle.port)
        server = uvicorn.Server(runner._config(handle.app, runner.HOST, handle.port, "warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        handle.server, handle.thread = server, thread  # handle.stop() stops the new one
        up_at = time.monotonic()
        wait_terminal(store, ids, 30)
    finally:
        w.close()
        client.close()
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    assert [r.status for r in runs] == [RunStatus.ARCHIVED] * len(runs)
    refused = [e for e in rec.log if down_at <= e[0] < up_at]
    assert refused and all(e[3] == "ConnectError" for e in refused)
    assert w.stats().get("poll_errors", 0) >= 1


def test_links_that_expire_before_download(world):
    sim, store, ws = world
    handle = sim(link_ttl=0.0)  # every result link is already dead when the worker fetches it
    ids, _w = run_scenario(handle, store, ws, 4, "expire")
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    for r in runs:
        assert r.status == RunStatus.EXPIRED and r.error_code == "link_expired" and "expired" in r.error_message
        assert r.media_token is None
    assert not list((store.data_dir / "media").glob("*")) if (store.data_dir / "media").exists() else True


def test_rate_limit_holds_in_every_one_second_window():
    """The worker's bucket, hammered at random instants: never more than max_rps GETs in any 1 s."""
    import random

    from lib.store import Store as _Store
    from lib.worker import Worker

    rng = random.Random(5)
    for rate in (1.0, 2.0, 5.0):
        bucket = Worker(_Store("sqlite://"), max_rps=rate).bucket
        t, taken = 0.0, []
        for _ in range(5000):
            t += rng.expovariate(20.0)
            if bucket.try_take(t):
                taken.append(t)
        j = 0
        for i, ti in enumerate(taken):
            while taken[j] <= ti - 1.0:
                j += 1
            assert i - j + 1 <= rate, f"{i - j + 1} requests within 1 s at max_rps {rate}"
        assert len(taken) / t > 0.7 * rate  # and the limit is used (callers here are random, not waiting for tokens)
