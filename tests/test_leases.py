"""Leases: each unfinished run is followed by one process at a time, on SQLite and on PostgreSQL.

Two workers on one database stand in for two servers (their own owner ids, their own
clients), stepped on one fake clock: a server that stops stepping is a dead one.
"""

from __future__ import annotations

import doctest
import errno
import threading
import time

import httpx
import pytest

from lib import archive
from lib.client import key_fingerprint
from lib.schema import GenerationRequest, Task
from lib.status import RunStatus
from lib.store import LEASE_SECONDS, Store, leases, submission
from lib.worker import ARCHIVE_ATTEMPTS, Worker
from tests.support.media import make_mp4
from tests.support.waiting import wait_until

KEY = "sk-test-lease-key"
FP = key_fingerprint(KEY)
BASE = "https://api.test"
REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A kite", duration=4, quality="480p")
T0 = 1_000_000.0


def test_doctest():
    result = doctest.testmod(leases)
    assert result.attempted and not result.failed


class Provider:
    """Tasks that are ``processing`` until ``finish()``; then ``completed`` with a result file. Counts every GET."""

    def __init__(self) -> None:
        self.done: set[str] = set()
        self.gets: dict[str, int] = {}
        self.downloads: dict[str, int] = {}
        self.lock = threading.Lock()
        self.transport = httpx.MockTransport(self.handle)

    def finish(self, *task_ids: str) -> None:
        self.done.update(task_ids)

    def handle(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if request.url.path.startswith("/files/"):
            with self.lock:
                self.downloads[name] = self.downloads.get(name, 0) + 1
            return httpx.Response(200, content=make_mp4())
        with self.lock:
            self.gets[name] = self.gets.get(name, 0) + 1
        if name in self.done:
            return httpx.Response(
                200, json={"id": name, "status": "completed", "progress": 100, "results": [f"{BASE}/files/{name}.mp4"]}
            )
        return httpx.Response(200, json={"id": name, "status": "processing", "progress": 40})


@pytest.fixture
def store(db_url, tmp_path):
    return Store(db_url, data_dir=tmp_path)


def submitted(store, ws_id, n, now=T0) -> str:
    run = store.create_run(ws_id, REQ, 10.0, True, FP, now=now)
    store.claim_submit(run.id, now=now)
    store.mark_submitted(
        run.id,
        Task.model_validate({"id": f"task-{n}", "status": "pending", "task_info": {"estimated_time": 10}}),
        now=now,
    )
    return run.id


def completed(store, provider, ws_id) -> str:
    """A run whose task ``task-1`` the provider has finished, recorded as completed (its video not saved yet)."""
    run_id = submitted(store, ws_id, 1)
    provider.finish("task-1")
    store.update_from_task(run_id, Task(id="task-1", status="completed", results=[f"{BASE}/files/task-1.mp4"]), now=T0)
    return run_id


def worker(store, provider, owner) -> Worker:
    w = Worker(store, owner=owner, max_rps=1000, burst=1000, download_client=httpx.Client(transport=provider.transport))
    w.register_key(KEY, BASE, transport=provider.transport)
    return w


def test_a_run_is_held_by_one_owner_renewed_while_alive_and_taken_over_when_it_dies(store):
    ws = store.create_workspace()
    ids = {submitted(store, ws.id, n) for n in range(3)}
    assert {r.id for r in store.claim_runs("a", now=T0)} == ids
    assert store.claim_runs("b", now=T0 + 1) == []  # all held by a
    # a renews once half its lease is gone, so a living server never loses its runs.
    renewed = store.claim_runs("a", now=T0 + LEASE_SECONDS * 0.6)
    assert {r.lease_expires for r in renewed} == {T0 + LEASE_SECONDS * 1.6}
    assert store.claim_runs("b", now=T0 + LEASE_SECONDS * 1.5) == []
    # a stops renewing (killed): once its lease runs out, b follows every one of its runs.
    taken = store.claim_runs("b", now=T0 + LEASE_SECONDS * 1.6 + 0.1)
    assert {r.id for r in taken} == ids and {r.lease_owner for r in taken} == {"b"}
    assert store.claim_runs("a", now=T0 + LEASE_SECONDS * 1.7) == []  # back from the dead: b holds them now


def test_a_clean_stop_hands_the_runs_over_at_once(store):
    ws = store.create_workspace()
    run_id = submitted(store, ws.id, 1)
    store.claim_runs("a", now=T0)
    store.release_runs("a")
    assert [r.id for r in store.claim_runs("b", now=T0 + 1)] == [run_id]


def test_a_server_restarted_on_sqlite_resumes_its_runs_at_once(tmp_path):
    """One server per SQLite file: a lease left by a killed process holds nothing up after a restart."""
    store = Store(tmp_path)
    ws = store.create_workspace()
    now = time.time()
    run_id = submitted(store, ws.id, 1, now=now)
    store.claim_runs("killed", now=now, ttl=3600)  # then SIGKILL: its lease would run for an hour more
    provider = Provider()
    restarted = worker(store, provider, "restarted")
    restarted.start()
    try:
        wait_until(lambda: store.get_run(run_id).lease_owner == "restarted", message="the run was not resumed")
    finally:
        restarted.stop()


def test_finished_runs_are_not_claimed(store):
    ws = store.create_workspace()
    run_id = submitted(store, ws.id, 1)
    store.mark_failed(run_id, "x", "gone")
    assert store.claim_runs("a", now=T0) == []


def test_servers_claiming_at_once_never_share_a_run(store):
    ws = store.create_workspace()
    ids = {submitted(store, ws.id, n) for n in range(40)}
    owners = [f"server-{n}" for n in range(6)]
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(len(owners))
    errors: list[BaseException] = []

    def claim(owner: str) -> None:
        barrier.wait()
        try:
            got[owner] = [r.id for r in store.claim_runs(owner, now=T0, limit=10)]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(o,)) for o in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    claimed = [run_id for ids_ in got.values() for run_id in ids_]
    assert len(claimed) == len(set(claimed)) == len(ids)  # 6 × 10 asked for, 40 there: each run once
    by_owner = {r.id: r.lease_owner for r in store.list_runs(ws.id, limit=None)}
    assert all(by_owner[run_id] == owner for owner, ids_ in got.items() for run_id in ids_)


