"""Worker: polling, rate limit, backoff and archiving (the schedule itself: tests/test_schedule.py).

Stepped on a fake clock, then against the live simulator with faults.
"""

from __future__ import annotations

import errno
import itertools
import math
import time
from collections import deque

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from lib import demo
from lib import worker as wk
from lib.client import EvolinkClient, key_fingerprint
from lib.retries import RetryPolicy
from lib.schema import GenerationRequest, Task
from lib.settings import load_settings, override
from lib.status import RunStatus
from lib.store import Store, new_id, submission, valid_id
from lib.worker import Schedule, Worker
from tests.support.database import migrated
from tests.support.media import make_mp4
from tests.support.transport import Recorder

KEY = "sk-test-worker-key"
FP = key_fingerprint(KEY)
REQ = GenerationRequest(
    model="seedance-2.0-fast-text-to-video", prompt="A paper boat", duration=4, quality="480p", aspect_ratio="16:9"
)
BASE = "https://api.test"


# --- a scripted provider on a fake clock --------------------------------------------------------


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeProvider:
    """``GET /v1/tasks/{id}`` and the result file, driven by a fake clock; records every request."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tasks: dict[str, dict] = {}
        self.log: list[tuple[float, str, str]] = []
        self.script: deque = deque()  # responses served first, whatever was asked
        self.file_status = 200
        self.result_base = BASE  # where the result links point
        self.transport = httpx.MockTransport(self.handle)

    def add(self, task_id: str, takes: float, estimate: float, fail: bool = False) -> Task:
        self.tasks[task_id] = {"created": self.clock(), "takes": takes, "fail": fail}
        return Task.model_validate({"id": task_id, "status": "pending", "task_info": {"estimated_time": estimate}})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.log.append((self.clock(), request.method, request.url.path))
        if request.url.path.startswith("/files/"):
            return httpx.Response(self.file_status, content=make_mp4() if self.file_status == 200 else b"gone")
        if self.script:
            return self.script.popleft()
        task_id = request.url.path.rsplit("/", 1)[-1]
        spec = self.tasks.get(task_id)
        if spec is None:
            return httpx.Response(
                404, json={"error": {"code": "task_not_found", "message": "not found", "type": "invalid_request_error"}}
            )
        elapsed = self.clock() - spec["created"]
        body = {"id": task_id, "status": "processing", "progress": min(99, int(100 * elapsed / spec["takes"]))}
        if elapsed >= spec["takes"]:
            if spec["fail"]:
                body.update(status="failed", error={"code": "content_policy_violation", "message": "<b>blocked</b>"})
            else:
                body.update(status="completed", progress=100, results=[f"{self.result_base}/files/{task_id}.mp4"])
        return httpx.Response(200, json=body)

    def gets(self, path_part: str = "/v1/tasks/") -> list[float]:
        return [t for t, m, p in self.log if m == "GET" and path_part in p]


@pytest.fixture()
def rig(tmp_path):
    clock = Clock()
    provider = FakeProvider(clock)
    store = Store(migrated(tmp_path))
    worker = Worker(store, clock=clock, max_rps=2, download_client=httpx.Client(transport=provider.transport))
    worker.register_key(KEY, BASE, transport=provider.transport)
    ws = store.create_workspace()
    yield clock, provider, store, worker, ws
    worker.close()


def submitted(store, ws, provider, task_id, takes=30.0, estimate=30.0, fail=False, fp=FP):
    run = store.create_run(ws.id, REQ, 10.0, True, fp)
    store.claim_submit(run.id)
    return store.mark_submitted(run.id, provider.add(task_id, takes, estimate, fail), now=provider.clock())


def step_until(clock, worker, store, run_ids, limit=400.0, dt=0.25):
    end = clock.t + limit
    while clock.t < end:
        worker.run_once(clock.t)
        if all(store.get_run(r).finished for r in run_ids):
            return
        clock.t += dt
    raise AssertionError("runs did not finish: " + ", ".join(store.get_run(r).status for r in run_ids))


def test_a_run_is_polled_adaptively_and_archived(rig):
    clock, provider, store, worker, ws = rig
    t0 = clock.t
    run = submitted(store, ws, provider, "task-unified-a", takes=60, estimate=60)
    step_until(clock, worker, store, [run.id])
    run = store.get_run(run.id)
    assert run.status == RunStatus.ARCHIVED and run.archived
    assert valid_id(run.id) and run.media_token and run.media_width == 864
    polls = [t - t0 for t in provider.gets()]
    assert polls[0] == pytest.approx(30, abs=0.3)  # first poll at half the estimate
    assert len(polls) < math.ceil(60 / 5)  # fewer GETs than a fixed 5 s poller
    assert polls[-1] - 60 < 1.5  # and the result is seen within ~1 s of completion
    assert worker.polls_for(run.id) == len(polls) == run.poll_count
    assert all(m == "GET" for _, m, _ in provider.log)  # the worker never POSTs


def test_provider_failure_is_recorded_as_plain_text(rig):
    clock, provider, store, worker, ws = rig
    run = submitted(store, ws, provider, "task-unified-f", takes=5, estimate=5, fail=True)
    step_until(clock, worker, store, [run.id])
    run = store.get_run(run.id)
    assert (run.status, run.error_code, run.error_message) == ("failed", "content_policy_violation", "<b>blocked</b>")


def test_global_rate_limit_holds_with_many_due_runs(rig):
    clock, provider, store, worker, ws = rig
    ids = [submitted(store, ws, provider, f"task-unified-{i}", takes=20, estimate=4).id for i in range(12)]
    step_until(clock, worker, store, ids)
    gets = provider.gets()
    for t in gets:  # any one-second window: at most rate + burst
        assert sum(1 for u in gets if t <= u < t + 1.0) <= 4
    assert all(store.get_run(i).status == RunStatus.ARCHIVED for i in ids)


def test_429_pauses_all_polling_for_retry_after(rig):
    clock, provider, store, worker, ws = rig
    runs = [submitted(store, ws, provider, f"task-unified-r{i}", takes=10, estimate=2) for i in range(3)]
    clock.t += 1.0
    err = {"error": {"code": "rate_limit_exceeded", "message": "slow down", "type": "evo_api_error"}}
    provider.script.append(httpx.Response(429, json=err, headers={"Retry-After": "7"}))
    t429 = clock.t
    worker.run_once(clock.t)
    assert len(provider.gets()) == 1
    while clock.t + 0.25 < t429 + 7:
        clock.t += 0.25
        worker.run_once(clock.t)
    assert len(provider.gets()) == 1  # nobody polled during the pause
    step_until(clock, worker, store, [r.id for r in runs])
    assert worker.stats()["http_429"] == 1


def test_5xx_and_dropped_connections_back_off_and_recover(rig):
    clock, provider, store, worker, ws = rig
    run = submitted(store, ws, provider, "task-unified-s", takes=8, estimate=8)
    for _ in range(3):
        provider.script.append(httpx.Response(502, text="<html>Bad gateway</html>"))
    step_until(clock, worker, store, [run.id])
    run = store.get_run(run.id)
    assert run.status == RunStatus.ARCHIVED and run.poll_error is None
    assert worker.stats()["poll_errors"] == 3


def test_unregistered_key_waits_without_failing(rig):
    clock, provider, store, worker, ws = rig
    other_key = "sk-someone-else"
    run = submitted(store, ws, provider, "task-unified-k", takes=4, estimate=4, fp=key_fingerprint(other_key))
    for _ in range(40):
        clock.t += 0.5
        worker.run_once(clock.t)
    assert store.get_run(run.id).status == RunStatus.PENDING and provider.gets() == []
    worker.register_key(other_key, BASE, transport=provider.transport)
    step_until(clock, worker, store, [run.id])
    assert store.get_run(run.id).status == RunStatus.ARCHIVED


def test_task_not_found_fails_clearly_instead_of_looping(rig):
    clock, provider, store, worker, ws = rig
    run = submitted(store, ws, provider, "task-unified-gone")
    del provider.tasks["task-unified-gone"]  # e.g. the API address changed after submission
    step_until(clock, worker, store, [run.id])
    run = store.get_run(run.id)
    assert run.status == RunStatus.FAILED and run.error_code == "task_not_found"
    assert "no longer knows this task" in run.error_message
    assert len(provider.gets()) == wk.NOT_FOUND_LIMIT


def test_expired_link_marks_the_run_expired(rig):
    clock, provider, store, worker, ws = rig
    provider.file_status = 403
    run = submitted(store, ws, provider, "task-unified-x", takes=2, estimate=2)
    step_until(clock, worker, store, [run.id])
    run = store.get_run(run.id)
    assert run.status == RunStatus.EXPIRED and "403" in run.error_message and run.billed


def test_archive_retries_then_fails_with_a_clear_message(rig):
    clock, provider, store, worker, ws = rig
    provider.file_status = 500
    run = submitted(store, ws, provider, "task-unified-d", takes=2, estimate=2)
    step_until(clock, worker, store, [run.id], limit=2000, dt=1.0)
    run = store.get_run(run.id)
    assert run.status == RunStatus.FAILED and run.error_code == "archive_failed"
    assert f"after {wk.ARCHIVE_ATTEMPTS} attempts" in run.error_message and "billed" in run.error_message
    assert len(provider.gets("/files/")) == wk.ARCHIVE_ATTEMPTS
    assert run.billed  # the provider charged for it, so the budget still counts it


def test_an_exception_on_one_run_never_stops_the_others(rig, monkeypatch):
    clock, provider, store, worker, ws = rig
    bad = submitted(store, ws, provider, "task-unified-bad", takes=4, estimate=4)
    good = submitted(store, ws, provider, "task-unified-good", takes=4, estimate=4)
    real = store.update_from_task

    def flaky(run_id, *a, **kw):
        if run_id == bad.id:
            raise RuntimeError("boom")
        return real(run_id, *a, **kw)

    monkeypatch.setattr(store, "update_from_task", flaky)
    for _ in range(80):
        clock.t += 0.25
        worker.run_once(clock.t)
    assert store.get_run(good.id).status == RunStatus.ARCHIVED
    assert store.get_run(bad.id).status == RunStatus.PENDING and worker.stats()["errors"] >= 1


def test_poke_polls_at_once(rig):
    clock, provider, store, worker, ws = rig
    run = submitted(store, ws, provider, "task-unified-p", takes=1, estimate=300)
    clock.t += 2
    worker.run_once(clock.t)
    assert provider.gets() == []  # first poll is not due for a long while
    worker.poke(run.id)
    worker.run_once(clock.t)
    assert store.get_run(run.id).status == RunStatus.ARCHIVED


def test_a_poll_error_backs_off_by_the_retry_policy(rig):
    clock, provider, store, _, ws = rig
    policy = RetryPolicy(initial_delay=3.0, max_delay=10.0, rand=lambda: 0.0)
    worker = Worker(store, clock=clock, retry=policy, transport=provider.transport)
    worker.register_key(KEY, BASE)  # the worker's transport: no per-key transport needed
    run = submitted(store, ws, provider, "task-unified-b", takes=60, estimate=2)
    provider.script.extend(httpx.Response(503, text="busy") for _ in range(4))
    waits = []
    for _ in range(4):
        clock.t = store.get_run(run.id).next_poll_at or clock.t + 1.0
        worker.run_once(clock.t)
        waits.append(store.get_run(run.id).next_poll_at - clock.t)
    assert waits == [policy.delay(n) for n in range(4)] == [3.0, 6.0, 10.0, 10.0]
    worker.close()


def test_a_429_waits_its_retry_after_up_to_the_policy_cap(rig):
    clock, provider, store, worker, ws = rig
    submitted(store, ws, provider, "task-unified-c", takes=60, estimate=2)
    err = {"error": {"code": "rate_limit_exceeded", "message": "slow down", "type": "evo_api_error"}}
    provider.script.append(httpx.Response(429, json=err, headers={"Retry-After": "86400"}))
    clock.t += 1.0
    worker.run_once(clock.t)
    assert worker.stats()["paused_until"] == clock.t + worker.retry.retry_after_cap == clock.t + 120.0


def test_a_result_link_to_a_private_address_is_never_opened(rig):
    clock, provider, store, worker, ws = rig
    provider.result_base = "http://169.254.169.254/latest"
    run = submitted(store, ws, provider, "task-unified-l", takes=2, estimate=2)
    step_until(clock, worker, store, [run.id])
    run = store.get_run(run.id)
    assert run.status == RunStatus.FAILED and run.error_code == "archive_failed"
    assert "169.254.169.254 is not a public address" in run.error_message
    assert provider.gets("/files/") == []  # refused before anything was sent
    assert worker.stats()["downloads"] == 1  # and not tried again: another try cannot help


def _disk_full(monkeypatch):
    """Every write of a download fails as on a full disk."""
    from lib import archive

    def refuse(out, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive, "write_chunk", refuse)


def test_a_full_disk_is_an_archive_attempt_with_backoff_then_a_clear_failure(rig, monkeypatch):
    clock, provider, store, worker, ws = rig
    _disk_full(monkeypatch)
    run = submitted(store, ws, provider, "task-unified-full", takes=2, estimate=2)
    step_until(clock, worker, store, [run.id], limit=2000, dt=0.5)
    run = store.get_run(run.id)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "disk_full")
    assert "disk is full" in run.error_message and "Tell the facilitator" in run.error_message
    assert "Errno" not in run.error_message and run.billed
    downloads = provider.gets("/files/")
    assert len(downloads) == wk.ARCHIVE_ATTEMPTS  # each one counted: not downloaded again and again
    gaps = [b - a for a, b in itertools.pairwise(downloads)]
    assert gaps == sorted(gaps) and gaps[0] >= 1.0  # backing off, never a loop
    assert worker.stats()["storage_errors"] == wk.ARCHIVE_ATTEMPTS


def test_below_the_free_space_floor_nothing_is_downloaded(tmp_path):
    clock = Clock()
    provider = FakeProvider(clock)
    store = Store(tmp_path)
    worker = Worker(store, clock=clock, min_free=2**62, download_client=httpx.Client(transport=provider.transport))
    worker.register_key(KEY, BASE, transport=provider.transport)
    run = submitted(store, store.create_workspace(), provider, "task-unified-floor", takes=2, estimate=2)
    step_until(clock, worker, store, [run.id], limit=2000, dt=0.5)
    run = store.get_run(run.id)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "disk_full") and "nearly full" in run.error_message
    assert provider.gets("/files/") == []  # refused before a single byte was fetched
    worker.close()


def test_a_store_that_cannot_record_the_attempt_still_backs_off(rig, monkeypatch):
    """The database's disk is full too: the attempt cannot be written down, yet the video is not fetched in a loop."""
    clock, provider, store, worker, ws = rig
    _disk_full(monkeypatch)
    run = submitted(store, ws, provider, "task-unified-nodb", takes=2, estimate=2)

    def db_full(*args, **kwargs):
        raise OperationalError("UPDATE runs", {}, Exception("database or disk is full"))

    monkeypatch.setattr(store, "record_archive_error", db_full)
    monkeypatch.setattr(store, "defer", db_full)
    end = clock.t + 60
    while clock.t < end:
        worker.run_once(clock.t)
        clock.t += 0.05
    # 60 s at one step every 50 ms: 1200 chances, yet only the counted attempts, backed off
    # in memory; the last one could be written down and ends the run clearly.
    downloads = provider.gets("/files/")
    assert len(downloads) == wk.ARCHIVE_ATTEMPTS, downloads
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(downloads))
    run = store.get_run(run.id)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "disk_full")


