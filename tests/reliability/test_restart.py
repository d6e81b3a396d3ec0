"""The app killed (SIGKILL, no shutdown hooks) while its worker polls, then started again on the same data dir.

The app runs in live mode against a simulator in this test process, so the provider
outlives the app as a real one would (in demo mode the simulator would die with the
app). Runs are submitted through ``lib.submit`` into the app's own database with the
app's key; only the app's worker polls them. Needs Python only, no browser. On SQLite
and on PostgreSQL: there the restarted server (a new process id) first waits out the
leases its killed predecessor held.
"""

from __future__ import annotations

import time

import pytest

from lib.client import EvolinkClient, key_fingerprint
from lib.simulator import serve_in_thread
from lib.simulator.engine import base_seconds
from lib.status import POLLED, RunStatus
from lib.store import SUBMIT_GRACE_SECONDS, Store
from tests.support.runs import KEY, assert_clear_outcome, request, submit_runs, wait_terminal
from tests.support.server import AppProcess
from tests.support.waiting import Clock, wait_until

SPEED = 10.0


@pytest.fixture
def clock():
    """The provider's clock: it stands still until the test moves it, so no run can finish early."""
    return Clock(time.time())


@pytest.fixture
def sim(tmp_path, clock):
    handle = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9, clock=clock)
    yield handle
    handle.stop()


def test_killed_mid_poll_and_restarted_loses_nothing_and_pays_nothing_twice(tmp_path, db_url, sim, clock):
    data = tmp_path / "data"
    env = {"EVOLINK_API_KEY": KEY, "EVOLINK_BASE_URL": sim.base_url}
    if db_url.startswith("postgresql"):
        env["DATABASE_URL"] = db_url
    else:
        db_url = str(data)  # the app's own SQLite file in its data dir
    app = AppProcess(data, env=env).start()
    try:
        store = Store(db_url, data_dir=data)
        ws = store.create_workspace("restart")
        # Two runs a crash can leave behind: saved but never sent, and claimed but not answered.
        fp = key_fingerprint(KEY)
        unsent = store.create_run(ws.id, request(90, "unsent"), 10.0, True, fp)
        claimed = store.create_run(ws.id, request(91, "claimed"), 10.0, True, fp)
        assert store.claim_submit(claimed.id)
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            ids = submit_runs(store, ws.id, client, 4, "restart", duration=15)
        wait_until(lambda: all(store.get_run(i).poll_count >= 1 for i in ids), message="the app's worker never polled")
        assert all(store.get_run(i).status in POLLED for i in ids)  # the provider's clock has not moved
        # Past the grace period in which a `submitting` run may still have its POST in flight.
        wait_until(lambda: time.time() > claimed.created_at + SUBMIT_GRACE_SECONDS + 0.5, interval=0.1)
        app.kill()
        app.start()
        clock.advance(base_seconds(15, "480p") / SPEED)  # the tasks' whole schedule: now they can finish
        wait_terminal(store, [*ids, unsent.id, claimed.id])
    finally:
        app.stop()
    runs = assert_clear_outcome(store, sim.app.engine, [*ids, unsent.id, claimed.id])
    assert [r.status for r in runs[:4]] == [RunStatus.ARCHIVED] * 4
    assert sim.app.state.stats["POST /v1/videos/generations"] == 4  # one per sent run, none after the restart
    assert len(sim.app.engine.tasks) == 4
    assert store.get_run(unsent.id).status == RunStatus.SUBMIT_FAILED  # nothing charged: say so, let them resubmit
    assert store.get_run(claimed.id).status == RunStatus.UNKNOWN  # maybe charged: check the dashboard, never resend