def test_two_workers_poll_each_run_once_a_step_and_the_survivor_archives_each_video_once(store, tmp_path):
    provider = Provider()
    a, b = worker(store, provider, "server-a"), worker(store, provider, "server-b")
    try:
        ws = store.create_workspace()
        ids = [submitted(store, ws.id, n) for n in range(4)]
        t = T0 + 30  # past every first poll
        a.run_once(t)
        b.run_once(t)
        assert sum(provider.gets.values()) == 4 and set(provider.gets.values()) == {1}  # a polled, b had none
        assert a.stats()["polls"] == 4 and b.stats().get("polls", 0) == 0
        # a dies (no more steps). b waits out a's lease, then takes every run over.
        t += LEASE_SECONDS + 1
        b.run_once(t)
        assert {r.lease_owner for r in store.list_runs(ws.id)} == {"server-b"}
        assert b.stats()["polls"] == 4
        provider.finish(*(f"task-{n}" for n in range(4)))
        for _ in range(40):
            t += 1
            b.run_once(t)
            if all(store.get_run(i).status is RunStatus.ARCHIVED for i in ids):
                break
        runs = [store.get_run(i) for i in ids]
        assert [r.status for r in runs] == [RunStatus.ARCHIVED] * 4
        assert set(provider.downloads.values()) == {1} and len(provider.downloads) == 4  # one download per video
        media = sorted(p.name for p in (tmp_path / "media").glob("*.mp4"))
        assert media == sorted(f"{r.media_token}.mp4" for r in runs)  # one file per run, nothing left over
    finally:
        a.close()
        b.close()


def test_a_video_saved_twice_keeps_one_file(store, tmp_path):
    """A server paused past its lease may download a video another server saved meanwhile: its copy goes."""
    provider = Provider()
    a, b = worker(store, provider, "server-a"), worker(store, provider, "server-b")
    try:
        ws = store.create_workspace()
        run_id = completed(store, provider, ws.id)
        stale = store.get_run(run_id)  # what a held when it paused
        b.run_once(T0 + 1)  # b claims and saves it
        a.archiver.save(stale, background=False)  # a wakes up and finishes its own download
        run = store.get_run(run_id)
        assert run.status is RunStatus.ARCHIVED and a.stats()["archived_elsewhere"] == 1
        assert [p.name for p in (tmp_path / "media").glob("*.mp4")] == [f"{run.media_token}.mp4"]
    finally:
        a.close()
        b.close()


