"""lib.recovery and the store under it: a task id is attached once, to one unknown run, after one GET."""

from __future__ import annotations

import httpx
import pytest

from lib import recovery
from lib.client import EvolinkClient, key_fingerprint
from lib.schema import GenerationRequest, Task
from lib.status import RunStatus
from lib.store import Store, TaskTaken

REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A heron at dawn", duration=4)
TASK_ID = "task-unified-1761200000-paid0001"
KEY = "sk-facilitator"


@pytest.fixture
def store(db_url, tmp_path):
    return Store(db_url, data_dir=tmp_path)


def unknown(store, ws_id, fp="k_old"):
    run = store.create_run(ws_id, REQ, 10.0, True, fp)
    store.claim_submit(run.id)
    return store.mark_unknown(run.id, "submit_interrupted", "The app stopped while sending this run.")


def provider(answers: dict[str, httpx.Response], seen: list[str]) -> EvolinkClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return answers.get(request.url.path.rsplit("/", 1)[-1], httpx.Response(404, json={"error": {"code": "x"}}))

    return EvolinkClient(KEY, base_url="https://api.test", transport=httpx.MockTransport(handle), max_retries=0)


def test_attach_confirms_then_saves_with_the_key_that_read_it(store):
    ws = store.create_workspace()
    run = unknown(store, ws.id)
    seen: list[str] = []
    body = {"id": TASK_ID, "status": "completed", "progress": 100, "results": ["https://cdn.test/v.mp4"]}
    client = provider({TASK_ID: httpx.Response(200, json=body)}, seen)
    saved = recovery.attach(store, client, run, TASK_ID)
    assert seen == [f"/v1/tasks/{TASK_ID}"]
    assert (saved.status, saved.task_id, saved.video_url) == (RunStatus.COMPLETED, TASK_ID, "https://cdn.test/v.mp4")
    assert saved.key_fingerprint == key_fingerprint(KEY) and saved.finished_at is None
    with pytest.raises(recovery.AttachRefused, match="Only a run whose outcome is unknown"):
        recovery.attach(store, client, saved, TASK_ID)


def test_a_provider_naming_another_task_is_refused(store):
    ws = store.create_workspace()
    run = unknown(store, ws.id)
    client = provider({TASK_ID: httpx.Response(200, json={"id": "task-unified-other", "status": "pending"})}, [])
    with pytest.raises(recovery.AttachRefused, match="different task"):
        recovery.attach(store, client, run, TASK_ID)
    assert store.get_run(run.id).task_id is None


def test_an_outage_saves_nothing_and_says_to_try_later(store):
    ws = store.create_workspace()
    run = unknown(store, ws.id)
    client = provider({TASK_ID: httpx.Response(503, text="busy")}, [])
    with pytest.raises(recovery.AttachRefused, match="could not be checked right now"):
        recovery.attach(store, client, run, TASK_ID)
    assert store.get_run(run.id).status == RunStatus.UNKNOWN


def test_the_database_keeps_a_task_to_one_run_whoever_writes(store):
    ws = store.create_workspace()
    a, b = unknown(store, ws.id), unknown(store, ws.id)
    task = Task(id=TASK_ID, status="pending")
    assert store.attach_task(a.id, task, "k_a").task_id == TASK_ID
    with pytest.raises(TaskTaken):
        store.attach_task(b.id, task, "k_b")
    assert store.get_run(b.id).task_id is None


def test_a_provider_answering_a_post_with_a_task_another_run_holds_leaves_it_unknown(store):
    ws = store.create_workspace()
    first, second = (store.create_run(ws.id, REQ, 1.0, True, "k") for _ in range(2))
    for run in (first, second):
        store.claim_submit(run.id)
    store.mark_submitted(first.id, Task(id=TASK_ID, status="pending"))
    got = store.mark_submitted(second.id, Task(id=TASK_ID, status="pending"))
    assert (got.status, got.error_code, got.task_id) == (RunStatus.UNKNOWN, "duplicate_task", None)
    assert store.run_for_task(TASK_ID).id == first.id
