"""Store: concurrent writers on one SQLite file, submit idempotency, crash recovery, budgets."""

from __future__ import annotations

import re
import threading

import pytest

from lib import store as st
from lib.schema import GenerationRequest, Task
from lib.store import BudgetExceeded, Store

REQ = GenerationRequest(
    model="seedance-2.0-fast-text-to-video", prompt="A red kite over dunes", duration=4, quality="480p"
)


def task(status="pending", **extra) -> Task:
    body = {
        "id": "task-unified-abc",
        "status": status,
        "task_info": {"estimated_time": 40},
        "usage": {"credits_reserved": 20.5},
    }
    body.update(extra)
    return Task.model_validate(body)


@pytest.fixture()
def store(tmp_path) -> Store:
    return Store(tmp_path)


@pytest.fixture()
def ws(store):
    return store.create_workspace("Workshop")


def new_run(store, ws, credits=10.0, **kw):
    return store.create_run(ws.id, REQ, credits, True, "k_test", **kw)


def test_sqlite_file_lives_in_the_data_dir_in_wal_mode(store, tmp_path):
    assert store.url == f"sqlite:///{(tmp_path / 'studio.db').resolve()}"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert Store(tmp_path).engine is store.engine  # one engine per URL


def test_database_url_setting_wins_over_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'team.db'}")
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    s = Store()
    assert s.url.endswith("team.db")
    assert s.data_dir == (tmp_path / "data").resolve()


def test_workspace_lifecycle(store):
    ws = store.create_workspace()
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", ws.id)
    assert ws.name == "Untitled workspace" and ws.budget_credits is None
    assert store.rename_workspace(ws.id, "  Monday  ").name == "Monday"
    ws = store.set_budget(ws.id, 500, per_participant_cap=50)
    assert (ws.budget_credits, ws.per_participant_cap) == (500, 50)
    assert store.get_workspace("../etc/passwd") is None
    assert store.get_workspace("nope-but-valid") is None
    with pytest.raises(ValueError):
        store.set_budget(ws.id, -1)


def test_run_roundtrip_and_ids_fit_widget_keys(store, ws):
    run = new_run(store, ws, participant="Ada", group_id="cmp1")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", run.id)
    assert run.status == st.SUBMITTING and not run.finished
    assert run.request == REQ
    assert run.participant == "Ada" and run.group_id == "cmp1"
    assert st.valid_id(run.id)


def test_callback_secret_is_not_stored(store, ws):
    req = REQ.model_copy(update={"callback_url": "https://studio.example.com/api/hooks/evolink/s3cret"})
    run = store.create_run(ws.id, req, 1, True, "k_test")
    assert "s3cret" not in run.request_json


def test_a_users_own_callback_url_is_kept_and_sent(store, ws):
    req = REQ.model_copy(update={"callback_url": "https://hooks.example.org/video-done"})
    run = store.create_run(ws.id, req, 1, True, "k_test")
    assert run.request.callback_url == "https://hooks.example.org/video-done"


def test_submit_key_makes_a_double_click_one_run(store, ws):
    a = new_run(store, ws, submit_key="form-1")
    b = new_run(store, ws, submit_key="form-1")
    assert a.id == b.id
    assert store.count_runs(ws.id) == 1


def test_submit_key_race_between_threads_creates_one_run(store, ws):
    ids, barrier = [], threading.Barrier(8)

    def click():
        barrier.wait()
        ids.append(new_run(store, ws, submit_key="form-race").id)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and store.count_runs(ws.id) == 1


def test_claim_submit_lets_exactly_one_caller_post(store, ws):
    run = new_run(store, ws)
    wins, barrier = [], threading.Barrier(6)

    def claim():
        barrier.wait()
        wins.append(store.claim_submit(run.id))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_submit_then_poll_then_archive(store, ws):
    run = new_run(store, ws)
    assert store.claim_submit(run.id)
    run = store.mark_submitted(run.id, task())
    assert (run.status, run.task_id, run.credits_reserved, run.estimated_time) == (
        "pending",
        "task-unified-abc",
        20.5,
        40,
    )
    run = store.update_from_task(run.id, task("processing", progress=40), next_poll_at=123.0)
    assert (run.status, run.progress, run.next_poll_at, run.poll_count) == ("processing", 40, 123.0, 1)
    run = store.update_from_task(run.id, task("completed", progress=100, results=["http://x/v.mp4"]))
    assert run.status == st.COMPLETED and run.video_url == "http://x/v.mp4" and run.completed_at
    assert [r.id for r in store.unfinished_runs()] == [run.id]
    run = store.mark_archived(run.id, "t" * 32, 1234, 4.0, 864, 496)
    assert run.archived and run.finished and run.media_bytes == 1234
    assert store.unfinished_runs() == []
    # A late poll answer never moves a finished run backwards.
    assert store.update_from_task(run.id, task("processing")).status == st.ARCHIVED