def test_a_copy_read_before_the_last_attempt_does_not_download_again(store, monkeypatch):
    """The worker's loop reads a run, a download already under way ends it for good (disk full, last
    attempt), and the loop then hands over its stale copy: that copy starts no further download."""

    def disk_full(out, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive, "write_chunk", disk_full)
    provider = Provider()
    a = worker(store, provider, "server-a")
    try:
        ws = store.create_workspace()
        run_id = completed(store, provider, ws.id)
        now = T0
        for _ in range(ARCHIVE_ATTEMPTS - 1):
            a.archiver.save(store.get_run(run_id), background=False)
            now = a.archiver.not_before(run_id)
        stale = store.get_run(run_id)  # what the loop read before the last attempt ended the run
        assert stale.status is RunStatus.COMPLETED and provider.downloads == {"task-1.mp4": ARCHIVE_ATTEMPTS - 1}
        a.archiver.save(stale, background=False)  # the last attempt
        assert store.get_run(run_id).status is RunStatus.FAILED
        assert a.archiver.save(stale, background=False)  # handed over again: nothing left to do
        a.run_once(now + 3600)
        assert provider.downloads == {"task-1.mp4": ARCHIVE_ATTEMPTS}
        assert (store.get_run(run_id).status, store.get_run(run_id).error_code) == (RunStatus.FAILED, "disk_full")
    finally:
        a.close()


def test_a_run_another_live_server_is_sending_is_left_alone_by_crash_recovery(store, monkeypatch):
    ws = store.create_workspace()
    monkeypatch.setattr(submission, "PROCESS", "server-a")
    sending = store.create_run(ws.id, REQ, 10.0, True, FP, now=T0)
    store.claim_submit(sending.id, now=T0)
    store.beat("server-a", now=T0)
    monkeypatch.setattr(submission, "PROCESS", "server-b")
    assert store.recover_after_crash(now=T0 + 10) == []  # a is alive: its POST may be on the wire
    assert store.live_servers(now=T0 + 10) == ["server-a"]
    # a dies and stops beating: its run is settled like any crash's (maybe billed: unknown).
    assert store.recover_after_crash(now=T0 + LEASE_SECONDS + 11) == [sending.id]
    assert store.get_run(sending.id).status is RunStatus.UNKNOWN


def test_a_callback_on_the_server_that_does_not_hold_the_run_is_served_and_the_holder_archives(store, tmp_path):
    provider = Provider()
    a, b = worker(store, provider, "server-a"), worker(store, provider, "server-b")
    try:
        ws = store.create_workspace()
        run_id = submitted(store, ws.id, 1)
        a.run_once(T0 + 30)  # a holds it and has polled once
        provider.finish("task-1")
        assert b.poke_task("task-1")  # the provider's callback landed on b
        b.run_once(T0 + 31)
        assert store.get_run(run_id).status is RunStatus.COMPLETED  # b's one GET recorded it...
        assert provider.gets["task-1"] == 2 and provider.downloads == {}  # ...and b saved nothing
        a.run_once(T0 + 32)  # the holder's next step
        assert store.get_run(run_id).status is RunStatus.ARCHIVED and provider.downloads == {"task-1.mp4": 1}
        assert provider.gets["task-1"] == 2  # a did not poll again: the news was in the store
    finally:
        a.close()
        b.close()


def test_a_double_click_whose_two_clicks_reach_two_servers_is_one_post(db_url, tmp_path):
    """Without sticky sessions (or after a failover) the same click may arrive at two servers at once."""
    from lib import submit
    from lib.client import EvolinkClient

    posts: list[str] = []
    lock = threading.Lock()

    def provider(request: httpx.Request) -> httpx.Response:
        with lock:
            posts.append(request.url.path)
        return httpx.Response(200, json={"id": f"task-{len(posts)}", "status": "pending"})

    # Two servers: two engines (PostgreSQL: two connection pools) on one database.
    other = db_url + ("?application_name=server_b" if db_url.startswith("postgresql") else "")
    servers = [Store(db_url, data_dir=tmp_path), Store(other, data_dir=tmp_path)]
    ws = servers[0].create_workspace()
    runs, barrier = [], threading.Barrier(2)

    def click(store: Store) -> None:
        client = EvolinkClient(KEY, base_url=BASE, transport=httpx.MockTransport(provider), max_retries=0)
        barrier.wait()
        run = submit.prepare(store, ws.id, REQ, fingerprint=FP, submit_key="form-1")
        runs.append(submit.send(store, client, run).id)

    threads = [threading.Thread(target=click, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(posts) == 1 and len(set(runs)) == 1
    assert [r.status for r in servers[1].list_runs(ws.id)] == [RunStatus.PENDING]


def test_servers_killed_long_ago_are_forgotten(store):
    store.beat("killed-last-week", now=T0)
    store.beat("alive", now=T0 + 7 * 86400)
    assert store.live_servers(now=T0 + 7 * 86400, within=30 * 86400) == ["alive"]
