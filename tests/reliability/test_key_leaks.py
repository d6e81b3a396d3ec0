"""The API key is found nowhere: database bytes, logs, exports, URLs, served pages and rendered page content.

A unique live-looking key is used end to end — submitted runs, the worker's polls and
downloads, error paths (a 500, a 401, a provider that echoes the key back in its error
texts) — then every place the app writes or serves is searched for it.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

import httpx
import pytest

from lib import export, submit
from lib.client import ApiError, EvolinkClient, key_fingerprint
from lib.simulator import Faults, serve_in_thread
from lib.status import RunStatus
from lib.store import Store
from tests.support.apptest import walk
from tests.support.runs import request, scaled_worker, submit_runs, wait_terminal
from tests.support.server import AppProcess
from tests.support.transport import Recorder

KEY = f"sk-live-UNIQUE{secrets.token_hex(12)}"
SPEED = 40.0


def db_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("studio.db*"))


def assert_no_key(where: str, blob) -> None:
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else str(blob)
    assert KEY not in text, f"the API key leaked into {where}"
    assert KEY[8:] not in text, f"the secret part of the API key leaked into {where}"


@pytest.fixture
def sim(tmp_path):
    handle = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9)
    yield handle
    handle.stop()


def test_key_absent_from_database_logs_exports_and_urls(tmp_path, sim, caplog):
    caplog.set_level(logging.DEBUG)  # everything, httpx and httpcore included
    data = tmp_path / "data"
    store = Store(data)
    ws = store.create_workspace("keys")
    rec = Recorder()
    client = EvolinkClient(KEY, base_url=sim.base_url, transport=rec)
    w = scaled_worker(store, sim.base_url, SPEED, key=KEY, transport=rec).start()
    try:
        ids = submit_runs(store, ws.id, client, 3, "keys")
        sim.app.faults = Faults(rate_500=1.0)  # error paths log too
        ids += submit_runs(store, ws.id, client, 1, "keys-500")
        sim.app.faults = Faults()
        ids += submit_runs(store, ws.id, client, 1, "[fail:content_policy_violation]")
        wait_terminal(store, ids)
    finally:
        w.close()
        client.close()

    # A provider that echoes the bearer token back in an error answer.
    def echo(req: httpx.Request) -> httpx.Response:
        token = req.headers["authorization"]
        return httpx.Response(401, json={"error": {"code": "unauthorized", "message": f"Key {token} rejected"}})

    with EvolinkClient(KEY, base_url="https://api.test", transport=httpx.MockTransport(echo), max_retries=0) as c:
        with pytest.raises(ApiError) as err:
            c.get_task("task-unified-1-abcdefgh")
        logging.getLogger("studio.test").error("shown to the user: %s / %s", err.value, err.value.hint)
        assert_no_key("an error message", f"{err.value} {err.value.hint} {err.value.message}")
        assert_no_key("the client's repr", repr(c))

    runs = store.list_runs(ws.id, limit=None)
    assert sorted(r.status for r in runs) == [RunStatus.ARCHIVED] * 3 + [RunStatus.FAILED, RunStatus.UNKNOWN]
    assert all(r.key_fingerprint == key_fingerprint(KEY) for r in runs)
    assert_no_key("the database", db_bytes(data))
    assert_no_key("the logs", caplog.text)
    assert_no_key("log record arguments", [r.args for r in caplog.records])
    assert_no_key("the CSV export", export.to_csv(runs))
    assert_no_key("the JSON export", export.to_json(ws, runs))
    assert rec.log, "nothing was sent"
    for _, _, url, _ in rec.log:
        assert_no_key("a request URL", url)
    assert_no_key("stored result URLs", [r.video_url for r in runs])


def test_a_provider_echoing_the_key_in_a_task_error_does_not_get_it_stored(tmp_path):
    """The failed task's own error text (a 200 answer) repeats the key: it must not reach the database."""
    task = {
        "id": "task-unified-1-abcdefgh",
        "status": "failed",
        "progress": 100,
        "error": {"code": "invalid_parameters", "message": f"Bearer {KEY} may not use this model"},
    }

    def api(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=task if req.method == "GET" else {**task, "status": "pending"})

    store = Store(tmp_path)
    ws = store.create_workspace("echo")
    client = EvolinkClient(KEY, base_url="https://api.test", transport=httpx.MockTransport(api))
    run = submit.send(
        store, client, submit.prepare(store, ws.id, request(1, "echo"), fingerprint=client.fingerprint, submit_key="e1")
    )
    w = scaled_worker(store, "https://api.test", 1.0, key=KEY, transport=httpx.MockTransport(api))
    w.run_once(time.time() + 3600)
    w.close()
    final = store.get_run(run.id)
    assert final.status == RunStatus.FAILED
    assert_no_key("the stored error message", final.error_message)
    assert_no_key("the database", db_bytes(tmp_path))


@pytest.mark.parametrize("script", ["app.py", "pages/studio.py", "pages/gallery.py"])
def test_key_absent_from_rendered_pages(demo_app, sim, script):
    """AppTest with the key set on the server: no element of the page carries it."""
    demo_app.configure(api_key=KEY, base_url=sim.base_url, transport=None)  # live, against the simulator
    store = demo_app.store
    ws = store.create_workspace("pages")
    with EvolinkClient(KEY, base_url=sim.base_url) as client:
        submit_runs(store, ws.id, client, 1, "page")  # an unfinished run in the gallery
    at = demo_app.open(script, query_params={"ws": ws.id})
    if script == "pages/studio.py":
        at.text_area(key="prompt").input("A fox in snow, wide shot").run()
        assert not at.exception, at.exception
    dump = "\n".join(str(getattr(n, "proto", "")) for n in walk(at._tree))
    assert "pages" in script or "Connection" in dump  # the sidebar rendered
    assert_no_key(f"{script}'s elements", dump)
    assert_no_key(
        f"{script}'s session state", {k: at.session_state[k] for k in at.session_state if not str(k).startswith("$$")}
    )
    assert_no_key(f"{script}'s query parameters", dict(at.query_params))


def test_key_absent_from_served_html_and_the_server_log(tmp_path, sim):
    data = tmp_path / "data"
    app = AppProcess(data, env={"EVOLINK_API_KEY": KEY, "EVOLINK_BASE_URL": sim.base_url}).start()
    try:
        store = Store(data)
        ws = store.create_workspace("served")
        with EvolinkClient(KEY, base_url=sim.base_url) as client:
            ids = submit_runs(store, ws.id, client, 1, "served")
        wait_terminal(store, ids)  # the app's own worker polled and archived it with the key
        run = store.get_run(ids[0])
        assert run.status == RunStatus.ARCHIVED
        with httpx.Client(base_url=app.url, timeout=10) as http:
            for path in (
                "/",
                "/gallery",
                f"/gallery?ws={ws.id}",
                "/studio",
                "/api/health",
                "/_stcore/health",
                "/_stcore/host-config",
                f"/api/media/{run.media_token}",
                "/api/hooks/evolink/nope",
            ):
                resp = http.get(path)
                assert_no_key(f"GET {path}", resp.content)
                assert_no_key(f"GET {path} headers", resp.headers)
            assert http.get("/api/health").json()["mode"] == "live"
    finally:
        app.stop()
    assert_no_key("the server log", app.log_path.read_bytes())
    assert_no_key("the database", db_bytes(data))