def test_failed_task_keeps_server_text_plain_and_short(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    evil = "<script>alert(1)</script>\x00" + "x" * 2000
    run = store.update_from_task(run.id, task("failed", error={"code": "content_policy_violation", "message": evil}))
    assert run.status == st.FAILED and run.error_code == "content_policy_violation"
    assert len(run.error_message) <= st.ERROR_TEXT_MAX and "\x00" not in run.error_message


def test_unknown_provider_status_is_terminal_unknown(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    run = store.update_from_task(run.id, task("cancelled"))
    assert run.status == st.UNKNOWN and "cancelled" in run.error_message


def test_recover_after_crash_settles_old_submitting_runs_without_resubmitting(store, ws, monkeypatch):
    sent = new_run(store, ws, now=1000.0)
    store.claim_submit(sent.id, now=1000.1)
    never_sent = new_run(store, ws, now=1000.0)
    fresh = new_run(store, ws)  # this process, still within its grace period
    monkeypatch.setattr(st, "_PROCESS", "a-new-process")
    changed = store.recover_after_crash()
    assert set(changed) == {sent.id, never_sent.id}
    sent, never_sent = store.get_run(sent.id), store.get_run(never_sent.id)
    assert sent.status == st.UNKNOWN and "provider dashboard" in sent.error_message
    assert never_sent.status == st.SUBMIT_FAILED and never_sent.error_code == "not_sent"
    assert store.get_run(fresh.id).status == st.SUBMITTING
    assert store.claim_submit(sent.id) is False  # nothing may POST it again
    # A late answer from the original POST still lands.
    assert store.mark_submitted(sent.id, task()).status == st.PENDING


def test_budget_sums_count_billed_runs_only(store, ws):
    store.set_budget(ws.id, 100, per_participant_cap=30)
    ok = new_run(store, ws, 10, participant="Ada")
    refused = new_run(store, ws, 20, participant="Ada")
    store.mark_submit_failed(refused.id, "insufficient_quota", "No credits")
    failed = new_run(store, ws, 5, participant="Bo")
    store.mark_submitted(failed.id, task())
    store.update_from_task(failed.id, task("failed"))
    done = new_run(store, ws, 7, participant="Bo")
    store.mark_submitted(done.id, task())
    store.update_from_task(done.id, task("completed", results=["http://x/v.mp4"]))
    store.mark_expired(done.id)  # expired after completion: still billed
    assert store.committed_credits(ws.id) == 17
    assert store.committed_credits(ws.id, "Ada") == 10
    assert store.spent_credits(ws.id) == 7
    assert store.budget_room(ws.id, "Ada") == 20
    assert store.budget_room(ws.id) == 83
    assert ok.billed and not store.get_run(refused.id).billed


def test_budget_is_enforced_atomically(store, ws):
    store.set_budget(ws.id, 25)
    results, barrier = [], threading.Barrier(5)

    def submit():
        barrier.wait()
        try:
            new_run(store, ws, 10, enforce_budget=True)
            results.append("ok")
        except BudgetExceeded:
            results.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 2 and store.committed_credits(ws.id) == 20


def test_concurrent_writers_on_one_sqlite_file(tmp_path):
    # Separate Store objects model separate browser sessions plus the worker.
    ws = Store(tmp_path).create_workspace()
    errors: list[BaseException] = []
    per_thread = 25

    def session(n: int):
        s = Store(tmp_path)
        try:
            for i in range(per_thread):
                run = s.create_run(ws.id, REQ, 1.0, True, "k_test", participant=f"p{n}")
                s.claim_submit(run.id)
                s.mark_submitted(run.id, task())
                s.update_from_task(run.id, task("processing", progress=i % 100))
                s.set_rating(run.id, 1 + i % 5)
        except BaseException as exc:
            errors.append(exc)

    def worker():
        s = Store(tmp_path)
        try:
            for _ in range(60):
                for run in s.unfinished_runs(limit=20):
                    s.record_poll_error(run.id, "HTTP 500", next_poll_at=0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)] + [threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    s = Store(tmp_path)
    assert s.count_runs(ws.id) == 8 * per_thread
    assert s.count_runs(ws.id, st.PROCESSING) == 8 * per_thread
    assert s.committed_credits(ws.id, "p3") == per_thread


def test_list_runs_filters(store, ws):
    a = new_run(store, ws, participant="Ada", group_id="g1", now=1.0)
    b = new_run(store, ws, participant="Bo", now=2.0)
    store.set_rating(b.id, 5)
    store.set_notes(a.id, "keep")
    assert [r.id for r in store.list_runs(ws.id)] == [b.id, a.id]
    assert [r.id for r in store.list_runs(ws.id, participant="Ada")] == [a.id]
    assert [r.id for r in store.list_runs(ws.id, group_id="g1")] == [a.id]
    assert [r.id for r in store.list_runs(ws.id, min_rating=4)] == [b.id]
    assert store.get_run(a.id).notes == "keep"
    with pytest.raises(ValueError):
        store.set_rating(a.id, 6)
    other = store.create_workspace()
    assert store.list_runs(other.id) == []


def test_ids_from_urls_are_checked_strictly(store, ws):
    assert store.get_workspace(ws.id + "\n") is None
    assert not st.valid_id("abc/def") and not st.valid_id("a b c d e f")