def test_a_callback_for_a_run_whose_key_is_gone_is_remembered_not_spun_on(rig):
    clock, provider, store, worker, ws = rig
    other_key = "sk-pasted-before-the-restart"
    run = submitted(store, ws, provider, "task-unified-nokey", takes=4, estimate=4, fp=key_fingerprint(other_key))
    clock.t += 10  # past its first poll
    worker.poke(run.id)  # a callback arrives
    worker.run_once(clock.t)
    assert worker.stats()["parked"] == 1 and provider.gets() == []
    assert worker._sleep_time() == worker.idle_wait  # nothing due: no 20 ms loop
    for _ in range(5):
        clock.t += 1
        worker.run_once(clock.t)
    assert provider.gets() == [] and worker.stats()["parked"] == 1
    worker.register_key(other_key, BASE, transport=provider.transport)
    assert worker.stats()["parked"] == 0
    worker.run_once(clock.t)  # served at once: the callback was remembered
    assert provider.gets() == [clock.t]
    assert store.get_run(run.id).status == RunStatus.ARCHIVED


def test_one_worker_per_process_start_current_stop(tmp_path):
    settings = load_settings(env={"STUDIO_DATA_DIR": str(tmp_path)}, secrets_path=None)
    assert wk.current() is None
    try:
        w = wk.start(settings, base_url="http://127.0.0.1:9/sim", max_rps=1)
        assert wk.current() is w and w.running and w.bucket.rate == 1
        assert wk.start(settings) is w  # a second start returns the running one
    finally:
        wk.stop()
    assert wk.current() is None and not w.running
    assert not w.has_key(demo.FINGERPRINT)  # the keys left memory


