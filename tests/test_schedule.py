"""The polling schedule: finish forecasts from estimate and progress, and when it polls, on a fake clock.

Tasks finish up to ±30 % off their estimate, as the provider's do, and report progress
the simulator's three ways: linear, in steps (0 → 50 → 100), or none (0 until done).
Every test moves its own clock; the bounds leave room around what the schedule's
design gives (``lib.worker.schedule``'s docstring has the figures).
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass

import httpx
import pytest

from lib.client import key_fingerprint
from lib.schema import GenerationRequest, Task
from lib.simulator.engine import PROGRESS_MODELS, SimTask, base_seconds
from lib.status import RunStatus
from lib.store import Store
from lib.worker import Schedule, TokenBucket, Worker
from lib.worker.forecast import ProgressLog, Sample, forecast
from lib.worker.schedule import stored_samples
from tests.support.database import migrated
from tests.support.media import make_mp4
from tests.support.waiting import Clock

KEY = "sk-test-schedule-key"
BASE = "https://api.test"
MODEL = "seedance-2.0-fast-text-to-video"
NOISE = 0.3
FIXED_PERIOD = 5.0
# (model, most GETs as a share of a fixed 5 s poller's, latest any finish may be seen, median lag)
BOUNDS = {"linear": (0.45, 1.0, 0.5), "stepwise": (0.6, 6.5, 2.0), "none": (0.6, 6.5, 2.0)}


# --- tasks like the provider's ---------------------------------------------------------------------


def sim_task(model: str, estimate: float, takes: float, created: float = 0.0, task_id: str = "t") -> SimTask:
    """A simulator task whose video is ready: its status and progress follow ``model`` on any clock."""
    rendered: Future = Future()
    rendered.set_result(None)
    task = SimTask(
        id=task_id,
        created=created,
        model=MODEL,
        duration=4,
        schedule=takes,
        estimated_time=round(estimate),
        credits=1.0,
        progress_model=model,
    )
    task.render = rendered
    return task


def noisy_tasks(model: str, n: int, seed: int, created: float = 0.0) -> list[SimTask]:
    """n tasks of 4-15 s at 480p/720p (28-150 s of work) taking their estimate ±30 %."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        typical = base_seconds(rng.randint(4, 15), rng.choice(["480p", "720p"]))
        takes = typical * (1 + rng.uniform(-NOISE, NOISE))
        out.append(sim_task(model, typical, takes, created, task_id=f"task-{model}-{i}"))
    return out


def follow(schedule: Schedule, task: SimTask) -> tuple[list[float], float]:
    """The times the schedule polls ``task`` until it sees it done, and how late it saw the finish."""
    samples: list[Sample] = []
    t = schedule.delay(0.0, task.estimated_time)
    polls = []
    while True:
        polls.append(t)
        status, progress = task.phase(task.created + t)
        if status == "completed":
            return polls, t - task.schedule
        samples.append(Sample(t, progress))
        t += schedule.delay(t, task.estimated_time, samples)
        assert len(polls) < 200, "the schedule never reached the finish"


def fixed_poller(task: SimTask, rng: random.Random) -> tuple[int, float]:
    """GETs and lag of a poller asking every 5 s from a random phase, as a plain client would."""
    t = rng.uniform(0, FIXED_PERIOD)
    gets = 1
    while t < task.schedule:
        t += FIXED_PERIOD
        gets += 1
    return gets, t - task.schedule


def linear_samples(takes: float, queue: float, times: list[float], *, rounding: bool) -> list[Sample]:
    """Progress of a task that waits ``queue`` seconds, then rises steadily, reported floored or rounded."""
    out = []
    for t in times:
        share = max(0.0, (t - queue) / (takes - queue))
        value = round(share * 100) if rounding else int(share * 100)
        out.append(Sample(t, min(99, value)))
    return out


# --- forecasts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rounding", [False, True])
def test_a_steady_rate_forecasts_a_window_that_holds_the_finish(rounding):
    rng = random.Random(5)
    widths = []
    for _ in range(300):
        takes = rng.uniform(20, 200)
        queue = takes * rng.uniform(0, 0.2)
        times = sorted(rng.uniform(queue + 0.05 * takes, 0.98 * takes) for _ in range(rng.randint(2, 6)))
        samples = linear_samples(takes, queue, times, rounding=rounding)
        f = forecast(samples, estimate=takes * rng.uniform(0.7, 1.3))
        if f.basis != "rate":
            continue  # two samples with the same value: not a rate yet
        assert f.earliest - 1e-6 <= takes <= f.latest + 1e-6, (takes, samples, f)
        widths.append(f.width / takes)
    assert len(widths) > 250
    assert statistics.median(widths) < 0.03  # a few percent of the run, from a handful of answers


