"""server.py's own routes on the real server (`streamlit run server.py`, demo mode, no browser):
/api/health, /api/media/<token> with HTTP range semantics, and /api/hooks/evolink/<secret>."""

from __future__ import annotations

import http.client
import time

import httpx
import pytest

from lib import archive, hooks
from lib.client import key_fingerprint
from lib.schema import GenerationRequest, Task, TaskInfo
from lib.settings import DEMO_API_KEY
from lib.store import Store
from tests.support.server import AppProcess
from tests.support.waiting import wait_until

REQ = GenerationRequest(
    model="seedance-2.0-fast-text-to-video", prompt="A red kite over dunes, wide shot", duration=4, quality="480p"
)
AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = AppProcess(tmp_path_factory.mktemp("studio-server")).start()
    yield app
    app.stop()


def _sim_task(server) -> Task:
    """A real task on the app's own demo simulator (/sim)."""
    r = httpx.post(f"{server.url}/sim/v1/videos/generations", json=REQ.to_payload(), headers=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    return Task.model_validate(r.json())


def _completed(server, task_id: str) -> Task:
    """The simulator's task once it has completed."""

    def completed() -> Task | None:
        task = Task.model_validate(httpx.get(f"{server.url}/sim/v1/tasks/{task_id}", headers=AUTH).json())
        assert task.status in ("pending", "processing", "completed"), task
        return task if task.status == "completed" else None

    return wait_until(completed, interval=0.2)


@pytest.fixture(scope="module")
def archived(server):
    """(token, bytes) of a video archived with lib.archive from a finished simulator task."""
    task = _completed(server, _sim_task(server).id)
    saved = archive.archive_video(
        task.video_url, server.data_dir, archive.expectation(REQ), allowed_hosts=["127.0.0.1"]
    )
    data = (server.data_dir / "media" / f"{saved.token}.mp4").read_bytes()
    assert len(data) == saved.size > 1000
    return saved.token, data


def _raw(server, method: str, path: str) -> int:
    """Send the path byte for byte (httpx would normalise dot segments)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


# --- health -------------------------------------------------------------------------------


def test_health(server):
    r = httpx.get(f"{server.url}/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "mode": "demo", "worker": "running"}


# --- media ----------------------------------------------------------------------------------


def test_media_serves_the_whole_file(server, archived):
    token, data = archived
    r = httpx.get(f"{server.url}/api/media/{token}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["accept-ranges"] == "bytes"
    assert int(r.headers["content-length"]) == len(data)
    assert "attachment" not in r.headers.get("content-disposition", "")
    assert r.content == data


def test_media_range_requests(server, archived):
    token, data = archived
    url = f"{server.url}/api/media/{token}"
    r = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert r.content == data[100:200]
    r = httpx.get(url, headers={"Range": f"bytes={len(data) - 10}-"})  # open-ended: the tail
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"
    assert r.content == data[-10:]
    r = httpx.get(url, headers={"Range": f"bytes={len(data) + 10}-{len(data) + 20}"})
    assert r.status_code == 416


def test_media_head_and_download(server, archived):
    token, data = archived
    r = httpx.head(f"{server.url}/api/media/{token}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "video/mp4"
    assert int(r.headers["content-length"]) == len(data)
    assert r.content == b""
    r = httpx.get(f"{server.url}/api/media/{token}?download=1")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment")
    assert "seedance-run.mp4" in r.headers["content-disposition"]
    assert r.content == data


@pytest.mark.parametrize(
    "path",
    [
        "/api/media/../../etc/passwd",
        "/api/media/..%2f..%2fetc%2fpasswd",
        "/api/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/media/short",
        "/api/media/" + "a" * 31,
        "/api/media/" + "a" * 33,
        "/api/media/" + "a" * 32,  # well formed, no such file
        "/api/media/" + "a" * 16 + "%2f" + "a" * 13,
        "/api/media/" + "a" * 32 + ".mp4",
        "/api/media/",
    ],
)
def test_media_rejects_anything_but_a_known_token(server, path):
    assert _raw(server, "GET", path) == 404
    assert _raw(server, "HEAD", path) == 404


def test_media_token_with_a_traversal_suffix_is_404(server, archived):
    token, _ = archived
    assert _raw(server, "GET", f"/api/media/{token}/..%2f..%2fstudio.db") == 404
    assert _raw(server, "GET", f"/api/media/{token}%2f..%2f..%2fhook_secret") == 404


# --- provider callbacks ---------------------------------------------------------------------


def _seed_run(server) -> tuple[Store, str]:
    """A submitted run on a real simulator task that the worker will not poll for an hour by itself."""
    db = Store(server.data_dir)
    ws = db.create_workspace("Hooks")
    run = db.create_run(ws.id, REQ, 40.0, True, key_fingerprint(DEMO_API_KEY))
    assert db.claim_submit(run.id)
    # A long estimate keeps the worker's first poll far away until the deferral below.
    task = _sim_task(server).model_copy(update={"task_info": TaskInfo(estimated_time=3600)})
    db.mark_submitted(run.id, task)
    db.defer(run.id, time.time() + 3600)
    return db, run.id


def _hook(server) -> str:
    return f"{server.url}/api/hooks/evolink/{hooks.hook_secret(server.data_dir)}"


def _worker_served_a_callback(server) -> None:
    """A callback for a fresh run, answered by a poll: the worker has been through its loop since."""
    db, run_id = _seed_run(server)
    assert httpx.post(_hook(server), json={"id": db.get_run(run_id).task_id}).status_code == 200
    wait_until(lambda: db.get_run(run_id).poll_count >= 1, message="the callback did not trigger a poll")


def test_hook_with_wrong_secret_is_404(server):
    hooks.hook_secret(server.data_dir)
    for secret in ("wrong", "x" * 32, hooks.hook_secret(server.data_dir)[:-1]):
        r = httpx.post(f"{server.url}/api/hooks/evolink/{secret}", json={"id": "task-unified-1"})
        assert r.status_code == 404


def test_hook_for_an_unknown_task_is_404_and_changes_nothing(server):
    db, run_id = _seed_run(server)
    before = db.get_run(run_id)
    url = f"{server.url}/api/hooks/evolink/{hooks.hook_secret(server.data_dir)}"
    for body in ({"id": "task-unified-nobody-knows"}, {"id": 42}, {"task": before.task_id}, [before.task_id]):
        assert httpx.post(url, json=body).status_code == 404
    assert httpx.post(url, content=b"not json", headers={"content-type": "application/json"}).status_code == 404
    _worker_served_a_callback(server)
    assert db.get_run(run_id) == before  # nothing was poked


def test_hook_for_a_known_task_makes_the_worker_poll_it(server):
    db, run_id = _seed_run(server)
    _, quiet_id = _seed_run(server)  # not called back, not due for an hour: the worker leaves it alone
    run = db.get_run(run_id)
    assert run.poll_count == 0 and run.status == "pending"
    _completed(server, run.task_id)  # so the one poll the callback triggers finds it done
    r = httpx.post(
        _hook(server), json={"id": run.task_id, "status": "completed", "results": ["http://evil.example/x.mp4"]}
    )
    assert r.status_code == 200
    run = wait_until(lambda: (got := db.get_run(run_id)).poll_count >= 1 and got, message="no poll after the callback")
    assert db.get_run(quiet_id).poll_count == 0
    # The body's claims are never trusted: what the run holds came from the GET.
    assert run.video_url is None or "evil.example" not in run.video_url
    run = wait_until(lambda: (got := db.get_run(run_id)).finished and got, interval=0.2)
    assert run.status == "archived"
    assert httpx.head(f"{server.url}/api/media/{run.media_token}").status_code == 200
