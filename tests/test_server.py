"""server.py's own routes on the real server (`streamlit run server.py`, no browser): /api/health,
/api/media/<token> with HTTP range semantics and its stills, /api/events/<workspace> (run notices
as Server-Sent Events), /api/hooks/evolink/<secret> with its body cap, and the security headers on
every response.

The server runs in live mode against a simulator in this process (the demo's own simulator
accepts only the app's per-process key, so a test cannot create tasks on it)."""

from __future__ import annotations

import dataclasses
import http.client
import json
import signal
import threading
import time

import httpx
import pytest

from lib import archive, hooks, posters
from lib.client import key_fingerprint
from lib.schema import GenerationRequest, Task, TaskInfo
from lib.store import Store
from lib.transfer import CALLBACK_MAX
from tests.support.server import SERVER_GROUP, SERVER_KEY, AppProcess
from tests.support.waiting import wait_until

# Under `make test-fast` (xdist's loadgroup) these tests run in one process:
# the app server and its simulator are started once, not once per process.
pytestmark = pytest.mark.xdist_group(SERVER_GROUP)

REQ = GenerationRequest(
    model="seedance-2.0-fast-text-to-video", prompt="A red kite over dunes, wide shot", duration=4, quality="480p"
)
KEY = SERVER_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def sim(studio_sim):
    return studio_sim


@pytest.fixture(scope="module")
def server(studio_server):
    return studio_server


def _sim_task(sim) -> Task:
    """A real task on the provider's stand-in."""
    r = httpx.post(f"{sim.base_url}/v1/videos/generations", json=REQ.to_payload(), headers=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    return Task.model_validate(r.json())


def _completed(sim, task_id: str) -> Task:
    """The simulator's task once it has completed."""

    def completed() -> Task | None:
        task = Task.model_validate(httpx.get(f"{sim.base_url}/v1/tasks/{task_id}", headers=AUTH).json())
        assert task.status in ("pending", "processing", "completed"), task
        return task if task.status == "completed" else None

    return wait_until(completed, interval=0.2)


@pytest.fixture(scope="module")
def archived(server, sim):
    """(token, bytes) of a video archived with lib.archive from a finished simulator task."""
    task = _completed(sim, _sim_task(sim).id)
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


def test_health_reports_the_database_and_the_disk(server):
    r = httpx.get(f"{server.url}/api/health")
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("status", "mode", "worker", "database", "disk")} == {
        "status": "ok",
        "mode": "live",
        "worker": "running",
        "database": "ok",
        "disk": "ok",
    }
    assert body["free_bytes"] > 0 and "problems" not in body


def test_live_mode_serves_no_simulator(server):
    r = httpx.get(f"{server.url}/sim/v1/credits", headers=AUTH)
    assert r.headers["content-type"].startswith("text/html")  # Streamlit's page for any other path, no API


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


@pytest.mark.parametrize("value", ["bytes=5-2", "bytes=abc-def", "bytes=", "pages=1-2", "bytes=-", "5-10", "bytes=,,"])
def test_a_malformed_range_gets_the_whole_file(server, archived, value):
    token, data = archived
    r = httpx.get(f"{server.url}/api/media/{token}", headers={"Range": value})
    assert r.status_code == 200, value
    assert r.content == data


def test_media_head_and_download(server, archived):
    token, data = archived
    r = httpx.head(f"{server.url}/api/media/{token}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "video/mp4"
    assert int(r.headers["content-length"]) == len(data)
    assert r.content == b""
    r = httpx.get(f"{server.url}/api/media/{token}?download=1")  # no run of that id: a plain name
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="seedance-run.mp4"'
    assert r.content == data


def test_a_download_is_named_after_its_runs_prompt(server, archived):
    token, data = archived
    db = Store(server.data_dir)
    ws = db.create_workspace("Downloads")
    run = db.create_run(ws.id, REQ.model_copy(update={"prompt": "Über den Dünen: a red kite"}), 40.0, True, "k")
    db.claim_submit(run.id)
    db.mark_submitted(run.id, Task(id=f"task-unified-dl-{run.id}", status="pending"))
    db.update_from_task(run.id, Task(id=f"task-unified-dl-{run.id}", status="completed", results=["https://x/v.mp4"]))
    db.mark_archived(run.id, token, len(data), 4.0, 864, 496)
    r = httpx.get(f"{server.url}/api/media/{token}?download={run.id}")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-disposition"] == (
        f'attachment; filename="uber-den-dunen-a-red-kite-{run.id}.mp4"; '
        f"filename*=UTF-8''%C3%9Cber-den-D%C3%BCnen-a-red-kite-{run.id}.mp4"
    )
    other = "B" * 32  # a run's id with another video's token names nothing: the plain name
    assert (
        "seedance-run.mp4"
        in httpx.get(f"{server.url}/api/media/{token}?download={run.id}x").headers["content-disposition"]
    )
    assert httpx.get(f"{server.url}/api/media/{other}?download={run.id}").status_code == 404