def test_a_task_past_its_estimate_is_forecast_from_its_progress():
    samples = linear_samples(100, 10, [30, 60, 90], rounding=False)  # announced 60 s; takes 100 s
    f = forecast(samples, estimate=60)
    assert f.basis == "rate" and f.earliest <= 100 <= f.latest and f.width < 3
    assert f.earliest > 1.3 * 60  # beyond anything the estimate allows


def test_steps_and_stalls_bound_the_finish_from_the_last_level_and_the_estimate():
    task = sim_task("stepwise", estimate=80, takes=90)
    samples = [Sample(t, task.phase(t)[1]) for t in (30, 45, 55, 60)]
    assert [s.progress for s in samples] == [0, 0, 50, 50]
    f = forecast(samples, estimate=80)
    assert f.basis == "step" and f.earliest <= 90 <= f.latest
    assert f.latest == 1.3 * 80  # level 50 reached by 55 s: done by 111 s; the estimate says sooner
    assert f.earliest > 70  # reached after 45 s: not before 74 s, later than the estimate's 56 s
    assert not f.moving  # seen twice at 50: another look before the window tells nothing
    no_line = forecast([Sample(10, 10), Sample(20, 60), Sample(60, 61)], estimate=80)
    assert no_line.basis == "step"  # progress that jumps, then stalls: no straight line fits


def test_without_progress_the_estimate_rules_and_an_unfinished_task_ends_later():
    f = forecast([Sample(30, 0), Sample(50, 0)], estimate=60)
    assert (f.basis, f.earliest, f.latest) == ("estimate", 50, 78)
    late = forecast([Sample(100, 0)], estimate=60)
    assert (late.earliest, late.latest, late.width) == (100, 78, 0)  # late: it ends after 100 s, 22 s past the window


def test_the_progress_log_is_bounded_and_keeps_what_forecasts_need():
    log = ProgressLog(per_run=6, runs=3)
    for i, p in enumerate([0, 0, 10, 20, 30, 40, 50, 60, 70, 80]):
        log.add("run_a", Sample(10.0 * i, p))
    kept = log.samples("run_a")
    assert len(kept) == 6 and kept[-1] == Sample(90, 80)
    assert Sample(20, 10) in kept and Sample(10, 0) in kept  # the first move and the answer before it
    log.add("run_a", Sample(50, 99))  # an answer older than the last one changes nothing
    assert log.samples("run_a") == kept
    for run in ("run_b", "run_c", "run_d"):
        log.add(run, Sample(1, 0))
    assert len(log) == 3 and log.samples("run_a") == []  # the least recently seen run was forgotten
    log.seed("run_b", [Sample(0.5, 0)])  # known here already: the stored sample is not added
    assert log.samples("run_b") == [Sample(1, 0)]


# --- when it polls ------------------------------------------------------------------------------


def test_first_poll_and_the_rule_before_anything_was_heard():
    s = Schedule()
    assert s.delay(0, 165) == 30  # half the estimate, at most the ceiling
    assert s.delay(0, 20) == 10
    assert s.delay(0, None) == 30  # no estimate: assume a minute
    assert s.delay(164.5, 165) == 1  # no answer yet near the end: the floor
    assert s.delay(1000, 165) == 30  # very late: back to the ceiling


@pytest.mark.parametrize("model", PROGRESS_MODELS)
def test_each_progress_model_sees_the_finish_soon_with_fewer_gets_than_a_fixed_5s_poller(model):
    share, worst, median_bound = BOUNDS[model]
    schedule = Schedule()
    rng = random.Random(17)
    gets = fixed_gets = 0
    lags, fixed_lags = [], []
    for task in noisy_tasks(model, 60, seed=23):
        polls, lag = follow(schedule, task)
        gets += len(polls)
        lags.append(lag)
        assert 0 <= lag <= worst, (task.estimated_time, task.schedule, polls)
        assert len(polls) <= 25  # a fixed 5 s poller: up to 40
        assert all(b - a >= schedule.floor / 2 - 1e-9 for a, b in itertools.pairwise(polls))
        n, fixed_lag = fixed_poller(task, rng)
        fixed_gets += n
        fixed_lags.append(fixed_lag)
    assert gets <= share * fixed_gets, (gets, fixed_gets)
    assert statistics.median(lags) <= median_bound
    assert statistics.median(lags) < statistics.median(fixed_lags)