def test_start_allows_the_demo_simulator_host_and_the_configured_ones_only(tmp_path):
    demo = load_settings(
        env={"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_ALLOW_FETCH_HOSTS": "media.lan"}, secrets_path=None
    )
    try:
        assert wk.start(demo, base_url="http://127.0.0.1:8501/sim").allowed_hosts == ("media.lan", "127.0.0.1")
    finally:
        wk.stop()
    live = load_settings(
        env={"STUDIO_DATA_DIR": str(tmp_path), "EVOLINK_API_KEY": KEY, "EVOLINK_BASE_URL": "http://127.0.0.1:8765"},
        secrets_path=None,
    )
    try:
        assert wk.start(live).allowed_hosts == ()  # a live API's host is not trusted for downloads
    finally:
        wk.stop()


def test_start_hands_the_settings_transport_to_every_client(tmp_path):
    clock = Clock()
    provider = FakeProvider(clock)
    provider.add("task-unified-t", takes=1, estimate=1)
    env = {"STUDIO_DATA_DIR": str(tmp_path), "EVOLINK_API_KEY": KEY, "EVOLINK_BASE_URL": BASE}
    with override(transport=provider.transport):
        settings = load_settings(env=env, secrets_path=None)
    try:
        w = wk.start(settings)
        assert w.transport is provider.transport
        w._clients[FP].get_task("task-unified-t")
        assert provider.gets() == [clock.t]  # answered by the test transport, not the network
    finally:
        wk.stop()