# --- stills -------------------------------------------------------------------------------------


def test_poster_and_contact_sheet_are_served_as_cacheable_jpegs(server, archived):
    token, _ = archived
    for name, path in (("poster", posters.poster_path), ("sheet", posters.sheet_path)):
        r = httpx.get(f"{server.url}/api/media/{token}/{name}.jpg")
        assert r.status_code == 200, name
        assert r.headers["content-type"] == "image/jpeg"
        assert "max-age" in r.headers["cache-control"]
        assert r.content == path(server.data_dir, token).read_bytes()
        assert r.content[:2] == b"\xff\xd8"


def test_stills_of_a_video_saved_before_stills_existed_are_made_on_first_request(server, archived):
    _, data = archived
    token = "0ldV1de0" + "x" * 24
    (server.data_dir / "media" / f"{token}.mp4").write_bytes(data)
    assert not posters.poster_path(server.data_dir, token).exists()
    r = httpx.get(f"{server.url}/api/media/{token}/poster.jpg", timeout=30)
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    assert posters.poster_path(server.data_dir, token).is_file()
    assert posters.sheet_path(server.data_dir, token).is_file()


@pytest.mark.parametrize(
    "suffix",
    ["/poster.png", "/poster.jpg/..", "/..%2fposter.jpg", "/sheet.jpeg", "/", "/thumb.jpg", "/poster.jpg%00"],
)
def test_stills_answer_only_to_their_exact_names(server, archived, suffix):
    token, _ = archived
    assert _raw(server, "GET", f"/api/media/{token}{suffix}") == 404


def test_stills_of_an_unknown_token_are_404(server):
    for name in ("poster", "sheet"):
        assert _raw(server, "GET", f"/api/media/{'a' * 32}/{name}.jpg") == 404
        assert _raw(server, "GET", f"/api/media/{'a' * 31}/{name}.jpg") == 404


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


# --- run notices ------------------------------------------------------------------------------