def test_an_overdue_task_with_rising_progress_is_polled_on_its_forecast_not_at_the_floor():
    schedule = Schedule()
    task = sim_task("linear", estimate=60, takes=100)  # 67 % late, far past the ±30 % the schedule expects
    polls, lag = follow(schedule, task)
    late = [t for t in polls if t > 1.3 * 60]
    assert lag <= 1.0
    assert len(late) <= 5, polls  # at the 1 s floor it would be 22
    silent = sim_task("none", estimate=60, takes=100)  # the same task without progress: late polls thin out
    polls, lag = follow(schedule, silent)
    assert len([t for t in polls if t > 1.3 * 60]) <= 15 and lag <= 5


def test_scaled_schedule_divides_every_duration():
    fast = Schedule().scaled(10)
    assert (fast.floor, fast.ceiling, fast.default_estimate, fast.poll_worth) == (0.1, 3.0, 6.0, 0.04)
    samples = [Sample(3, 16), Sample(6, 50)]
    assert fast.delay(6, 8, samples) == pytest.approx(Schedule().delay(60, 80, [Sample(30, 16), Sample(60, 50)]) / 10)


def test_token_bucket():
    b = TokenBucket(rate=2, burst=2)
    assert [b.try_take(0.0) for _ in range(3)] == [True, True, False]
    assert b.try_take(0.5) and not b.try_take(0.5)
    assert b.try_take(10.0) and b.try_take(10.0) and not b.try_take(10.0)  # burst caps the saving


# --- the worker, stepped on a fake clock ------------------------------------------------------------


