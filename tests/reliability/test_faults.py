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
from lib.status import POLLED, TERMINAL, RunStatus
from lib.store import Store
from tests.support.runs import KEY, assert_clear_outcome, scaled_worker, submit_runs, wait_terminal
from tests.support.transport import Recorder
from tests.support.waiting import Clock, wait_until

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


def run_scenario(sim, store, ws, n, prefix, *, timeout=120.0, client_transport=None, worker_transport=None, **kw):
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
            assert r.status == RunStatus.UNKNOWN and "check the Evolink account" in r.error_message
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
        # The storm lasts until the worker has met it a few times (or every run has ended in it).
        faults = handle.app.state.stats
        wait_until(
            lambda: (
                sum(n for name, n in faults.items() if name.startswith("fault ")) >= 5
                or all(store.get_run(i).status in TERMINAL for i in ids)
            )
        )
        handle.app.faults = Faults()
        wait_terminal(store, ids)
    finally:
        w.close()
        client.close()
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    assert all(r.status == RunStatus.ARCHIVED for r in runs if r.task_id)


def test_outage_while_tasks_finish_then_every_run_is_archived(world):
    """The API is unreachable (connection refused) while its tasks finish.

    The provider's clock is the test's: the tasks cannot finish before the outage, and
    they finish during it (60 provider seconds pass, 1.5 s on the simulator's compressed
    clock). The outage lasts until the worker has been refused three times (it backs off
    exponentially in between, from the compressed 1 s floor); then the API is back on the
    same port — the same provider, its tasks intact — and every run is archived.
    """
    sim, store, ws = world
    clock = Clock(time.time())
    handle = sim(clock=clock)
    rec = Recorder()
    client = EvolinkClient(KEY, base_url=handle.base_url)
    w = scaled_worker(store, handle.base_url, SPEED, transport=rec).start()
    try:
        ids = submit_runs(store, ws.id, client, 5, "outage", duration=8)  # 56 provider s, 1.4 s compressed
        engine = handle.app.engine
        wait_until(lambda: all(t.render is not None and t.render.done() for t in engine.tasks.values()))
        wait_until(lambda: all(store.get_run(i).poll_count >= 1 for i in ids), message="the worker never polled")
        assert all(store.get_run(i).status in POLLED for i in ids)  # the provider's clock has not moved
        # Down: stop serving, keep the provider's state (the engine) for its return.
        handle.server.should_exit = True
        handle.thread.join(30)
        down_at = time.monotonic()
        clock.advance(60 / SPEED)  # the tasks finish while nobody can ask

        def refused() -> list:
            return [e for e in rec.log if e.at >= down_at and e.outcome == "ConnectError"]

        wait_until(lambda: len(refused()) >= 3, message="the worker did not meet the outage")
        sock = runner._bind(runner.HOST, handle.port)
        server = uvicorn.Server(runner._config(handle.app, runner.HOST, handle.port, "warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        up_at = time.monotonic()
        thread.start()
        handle.server, handle.thread = server, thread  # handle.stop() stops the new one
        wait_terminal(store, ids)
    finally:
        w.close()
        client.close()
    runs = assert_clear_outcome(store, handle.app.engine, ids)
    assert [r.status for r in runs] == [RunStatus.ARCHIVED] * len(runs)
    during = [e for e in rec.log if down_at <= e.at < up_at]
    assert during and all(e.outcome == "ConnectError" for e in during)
    assert w.stats().get("poll_errors", 0) >= 3


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