class Listener:
    """An event-stream client on a thread of its own, as a browser's EventSource would be."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lines: list[str] = []
        self.notices: list[dict] = []
        self.status: int | None = None
        self.headers: httpx.Headers | None = None
        self.ended = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            with self._client.stream("GET", self.url) as r:
                self.status, self.headers = r.status_code, r.headers
                for line in r.iter_lines():
                    self.lines.append(line)
                    if line.startswith("data: "):
                        self.notices.append(json.loads(line.removeprefix("data: ")))
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def close(self) -> None:
        """Stop using the stream (its thread ends with the connection)."""
        self._client.close()


@pytest.mark.parametrize("path", ["/api/events/nosuchws1", "/api/events/a", "/api/events/x y z"])
def test_events_of_an_unknown_workspace_are_404(server, path):
    assert _raw(server, "GET", path.replace(" ", "%20")) == 404


def test_events_paths_that_climb_out_are_refused(server):
    assert _raw(server, "GET", "/api/events/..%2f..%2fetc") in (400, 404)  # Streamlit's own guard may answer first


def test_events_stream_tells_an_open_page_what_changed_in_its_workspace(server, sim):
    db, run_id = _seed_run(server, sim)
    ws_id = db.get_run(run_id).workspace_id
    listener = Listener(f"{server.url}/api/events/{ws_id}")
    try:
        wait_until(lambda: listener.lines, message="the stream sent nothing")
        assert listener.status == 200
        assert listener.headers["content-type"].startswith("text/event-stream")
        assert listener.headers["cache-control"] == "no-cache"
        assert listener.lines[0].startswith("retry: ")
        # The worker changes the run in the server's process: a callback makes it poll now.
        assert httpx.post(_hook(server), json={"id": db.get_run(run_id).task_id}).status_code == 200
        notice = wait_until(lambda: next((n for n in listener.notices if n["run"] == run_id), None))
        assert notice["kind"] == "updated" and isinstance(notice["seq"], int)
        assert notice["card"]["id"] == run_id and notice["card"]["prompt"] == REQ.prompt
        assert "event: run" in listener.lines
    finally:
        listener.close()


def test_an_open_stream_does_not_hold_up_shutdown(tmp_path):
    app = AppProcess(tmp_path / "data").start()
    try:
        ws_id = Store(app.data_dir).create_workspace("Closing").id
        listener = Listener(f"{app.url}/api/events/{ws_id}")
        wait_until(lambda: listener.lines, message="the stream sent nothing")
        app.stop()  # SIGTERM; after 30 s it would be SIGKILL
        assert app.proc.returncode != -signal.SIGKILL, app.log()
        assert listener.ended.wait(10)  # the server ended the stream, the client did not
    finally:
        app.kill()


# --- provider callbacks ---------------------------------------------------------------------


def _seed_run(server, sim) -> tuple[Store, str]:
    """A submitted run on a real simulator task that the worker will not poll for an hour by itself."""
    db = Store(server.data_dir)
    ws = db.create_workspace("Hooks")
    run = db.create_run(ws.id, REQ, 40.0, True, key_fingerprint(KEY))
    assert db.claim_submit(run.id)
    # A long estimate keeps the worker's first poll far away until the deferral below.
    task = _sim_task(sim).model_copy(update={"task_info": TaskInfo(estimated_time=3600)})
    db.mark_submitted(run.id, task)
    db.defer(run.id, time.time() + 3600)
    return db, run.id


def _hook(server) -> str:
    return f"{server.url}/api/hooks/evolink/{hooks.hook_secret(server.data_dir)}"


def _worker_served_a_callback(server, sim) -> None:
    """A callback for a fresh run, answered by a poll: the worker has been through its loop since."""
    db, run_id = _seed_run(server, sim)
    assert httpx.post(_hook(server), json={"id": db.get_run(run_id).task_id}).status_code == 200
    wait_until(lambda: db.get_run(run_id).poll_count >= 1, message="the callback did not trigger a poll")


def test_hook_with_wrong_secret_is_404(server):
    hooks.hook_secret(server.data_dir)
    for secret in ("wrong", "x" * 32, hooks.hook_secret(server.data_dir)[:-1]):
        r = httpx.post(f"{server.url}/api/hooks/evolink/{secret}", json={"id": "task-unified-1"})
        assert r.status_code == 404


def test_hook_for_an_unknown_task_is_404_and_changes_nothing(server, sim):
    db, run_id = _seed_run(server, sim)
    before = db.get_run(run_id)
    url = f"{server.url}/api/hooks/evolink/{hooks.hook_secret(server.data_dir)}"
    for body in ({"id": "task-unified-nobody-knows"}, {"id": 42}, {"task": before.task_id}, [before.task_id]):
        assert httpx.post(url, json=body).status_code == 404
    assert httpx.post(url, content=b"not json", headers={"content-type": "application/json"}).status_code == 404
    _worker_served_a_callback(server, sim)
    # Nothing was poked; the worker may have taken or renewed the run's lease (it follows every unfinished run).
    unleased = lambda run: dataclasses.replace(run, lease_owner=None, lease_expires=None)  # noqa: E731
    assert unleased(db.get_run(run_id)) == unleased(before)


def test_hook_for_a_known_task_makes_the_worker_poll_it(server, sim):
    db, run_id = _seed_run(server, sim)
    _, quiet_id = _seed_run(server, sim)  # not called back, not due for an hour: the worker leaves it alone
    run = db.get_run(run_id)
    assert run.poll_count == 0 and run.status == "pending"
    _completed(sim, run.task_id)  # so the one poll the callback triggers finds it done
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


def test_a_hook_body_past_the_cap_is_refused_before_it_is_read(server, sim):
    db, run_id = _seed_run(server, sim)
    task_id = db.get_run(run_id).task_id
    padding = {"id": task_id, "pad": "x" * (CALLBACK_MAX + 10)}
    r = httpx.post(_hook(server), json=padding)  # declared length over the cap
    assert r.status_code == 413

    def chunks():  # no declared length: it is cut off while streaming
        yield b'{"id": "' + task_id.encode() + b'", "pad": "'
        for _ in range(200):
            yield b"y" * 65536
        yield b'"}'

    r = httpx.post(_hook(server), content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert db.get_run(run_id).poll_count == 0  # neither body poked the worker
    small = httpx.post(_hook(server), json={"id": task_id, "pad": "x" * (CALLBACK_MAX // 2)})
    assert small.status_code == 200


# --- headers on every response ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/gallery", "/api/health", "/api/media/" + "a" * 32, "/api/media/../x", "/_stcore/health", "/nowhere"],
)
def test_every_response_carries_the_security_headers(server, path):
    r = httpx.get(f"{server.url}{path}")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' blob: 'sha256-" in csp


def test_media_carries_the_headers_too(server, archived):
    token, _ = archived
    r = httpx.get(f"{server.url}/api/media/{token}", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-type"] == "video/mp4"