# --- against the live simulator --------------------------------------------------------------

simulator = pytest.importorskip("lib.simulator")


def submit(store, ws, client, req=REQ):
    """The UI's flow: persist, claim, one POST, record."""
    run = store.create_run(ws.id, req, 10.0, True, client.fingerprint, submit_key=new_id())
    assert store.claim_submit(run.id)
    return store.mark_submitted(run.id, client.create(req))


FAST = Schedule(floor=0.2, ceiling=2.0)


def follow(clock, worker, store, run_ids, limit=600.0):
    """Step the worker as its own thread does, one step then its own wait, but on the test's clock."""
    end = clock.t + limit
    while not all(store.get_run(r).finished for r in run_ids):
        assert clock.t < end, "runs did not finish: " + ", ".join(store.get_run(r).status for r in run_ids)
        worker.run_once(clock.t)
        clock.t += worker._sleep_time()


def rendered(sim, *runs) -> None:
    """Wait until the simulator has made these runs' videos: from then on only the test's clock decides."""
    for run in runs:
        sim.app.engine.tasks[run.task_id].render.result(timeout=60)


def test_live_simulator_with_faults_every_run_archived_no_duplicate_post(tmp_path):
    # Slow enough that every run is polled several times while the faults are on.
    clock = Clock(time.time())
    sim = simulator.serve_in_thread(port=0, speed=10, data_dir=tmp_path / "sim", render_workers=2, clock=clock)
    store = Store(tmp_path / "studio")
    ws = store.create_workspace()
    rec = Recorder(clock=clock)
    worker = Worker(store, clock=clock, schedule=FAST, max_rps=5, burst=2, allowed_hosts=["127.0.0.1"])
    try:
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            runs = [submit(store, ws, client, REQ.model_copy(update={"prompt": f"boat {i}"})) for i in range(6)]
        rendered(sim, *runs)
        posts_before = sim.app.state.stats["POST /v1/videos/generations"]
        sim.app.faults = simulator.Faults(rate_429=0.25, retry_after=1, rate_500=0.25, drop_rate=0.15, seed=7)
        worker.register_key(KEY, sim.base_url, transport=rec)
        follow(clock, worker, store, [run.id for run in runs])
        for run in runs:
            got = store.get_run(run.id)
            assert got.status == RunStatus.ARCHIVED, (got.status, got.error_message)
            assert (got.media_width, got.media_height) == (864, 496)
        stats = sim.app.state.stats
        assert stats["POST /v1/videos/generations"] == posts_before == 6  # the worker sent none
        assert set(rec.methods) == {"GET"}
        assert stats["fault 429"] + stats["fault 500"] + stats["fault drop"] > 0  # faults really happened
        for t in rec.times:  # rate limit: any one-second window holds at most rate + burst
            assert sum(1 for u in rec.times if t <= u < t + 1.0) <= 7
    finally:
        worker.close()
        sim.stop()


