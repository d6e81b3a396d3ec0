"""The simulator's task timing: duration noise around the estimate, and the three progress models.

Everything runs on a clock the test moves; only the video renders take real time.
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from lib.simulator import create_app
from lib.simulator.__main__ import parse_args
from lib.simulator.engine import PROGRESS_MODELS, Engine, base_seconds
from tests.support.simulator import AUTH, MODEL, TestClient
from tests.support.waiting import Clock

TYPICAL = base_seconds(4, "480p")  # speed 1: the provider's own time for a 4 s 480p run
# Shares of a task's schedule at which the tests look: queued, early, just before and after
# the middle of the processing time, late, and the last moment before the end.
LOOKS = (0.05, 0.3, 0.5, 0.6, 0.8, 0.999)
# A task told to fail keeps its schedule but renders nothing: cheap to make many.
NO_RENDER = "[fail:service_error]"


@pytest.fixture()
def make(tmp_path):
    """make(**options) -> (app, client, clock): a simulator at speed 1 on a test clock."""
    made = []

    def build(**options):
        clock = Clock()
        app = create_app(speed=1, data_dir=tmp_path / f"sim{len(made)}", clock=clock, **options)
        client = TestClient(app, headers=AUTH)
        client.__enter__()
        made.append((app, client))
        return app, client, clock

    yield build
    for app, client in made:
        client.__exit__(None, None, None)
        app.engine.cleanup()


def post(client, prompt: str = "A lighthouse at dusk", **body) -> dict:
    payload = {"model": MODEL, "prompt": prompt, "duration": 4, "quality": "480p", **body}
    resp = client.post("/v1/videos/generations", json=payload)
    assert resp.status_code == 200, resp.text
    return resp.json()


def look(client, clock: Clock, task: dict, at: float) -> dict:
    """The task as a poll sees it ``at`` seconds after it was created."""
    clock.now = task["created_at"] + at
    return client.get(f"/v1/tasks/{task['id']}").json()


def created(app, client, clock: Clock, n: int, prefix: str = "A") -> list[dict]:
    tasks = []
    for i in range(n):
        body = post(client, f"{prefix} run {i}: a paper boat")
        body["created_at"] = clock.now
        body["schedule"] = app.engine.tasks[body["id"]].schedule
        tasks.append(body)
    return tasks


# --- duration noise -------------------------------------------------------------------------


def test_with_noise_tasks_finish_off_their_estimate_within_the_bound(make):
    app, client, clock = make(duration_noise=0.3, seed=11)
    many = created(app, client, clock, 40, prefix=NO_RENDER)
    schedules = [t["schedule"] for t in many]
    assert all(t["task_info"]["estimated_time"] == round(TYPICAL) for t in many)  # the estimate stays typical
    assert all(0.7 * TYPICAL <= s <= 1.3 * TYPICAL for s in schedules)
    assert min(schedules) < 0.85 * TYPICAL and max(schedules) > 1.15 * TYPICAL  # early and late ones
    assert sum(abs(s - TYPICAL) > 0.1 * TYPICAL for s in schedules) >= 20  # uniform ±30 %: about 2 in 3
    assert abs(sum(schedules) / len(schedules) - TYPICAL) < 0.1 * TYPICAL
    for task in created(app, client, clock, 3):  # what a poll sees: running just before its own end, done after
        app.engine.tasks[task["id"]].render.result(timeout=60)
        assert look(client, clock, task, task["schedule"] - 0.05)["status"] == "processing"
        done = look(client, clock, task, task["schedule"] + 0.05)
        assert (done["status"], done["progress"]) == ("completed", 100)
        assert abs(task["schedule"] - task["task_info"]["estimated_time"]) > 0.01


def test_the_same_seed_draws_the_same_durations(make):
    runs = []
    for seed in (11, 11, 12):
        app, client, clock = make(duration_noise=0.3, seed=seed)
        runs.append([t["schedule"] for t in created(app, client, clock, 4, prefix=NO_RENDER)])
    assert runs[0] == runs[1] != runs[2]


def test_without_noise_a_task_takes_exactly_its_typical_time(make):
    app, client, clock = make()
    assert app.state.settings["duration_noise"] == 0.0 and app.state.settings["progress"] == "linear"
    assert [t["schedule"] for t in created(app, client, clock, 3, prefix=NO_RENDER)] == [TYPICAL] * 3


# --- progress models ------------------------------------------------------------------------


def progress_seen(app, client, clock, model: str) -> tuple[dict, list[int], dict]:
    app.engine.progress = model  # tasks created from now on
    task = created(app, client, clock, 1, prefix=model)[0]
    seen = [look(client, clock, task, share * task["schedule"]) for share in LOOKS]
    assert [b["status"] for b in seen] == ["pending"] + ["processing"] * (len(LOOKS) - 1)
    app.engine.tasks[task["id"]].render.result(timeout=60)
    return task, [b["progress"] for b in seen], look(client, clock, task, task["schedule"] + 0.01)


def test_linear_progress_rises_steadily(make):
    app, client, clock = make(duration_noise=0.3, seed=3)
    _task, progress, done = progress_seen(app, client, clock, "linear")
    assert progress == sorted(progress) and progress[0] == 0 and progress[-1] == 99
    assert len(set(progress)) == len(progress)  # a new value at every look
    assert (done["status"], done["progress"]) == ("completed", 100)


def test_stepwise_progress_is_0_then_50_from_halfway_then_100(make):
    app, client, clock = make(duration_noise=0.3, seed=3, progress="stepwise")
    task, progress, done = progress_seen(app, client, clock, "stepwise")
    # Halfway through the processing time (after the queued tenth) the step comes.
    middle = (0.1 + 0.9 * 0.5) * task["schedule"]
    assert look(client, clock, task, middle - 0.01)["progress"] == 0
    assert look(client, clock, task, middle + 0.01)["progress"] == 50
    assert progress == [0, 0, 0, 50, 50, 50]
    assert (done["status"], done["progress"]) == ("completed", 100)


def test_no_progress_is_0_until_done(make):
    app, client, clock = make(progress="none")
    _task, progress, done = progress_seen(app, client, clock, "none")
    assert progress == [0] * len(LOOKS)
    assert (done["status"], done["progress"]) == ("completed", 100)


@pytest.mark.parametrize(("model", "waiting"), [("linear", 99), ("stepwise", 50), ("none", 0)])
def test_a_late_render_keeps_each_models_last_progress(make, model, waiting):
    app, client, clock = make(progress=model)
    task = created(app, client, clock, 1)[0]
    sim_task = app.engine.tasks[task["id"]]
    real, sim_task.render = sim_task.render, Future()  # the renderer has not finished yet
    body = look(client, clock, task, task["schedule"] + 100)
    assert (body["status"], body["progress"]) == ("processing", waiting)
    real.result(timeout=60)
    sim_task.render = real
    assert look(client, clock, task, task["schedule"] + 100)["status"] == "completed"


def test_a_restarted_simulator_keeps_each_tasks_timing_and_model(tmp_path):
    clock = Clock()
    first = create_app(speed=1, data_dir=tmp_path, clock=clock, duration_noise=0.3, seed=5, progress="stepwise")
    with TestClient(first, headers=AUTH) as client:
        task = post(client)
        first.engine.tasks[task["id"]].render.result(timeout=60)
    schedule = first.engine.tasks[task["id"]].schedule
    first.engine.cleanup()
    second = create_app(speed=1, data_dir=tmp_path, clock=clock)  # default options: linear, no noise
    try:
        with TestClient(second, headers=AUTH) as client:
            clock.now += 0.8 * schedule
            assert client.get(f"/v1/tasks/{task['id']}").json()["progress"] == 50
            assert second.engine.tasks[task["id"]].schedule == schedule
    finally:
        second.engine.cleanup()


# --- options ---------------------------------------------------------------------------------


def test_options_are_checked():
    for bad in ({"duration_noise": 1.0}, {"duration_noise": -0.1}, {"progress": "exponential"}):
        with pytest.raises(ValueError):
            Engine(**bad)
    assert PROGRESS_MODELS == ("linear", "stepwise", "none")


def test_command_line_takes_noise_progress_and_seed(capsys):
    args = parse_args(["--duration-noise", "0.3", "--progress", "stepwise", "--seed", "4"])
    assert (args.duration_noise, args.progress, args.seed) == (0.3, "stepwise", 4)
    defaults = parse_args([])
    assert (defaults.duration_noise, defaults.progress) == (0.0, "linear")
    for bad in (["--duration-noise", "1.5"], ["--progress", "sometimes"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    assert "duration-noise" in capsys.readouterr().err
