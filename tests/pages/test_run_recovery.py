"""Run cards offer the way back: paste a personal key again, or attach the provider's task id to an unknown run."""

from __future__ import annotations

import pytest

from lib import demo, recovery
from lib import worker as wk
from lib.client import key_fingerprint
from lib.schema import GenerationRequest, Task
from lib.settings import load_settings
from lib.status import RunStatus

PAGE = "pages/gallery.py"
APP_URL = "http://127.0.0.1:8501/gallery"
REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A heron at dawn", duration=4)
PERSONAL = "sk-pasted-before-the-restart"


@pytest.fixture
def running_worker(demo_app):
    """The process's worker, as the server's lifespan starts it (its thread polls the fake provider)."""
    w = wk.start(load_settings(), base_url="http://127.0.0.1:8501/sim")
    yield w
    wk.stop()


def _open(demo_app, ws_id):
    return demo_app.open(PAGE, query_params={"ws": ws_id}, context={"url": APP_URL})


# --- a missing key ------------------------------------------------------------------------------


def test_a_run_whose_key_is_gone_asks_for_it_and_resumes_once_pasted(demo_app, provider, running_worker):
    db = demo_app.store
    ws = db.create_workspace("Workshop")
    run = db.create_run(ws.id, REQ, 10.0, True, key_fingerprint(PERSONAL))
    assert db.claim_submit(run.id)
    db.mark_submitted(run.id, Task(id="task-unified-1-personal", status="pending"))
    at = _open(demo_app, ws.id)
    card = at.container(key=f"run-{run.id}")
    assert [w.value for w in card.warning] == [recovery.MISSING_KEY]
    assert not card.get("progress")  # no "Queued · 0% · any moment now" forever

    at.text_input(key=f"rekey-{run.id}").input("sk-some-other-key").run()
    assert "That is not the key this run was made with." in [c.value for c in at.caption]
    assert not running_worker.has_key(key_fingerprint("sk-some-other-key"))

    at.text_input(key=f"rekey-{run.id}").input(PERSONAL).run()
    assert running_worker.has_key(run.key_fingerprint)
    assert at.session_state[f"rekey-{run.id}"] == ""  # the key left the session
    assert recovery.MISSING_KEY not in [w.value for w in at.warning]  # the run goes on: nothing waits for anyone


def test_demo_runs_never_miss_their_key(demo_app, running_worker):
    db = demo_app.store
    ws = db.create_workspace("Demo")
    run = db.create_run(ws.id, REQ, 10.0, True, demo.FINGERPRINT)
    db.claim_submit(run.id)
    db.mark_submitted(run.id, Task(id="task-unified-2-demo", status="pending"))
    at = _open(demo_app, ws.id)
    assert recovery.MISSING_KEY not in [w.value for w in at.warning]


# --- attaching a task id ----------------------------------------------------------------------------


@pytest.fixture
def unknown_run(demo_app, provider):
    db = demo_app.store
    ws = db.create_workspace("Workshop")
    run = db.create_run(ws.id, REQ, 10.0, True, demo.FINGERPRINT)
    assert db.claim_submit(run.id)
    db.mark_unknown(run.id, "submit_interrupted", "The app stopped while sending this run.")
    provider.tasks["task-unified-1761200000-paid0001"] = {
        "id": "task-unified-1761200000-paid0001",
        "status": "processing",
        "progress": 40,
        "task_info": {"estimated_time": 60},
    }
    return db, ws, run


def _attach(at, run_id, text):
    at.text_input(key=f"attach-{run_id}").input(text)
    at.button(key=f"attach-go-{run_id}").click().run()
    assert not at.exception, at.exception
    return at


def test_an_unknown_run_takes_the_task_id_after_one_get(demo_app, provider, unknown_run):
    db, ws, run = unknown_run
    at = _open(demo_app, ws.id)
    assert [e.label for e in at.expander if "Attach" in e.label] == ["Attach the provider's task id"]
    provider.requests.clear()
    _attach(at, run.id, "  task-unified-1761200000-paid0001 \n")
    assert provider.requests == [("GET", "/sim/v1/tasks/task-unified-1761200000-paid0001")]
    got = db.get_run(run.id)
    assert (got.status, got.task_id, got.progress) == (RunStatus.PROCESSING, "task-unified-1761200000-paid0001", 40)
    assert got.error_code is None and got.key_fingerprint == demo.FINGERPRINT
    assert not [e for e in at.expander if "Attach" in e.label]  # followed now, no longer unknown


@pytest.mark.parametrize(
    ("text", "words", "gets"),
    [
        ("", "Paste the task id", 0),
        ("../v1/credits", "not a task id", 0),
        ("task unified 1", "not a task id", 0),
        ("task-unified-1761200000-nobody00", "does not know that task id", 1),
    ],
)
def test_a_bad_task_id_is_refused_and_nothing_is_saved(demo_app, provider, unknown_run, text, words, gets):
    db, ws, run = unknown_run
    at = _open(demo_app, ws.id)
    provider.requests.clear()
    _attach(at, run.id, text)
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert len(provider.requests) == gets
    assert db.get_run(run.id).status == RunStatus.UNKNOWN and db.get_run(run.id).task_id is None


def test_a_task_id_belongs_to_one_run_only(demo_app, provider, unknown_run):
    db, ws, run = unknown_run
    other = db.create_run(ws.id, REQ, 10.0, True, demo.FINGERPRINT)
    db.claim_submit(other.id)
    db.mark_submitted(other.id, Task(id="task-unified-1761200000-paid0001", status="pending"))
    at = _open(demo_app, ws.id)
    provider.requests.clear()
    _attach(at, run.id, "task-unified-1761200000-paid0001")
    assert any("already belongs to another run" in e.value for e in at.error)
    assert provider.requests == [] and db.get_run(run.id).task_id is None