def test_live_simulator_restart_midway_fails_runs_clearly(tmp_path):
    # The first simulator's clock stands still: its tasks are certainly unfinished when it stops.
    # (They are told to fail at their end, so it renders nothing: their end never comes.)
    first = simulator.serve_in_thread(port=0, speed=1, data_dir=tmp_path / "sim1", clock=Clock(time.time()))
    clock = Clock(time.time())
    store = Store(tmp_path / "studio")
    ws = store.create_workspace()
    worker = Worker(store, clock=clock, schedule=FAST, max_rps=10)
    second = None
    try:
        with EvolinkClient(KEY, base_url=first.base_url) as client:
            unfinished = REQ.model_copy(update={"prompt": "A paper boat [fail:service_error]"})
            runs = [submit(store, ws, client, unfinished) for _ in range(2)]
            assert {client.get_task(run.task_id).status for run in runs} == {"pending"}
        first.stop()
        second = simulator.serve_in_thread(port=0, speed=40, data_dir=tmp_path / "sim2", clock=clock)
        worker.register_key(KEY, second.base_url)  # the app restarted against a fresh simulator
        follow(clock, worker, store, [run.id for run in runs])
        for run in runs:
            got = store.get_run(run.id)
            assert got.status == RunStatus.FAILED and got.error_code == "task_not_found"
            assert "no longer knows this task" in got.error_message
        assert second.app.state.stats["GET /v1/tasks/{task_id}"] == 2 * wk.NOT_FOUND_LIMIT  # no endless loop
        assert second.app.state.stats["POST /v1/videos/generations"] == 0
    finally:
        worker.close()
        if second is not None:
            second.stop()