class Provider:
    """``GET /v1/tasks/{id}`` answered from simulator tasks on the test's clock, and their videos."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tasks: dict[str, SimTask] = {}
        self.gets: list[tuple[float, str]] = []
        self.transport = httpx.MockTransport(self.handle)

    def add(self, task: SimTask) -> Task:
        self.tasks[task.id] = task
        return Task.model_validate(
            {"id": task.id, "status": "pending", "task_info": {"estimated_time": task.estimated_time}}
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/files/"):
            return httpx.Response(200, content=make_mp4())
        task = self.tasks[request.url.path.rsplit("/", 1)[-1]]
        self.gets.append((self.clock(), task.id))
        status, progress = task.phase(self.clock())
        body: dict = {"id": task.id, "status": status, "progress": progress}
        body["task_info"] = {"estimated_time": task.estimated_time}
        if status == "completed":
            body["results"] = [f"{BASE}/files/{task.id}.mp4"]
        return httpx.Response(200, json=body)

    def gets_for(self, task_id: str) -> list[float]:
        return [t for t, i in self.gets if i == task_id]


def make_worker(store: Store, clock: Clock, provider: Provider) -> Worker:
    worker = Worker(store, clock=clock, download_client=httpx.Client(transport=provider.transport))
    worker.register_key(KEY, BASE, transport=provider.transport)
    return worker


def submit(store: Store, ws_id: str, provider: Provider, task: SimTask, now: float) -> str:
    req = GenerationRequest(model=MODEL, prompt=f"Run {task.id}", duration=4, quality="480p")
    run = store.create_run(ws_id, req, 1.0, True, key_fingerprint(KEY))
    store.claim_submit(run.id, now=now)
    store.mark_submitted(run.id, provider.add(task), now=now)
    return run.id


def step(worker: Worker, store: Store, clock: Clock, until: float) -> None:
    """Run the worker from one due poll to the next until every run ended or the clock reaches ``until``."""
    while clock.now < until:
        worker.run_once(clock.now)
        runs = store.unfinished_runs()
        if not runs:
            return
        due = min(r.next_poll_at if r.next_poll_at is not None else worker.schedule.first_poll_at(r) for r in runs)
        # A run left due waited for the rate limit: its turn comes with the next token.
        clock.now = min(max(due, clock.now + max(worker.bucket.wait_time(), 0.01)), until)


@pytest.fixture()
def rig(tmp_path):
    clock = Clock()
    provider = Provider(clock)
    store = Store(migrated(tmp_path))
    yield clock, provider, store, store.create_workspace()


def test_the_worker_follows_every_model_to_archived_with_few_gets(rig):
    clock, provider, store, ws = rig
    worker = make_worker(store, clock, provider)
    start = clock.now
    tasks = {m: noisy_tasks(m, 6, seed=31) for m in PROGRESS_MODELS}
    ids = {}
    try:
        # Submitted 2.5 s apart, the three models interleaved, as a workshop would.
        for i, task in enumerate(t for group in zip(*tasks.values(), strict=True) for t in group):
            step(worker, store, clock, until=start + 2.5 * i)
            task.created = clock.now = start + 2.5 * i
            ids[task.id] = submit(store, ws.id, provider, task, clock.now)
        step(worker, store, clock, until=start + 400)
    finally:
        worker.close()
    rng = random.Random(3)
    for model, model_tasks in tasks.items():
        share, worst, _ = BOUNDS[model]
        gets = fixed = 0
        for task in model_tasks:
            run = store.get_run(ids[task.id])
            assert run.status is RunStatus.ARCHIVED, (model, run.status, run.error_message)
            lag = run.completed_at - (task.created + task.schedule)
            assert 0 <= lag <= worst + 0.5, (model, lag)  # + the token bucket's wait: 18 runs share 2 GETs/s
            gets += run.poll_count
            assert run.poll_count == len(provider.gets_for(task.id)) <= 20
            fixed += fixed_poller(task, rng)[0]
        assert gets <= (share + 0.1) * fixed, (model, gets, fixed)  # 6 tasks: a wider margin than 60
    assert len(worker.samples) == 0  # the samples of finished runs are let go


def test_after_a_restart_the_schedule_resumes_from_the_stored_answer(rig):
    clock, provider, store, ws = rig
    start = clock.now
    task = sim_task("linear", estimate=80, takes=96, created=start, task_id="task-restart")
    run_id = submit(store, ws.id, provider, task, start)
    first = make_worker(store, clock, provider)
    step(first, store, clock, until=start + 0.62 * task.schedule)
    first.close()
    before = store.get_run(run_id)
    assert before.poll_count >= 2 and 0 < before.progress < 100
    assert stored_samples(before) == [Sample(before.last_polled_at - start, before.progress)]
    restart = clock.now
    second = make_worker(store, clock, provider)  # a new process: nothing in memory
    try:
        step(second, store, clock, until=start + 300)
    finally:
        second.close()
    after = store.get_run(run_id)
    assert after.status is RunStatus.ARCHIVED
    later = [t for t in provider.gets_for(task.id) if t >= restart]
    assert later[0] == pytest.approx(before.next_poll_at)  # the stored schedule, no burst at start
    assert after.completed_at - (start + task.schedule) <= 1.0
    assert len(later) <= 6, [round(t - start, 2) for t in later]


def test_a_stored_sample_is_only_trusted_when_its_poll_was_answered(rig):
    clock, provider, store, ws = rig
    run_id = submit(store, ws.id, provider, sim_task("linear", 80, 80, clock.now, "task-x"), clock.now)
    answer = Task(id="task-x", status="processing", progress=40)
    store.update_from_task(run_id, answer, clock.now + 50, now=clock.now + 40)
    assert stored_samples(store.get_run(run_id)) == [Sample(40, 40)]
    store.record_poll_error(run_id, "timeout", clock.now + 60, now=clock.now + 45)
    assert stored_samples(store.get_run(run_id)) == []


def test_polls_are_counted_per_run_like_the_provider_sees_them(rig):
    clock, provider, store, ws = rig
    worker = make_worker(store, clock, provider)
    task = sim_task("stepwise", estimate=40, takes=44, created=clock.now, task_id="task-count")
    run_id = submit(store, ws.id, provider, task, clock.now)
    try:
        step(worker, store, clock, until=clock.now + 200)
    finally:
        worker.close()
    assert worker.polls_for(run_id) == store.get_run(run_id).poll_count == len(provider.gets_for(task.id))
    assert Counter(i for _, i in provider.gets) == {task.id: worker.polls_for(run_id)}


# --- the worker against the simulator -------------------------------------------------------------


def test_against_the_simulator_every_model_ends_archived_with_a_bounded_number_of_gets(tmp_path):
    from lib.client import EvolinkClient
    from lib.simulator import serve_in_thread

    clock = Clock(time.time())
    sim = serve_in_thread(port=0, speed=1, clock=clock, data_dir=tmp_path / "sim", duration_noise=NOISE, seed=7)
    store = Store(tmp_path / "studio")
    ws = store.create_workspace()
    worker = Worker(store, clock=clock, allowed_hosts=["127.0.0.1"])
    worker.register_key(KEY, sim.base_url)
    runs: dict[str, tuple[str, str]] = {}  # run id -> (model, task id)
    try:
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            for model in PROGRESS_MODELS:
                sim.app.engine.progress = model  # for the tasks created from now on
                for duration in (4, 8):
                    req = GenerationRequest(model=MODEL, prompt=f"A {model} run", duration=duration, quality="480p")
                    run = store.create_run(ws.id, req, 1.0, True, key_fingerprint(KEY))
                    store.claim_submit(run.id, now=clock.now)
                    task = client.create(req)
                    store.mark_submitted(run.id, task, now=clock.now)
                    runs[run.id] = (model, task.id)
        for _model, task_id in runs.values():
            sim.app.engine.tasks[task_id].render.result(timeout=60)  # the videos are ready; time is ours now
        step(worker, store, clock, until=clock.now + 400)
    finally:
        worker.close()
        sim.stop()
    rng = random.Random(5)
    for model in PROGRESS_MODELS:
        worst = BOUNDS[model][1]
        gets = fixed = 0
        for run_id, (run_model, task_id) in runs.items():
            if run_model != model:
                continue
            run = store.get_run(run_id)
            sim_task = sim.app.engine.tasks[task_id]
            assert run.status is RunStatus.ARCHIVED, (model, run.status, run.error_message)
            assert sim_task.progress_model == model
            assert 0 <= run.completed_at - sim_task.completed_at() <= worst
            gets += run.poll_count
            fixed += fixed_poller(sim_task, rng)[0]
        assert gets <= fixed, (model, gets, fixed)  # two tasks each: only "fewer", the share is for many
    assert sim.app.state.stats["GET /v1/tasks/{task_id}"] == sum(store.get_run(r).poll_count for r in runs)


# --- who gets the next GET when they are scarce -----------------------------------------------------


@dataclass(frozen=True)
class Due:
    """Just what the schedule reads from a run."""

    id: str
    status: RunStatus = RunStatus.PROCESSING
    created_at: float = 0.0
    submitted_at: float | None = 0.0
    estimated_time: float | None = 100.0
    progress: int = 0
    last_polled_at: float | None = None
    poll_failures: int = 0
    next_poll_at: float | None = None


def test_scarce_gets_go_to_callbacks_then_to_the_likeliest_finishes():
    log = ProgressLog()
    now = 100.0
    windows = {"half": (90, 110), "sure": (95, 99), "early": (105, 130)}
    for run_id, (lo, hi) in windows.items():
        log.add(run_id, Sample(50, 40))
        log.expect(run_id, lo, hi)
    runs = [
        Due("early"),
        Due("half"),
        Due("fresh", estimated_time=120),  # never heard from here: its estimate says 84-156 s
        Due("sure"),
        Due("poked"),
        Due("saving", status=RunStatus.COMPLETED),
        Due("young", estimated_time=400),  # its estimate's window is far off
    ]
    order = [r.id for r in Schedule().in_turn(runs, now, {"poked"}, log)]
    assert order == ["poked", "saving", "sure", "half", "fresh", "early", "young"]


def test_a_callback_gets_the_next_token_before_runs_that_were_due_earlier(rig):
    clock, provider, store, ws = rig
    worker = make_worker(store, clock, provider)
    start = clock.now
    firsts = [sim_task("none", 40, 60, start, f"task-first-{i}") for i in range(4)]  # first looks due at 20 s
    ids = [submit(store, ws.id, provider, t, start) for t in firsts]
    called = sim_task("linear", 40, 21, start, "task-called")  # done at 21 s; the provider calls back
    called_id = submit(store, ws.id, provider, called, start)
    try:
        clock.now = start + 20
        worker.run_once(clock.now)  # one token: one of the first looks
        clock.now = start + 21.2
        worker.poke_task("task-called")
        worker.run_once(clock.now)
    finally:
        worker.close()
    assert provider.gets[-1] == (start + 21.2, "task-called")
    assert store.get_run(called_id).status is RunStatus.ARCHIVED
    assert sum(store.get_run(i).poll_count for i in ids) == 1  # the other first looks wait their turn
