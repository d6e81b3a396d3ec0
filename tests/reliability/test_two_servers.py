"""Two app servers on one PostgreSQL and one data directory; the first is killed (SIGKILL) while it polls.

Both servers run in live mode against a simulator in this test process whose clock the
test moves, so no task finishes before the test says so. The servers reach the
simulator under two host names (``127.0.0.1`` and ``localhost``), so every task GET
the simulator answers is known to come from one server or the other. Runs are sent
through ``lib.submit`` with the servers' key into the shared database, while only the
first server runs: its worker takes every run's lease.

Checked on the second server: it polls nothing while the first one lives, takes every
run over once the first one's leases run out, archives each video once (one download,
one file per run), sends no duplicate GETs, and its gallery shows every run.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

import lib.simulator.app as sim_app
from lib.client import EvolinkClient
from lib.simulator import serve_in_thread
from lib.simulator.engine import base_seconds
from lib.status import RunStatus
from lib.store import LEASE_SECONDS, Store
from tests.support.browser import wait_idle
from tests.support.runs import KEY, assert_clear_outcome, submit_runs, wait_terminal
from tests.support.server import AppProcess
from tests.support.waiting import Clock, wait_until

SPEED = 10.0
RUNS = 4
DURATION = 15


@pytest.fixture
def clock():
    return Clock(time.time())


@pytest.fixture
def sim(tmp_path, clock):
    handle = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9, clock=clock)
    yield handle
    handle.stop()


@pytest.fixture
def heard(sim, monkeypatch):
    """Every task GET the simulator answers (when, which host name, which task) and every video download."""
    gets: list[tuple[float, str, str]] = []
    downloads: Counter[str] = Counter()
    lock = threading.Lock()
    task_json = sim_app.task_json

    def recording(engine, task, request, *, fresh=False):
        if not fresh:
            with lock:
                gets.append((time.time(), request.headers.get("host", "").split(":")[0], task.id))
        return task_json(engine, task, request, fresh=fresh)

    class Files(dict):
        """The simulator's file table; each lookup by the file route is one download."""

        def get(self, token, default=None):
            with lock:
                downloads[token] += 1
            return super().get(token, default)

    monkeypatch.setattr(sim_app, "task_json", recording)
    monkeypatch.setattr(sim.app.engine, "files", Files(sim.app.engine.files))
    return gets, downloads


def test_a_killed_server_s_runs_are_taken_over_and_archived_once(tmp_path, pg_url, sim, clock, heard, page):
    gets, downloads = heard
    data = tmp_path / "shared-data"  # one data directory for both servers, as on a shared volume
    env = {"EVOLINK_API_KEY": KEY, "DATABASE_URL": pg_url, "STUDIO_ALLOW_FETCH_HOSTS": "127.0.0.1,localhost"}
    first = AppProcess(data, env={**env, "EVOLINK_BASE_URL": sim.base_url})
    second = AppProcess(data, env={**env, "EVOLINK_BASE_URL": sim.base_url.replace("127.0.0.1", "localhost")})
    store = Store(pg_url, data_dir=data)
    try:
        first.start()
        ws = store.create_workspace("Two servers")
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            ids = submit_runs(store, ws.id, client, RUNS, "scale", duration=DURATION)

        def held_by_one() -> str | None:
            runs = [store.get_run(i) for i in ids]
            owners = {r.lease_owner for r in runs}
            polled = all(r.poll_count >= 1 for r in runs)
            return owners.pop() if polled and len(owners) == 1 and None not in owners else None

        first_id = wait_until(held_by_one, message="the first server never took and polled every run")

        second.start()
        second_id = wait_until(lambda: next((s for s in store.live_servers() if s != first_id), None))
        # Let both live side by side until the first has renewed its leases with the second around.
        renewals = {i: store.get_run(i).lease_expires for i in ids}
        wait_until(
            lambda: all(store.get_run(i).lease_expires > renewals[i] for i in ids),
            LEASE_SECONDS * 4,
            message="the first server never renewed its leases",
        )
        assert {store.get_run(i).lease_owner for i in ids} == {first_id}
        polled_before_kill = {i: store.get_run(i).poll_count for i in ids}

        first.kill()  # while it polls: every run is still processing (the provider's clock stands still)
        killed_at = time.time()
        assert all(store.get_run(i).status in (RunStatus.PENDING, RunStatus.PROCESSING) for i in ids)
        wait_until(
            lambda: {store.get_run(i).lease_owner for i in ids} == {second_id},
            LEASE_SECONDS * 4,
            message="the second server never took the runs over",
        )
        takeover = time.time() - killed_at
        wait_until(lambda: all(store.get_run(i).poll_count > polled_before_kill[i] for i in ids))

        clock.advance(base_seconds(DURATION, "480p") / SPEED)  # now the tasks may finish
        wait_terminal(store, ids)
        runs = assert_clear_outcome(store, sim.app.engine, ids)
        assert [r.status for r in runs] == [RunStatus.ARCHIVED] * RUNS

        # Each video archived once: one download per task, one file per run, nothing else.
        media = sorted(p.name for p in (data / "media").glob("*.mp4"))
        assert media == sorted(f"{r.media_token}.mp4" for r in runs)
        assert len(downloads) == RUNS and set(downloads.values()) == {1}, downloads
        assert sim.app.state.stats["POST /v1/videos/generations"] == RUNS  # one paid POST per run

        # Task GETs: before the kill only the first server polled; after it, only the second.
        by_first = [g for g in gets if g[1] == "127.0.0.1"]
        by_second = [g for g in gets if g[1] == "localhost"]
        assert len(by_first) + len(by_second) == len(gets)
        duplicates = [g for g in by_second if g[0] < killed_at]  # the second polling a run the first held
        assert not duplicates
        assert len(gets) <= 1.2 * (len(gets) - len(duplicates))
        print(
            f"\ntakeover {takeover:.1f} s after SIGKILL (lease {LEASE_SECONDS:g} s); task GETs: "
            f"{len(by_first)} by the first server, {len(by_second)} by the second, "
            f"{len(duplicates)} duplicated; downloads {sum(downloads.values())} for {RUNS} runs"
        )

        # The second server's gallery shows every run.
        page.goto(f"{second.url}/gallery?ws={ws.id}")
        wait_idle(page)
        for run_id in ids:  # each card, with its saved video's poster
            page.wait_for_selector(f'[data-run-id="{run_id}"] video[poster]', state="attached")
    finally:
        first.kill()
        second.stop()