def test_live_simulator_expired_link(tmp_path):
    clock = Clock(time.time())
    sim = simulator.serve_in_thread(port=0, speed=40, data_dir=tmp_path / "sim", link_ttl=60, clock=clock)
    store = Store(tmp_path / "studio")
    ws = store.create_workspace()
    worker = Worker(store, clock=clock, schedule=FAST, max_rps=10, allowed_hosts=["127.0.0.1"])
    try:
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            run = submit(store, ws, client)
            rendered(sim, run)
            clock.t += sim.app.engine.tasks[run.task_id].schedule
            task = client.get_task(run.task_id)
        assert task.status == "completed" and httpx.get(task.video_url).status_code == 200
        clock.t += 61  # the link lapses before the worker looks
        assert httpx.get(task.video_url).status_code == 403
        worker.register_key(KEY, sim.base_url)
        follow(clock, worker, store, [run.id])
        got = store.get_run(run.id)
        assert got.status == RunStatus.EXPIRED and got.error_code == "link_expired"
        assert not list((tmp_path / "studio" / "media").glob("*")) if (tmp_path / "studio" / "media").exists() else True
    finally:
        worker.close()
        sim.stop()


def test_live_simulator_adaptive_beats_fixed_5s_on_the_same_task(tmp_path):
    clock = Clock(time.time())
    sim = simulator.serve_in_thread(port=0, speed=1, data_dir=tmp_path / "sim", clock=clock)
    store = Store(tmp_path / "studio")
    ws = store.create_workspace()
    worker = Worker(store, clock=clock, max_rps=10, allowed_hosts=["127.0.0.1"])
    try:
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            run = submit(store, ws, client, REQ.model_copy(update={"duration": 8}))  # 56 s at speed 1
            sim.app.engine.tasks[run.task_id].render.result(timeout=30)  # video ready; time is ours now
            worker.register_key(KEY, sim.base_url)
            start, fixed_gets, fixed_next, fixed_done = clock.t, 0, clock.t + 5, False
            while not (fixed_done and store.get_run(run.id).finished):
                assert clock.t - start < 120
                worker.run_once(clock.t)
                if not fixed_done and clock.t >= fixed_next:  # a naive 5 s poller on the same task
                    fixed_gets += 1
                    fixed_done = client.get_task(run.task_id).status == "completed"
                    fixed_next += 5
                clock.t += 0.25
        adaptive_gets = worker.polls_for(run.id)
        assert store.get_run(run.id).status == RunStatus.ARCHIVED
        assert adaptive_gets < fixed_gets, (adaptive_gets, fixed_gets)
    finally:
        worker.close()
        sim.stop()


def test_crash_recovery_runs_when_the_worker_starts(tmp_path, monkeypatch):
    store = Store(tmp_path)
    ws = store.create_workspace()
    run = store.create_run(ws.id, REQ, 1, True, FP, now=time.time() - 60)
    store.claim_submit(run.id)
    monkeypatch.setattr(submission, "PROCESS", "restarted")
    worker = Worker(store).start()
    try:
        assert store.get_run(run.id).status == RunStatus.UNKNOWN
    finally:
        worker.close()


def test_server_entry_points_start_from_settings_and_poke_by_task(tmp_path):
    from lib.settings import load_settings

    settings = load_settings(env={"STUDIO_DATA_DIR": str(tmp_path)}, secrets_path=None)
    try:
        w = wk.start(settings, base_url="http://127.0.0.1:9/sim")
        assert wk.current() is w and w.running
        store = w.store
        assert store.data_dir == tmp_path.resolve()
        ws = store.create_workspace()
        run = store.create_run(ws.id, REQ, 1, True, demo.FINGERPRINT)
        store.mark_submitted(run.id, Task(id="task-unified-cb", status="pending"))
        assert w.has_key(run.key_fingerprint)  # the demo key is held in memory
        assert w.poke_task("task-unified-cb") is True
        assert w.poke_task("task-unified-nope") is False
        assert w.poke_task("x" * 5000) is False
    finally:
        wk.stop()
    assert wk.current() is None


def test_a_run_stuck_submitting_in_this_process_is_settled_never_resent(tmp_path):
    """A POST that died without its answer being recorded leaves `submitting`; the worker never polls
    that status, so its periodic sweep settles it (claimed: unknown) instead of leaving it forever."""
    store = Store(tmp_path)
    ws = store.create_workspace()
    created = time.time() - 700
    run = store.create_run(ws.id, REQ, 10.0, True, FP, now=created)
    assert store.claim_submit(run.id, now=created)
    worker = Worker(store, schedule=FAST)
    try:
        worker.run_once(time.time())
        got = store.get_run(run.id)
        assert (got.status, got.error_code) == (RunStatus.UNKNOWN, "submit_interrupted")
    finally:
        worker.close()
