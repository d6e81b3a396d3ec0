"""Store: concurrent writers, submit idempotency, state changes, crash recovery — on SQLite and on PostgreSQL."""

from __future__ import annotations

import doctest
import re
import threading

import pytest
import sqlalchemy as sa

import lib.store
from lib.schema import GenerationRequest, Task
from lib.settings import load_settings, override
from lib.status import RunStatus
from lib.store import Store, drafts, engine, members, records, submission, tables, valid_id

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
def store(db_url, tmp_path) -> Store:
    return Store(db_url, data_dir=tmp_path)


FAC = "pid_facilitator_000000000000"


@pytest.fixture()
def ws(store):
    return store.create_workspace("Workshop", facilitator=FAC)


def new_run(store, ws, credits=10.0, **kw):
    return store.create_run(ws.id, REQ, credits, True, "k_test", **kw)


@pytest.mark.parametrize("module", [lib.store, engine, records, tables, members, drafts])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted and not result.failed


def test_sqlite_file_lives_in_the_data_dir_in_wal_mode(tmp_path):
    store = Store(tmp_path)
    assert store.url == f"sqlite:///{(tmp_path / 'studio.db').resolve()}"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert Store(tmp_path).engine is store.engine  # one engine per URL


def test_the_settings_name_the_database(tmp_path):
    with override(database_url=f"sqlite:///{tmp_path / 'team' / 'team.db'}", data_dir=tmp_path / "data"):
        s = Store()
        assert s.url.endswith("team/team.db") and (tmp_path / "team" / "team.db").is_file()
        assert s.data_dir == (tmp_path / "data").resolve()
        assert Store.from_settings(load_settings()).engine is s.engine
    with override(database_url=None, data_dir=tmp_path / "data"):
        # No DATABASE_URL: the data dir's file, the same one whichever way it is named.
        assert Store.from_settings(load_settings()).engine is Store(tmp_path / "data").engine


def test_workspace_lifecycle(store):
    ws = store.create_workspace(facilitator=FAC)
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", ws.id)
    assert ws.name == "Untitled workspace" and ws.budget_credits is None
    assert store.rename_workspace(ws.id, "  Monday  ", by=FAC).name == "Monday"
    ws = store.set_budget(ws.id, 500, per_participant_cap=50, by=FAC)
    assert (ws.budget_credits, ws.per_participant_cap) == (500, 50)
    assert store.get_workspace("../etc/passwd") is None
    assert store.get_workspace("nope-but-valid") is None
    with pytest.raises(ValueError):
        store.set_budget(ws.id, -1, by=FAC)
    with pytest.raises(ValueError):
        store.set_budget(ws.id, float("nan"), by=FAC)
    with pytest.raises(ValueError):
        store.rename_workspace(ws.id, "   ", by=FAC)


def test_run_roundtrip_and_ids_fit_widget_keys(store, ws):
    run = new_run(store, ws, participant="Ada", group_id="cmp1")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", run.id)
    assert run.status is RunStatus.SUBMITTING and not run.finished and run.label == "submitting"
    assert run.request == REQ
    assert run.participant == "Ada" and run.group_id == "cmp1"
    assert valid_id(run.id)


def test_status_is_stored_as_its_plain_value_and_read_back_as_the_enum(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    with store.engine.connect() as conn:
        raw = conn.execute(sa.select(tables.runs.c.status).where(tables.runs.c.id == run.id)).scalar_one()
    assert type(raw) is str and raw == "pending"
    assert store.get_run(run.id).status is RunStatus.PENDING


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
    assert len(store.list_runs(ws.id)) == 1


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
    assert len(set(ids)) == 1 and len(store.list_runs(ws.id)) == 1


def test_create_runs_returns_stored_runs_in_order_and_inserts_only_new_keys(store, ws):
    first = new_run(store, ws, submit_key="g-1")
    new = [submission.NewRun(REQ, 5.0, True, key) for key in ("g-0", "g-1", "g-2")]
    saved = store.create_runs(ws.id, new, fingerprint="k_test", group_id="g")
    assert [r.submit_key for r in saved] == ["g-0", "g-1", "g-2"]
    assert saved[1].id == first.id and saved[1].group_id is None  # the stored run, as stored
    assert len(store.list_runs(ws.id)) == 3


def test_a_run_for_a_missing_workspace_is_refused(store):
    with pytest.raises(sa.exc.IntegrityError):
        store.create_run("nope-but-valid", REQ, 1, True, "k_test")
    with pytest.raises(KeyError):
        store.create_run("nope-but-valid", REQ, 1, True, "k_test", enforce_budget=True)


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
        RunStatus.PENDING,
        "task-unified-abc",
        20.5,
        40,
    )
    assert store.run_for_task("task-unified-abc").id == run.id and store.run_for_task("x" * 300) is None
    run = store.update_from_task(run.id, task("processing", progress=40), next_poll_at=123.0)
    assert (run.status, run.progress, run.next_poll_at, run.poll_count) == (RunStatus.PROCESSING, 40, 123.0, 1)
    run = store.update_from_task(run.id, task("completed", progress=100, results=["http://x/v.mp4"]))
    assert run.status is RunStatus.COMPLETED and run.video_url == "http://x/v.mp4" and run.completed_at
    assert [r.id for r in store.unfinished_runs()] == [run.id]
    run = store.mark_archived(run.id, "t" * 32, 1234, 4.0, 864, 496)
    assert run.archived and run.finished and run.media_bytes == 1234 and run.label == "done"
    assert store.unfinished_runs() == []
    # A late poll answer never moves a finished run backwards.
    assert store.update_from_task(run.id, task("processing")).status is RunStatus.ARCHIVED


def test_completed_without_a_link_fails_and_counts_as_billed(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    run = store.update_from_task(run.id, task("completed"))
    assert (run.status, run.error_code) == (RunStatus.FAILED, "no_result") and run.billed


def test_failed_task_keeps_server_text_plain_and_short(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    evil = "<script>alert(1)</script>\x00" + "x" * 2000
    run = store.update_from_task(run.id, task("failed", error={"code": "content_policy_violation", "message": evil}))
    assert run.status is RunStatus.FAILED and run.error_code == "content_policy_violation"
    assert len(run.error_message) <= 500 and "\x00" not in run.error_message
    assert not run.billed  # failed before the provider completed it


def test_unknown_provider_status_is_terminal_unknown(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    run = store.update_from_task(run.id, task("cancelled"))
    assert run.status is RunStatus.UNKNOWN and "cancelled" in run.error_message


def test_poll_and_archive_errors_keep_the_run_and_expiry_ends_it(store, ws):
    run = new_run(store, ws)
    store.mark_submitted(run.id, task())
    run = store.record_poll_error(run.id, "HTTP 503\x1b", next_poll_at=50.0)
    assert (run.status, run.poll_failures, run.poll_error, run.next_poll_at) == (
        RunStatus.PENDING,
        1,
        "HTTP 503",
        50.0,
    )
    store.update_from_task(run.id, task("completed", results=["http://x/v.mp4"]))
    run = store.record_archive_error(run.id, "timed out", 60.0)
    assert (run.status, run.archive_attempts, run.next_poll_at) == (RunStatus.COMPLETED, 1, 60.0)
    store.defer(run.id, 99.0)
    assert store.get_run(run.id).next_poll_at == 99.0
    run = store.mark_expired(run.id)
    assert (run.status, run.error_code) == (RunStatus.EXPIRED, "link_expired") and run.finished
    assert store.mark_failed(run.id, "late", "too late").status is RunStatus.EXPIRED  # a terminal state stays


def test_recover_after_crash_settles_old_submitting_runs_without_resubmitting(store, ws, monkeypatch):
    sent = new_run(store, ws, now=1000.0)
    store.claim_submit(sent.id, now=1000.1)
    never_sent = new_run(store, ws, now=1000.0)
    fresh = new_run(store, ws)  # this process, still within its grace period
    monkeypatch.setattr(submission, "PROCESS", "a-new-process")
    changed = store.recover_after_crash()
    assert set(changed) == {sent.id, never_sent.id}
    sent, never_sent = store.get_run(sent.id), store.get_run(never_sent.id)
    assert sent.status is RunStatus.UNKNOWN and "check the Evolink account" in sent.error_message
    assert never_sent.status is RunStatus.SUBMIT_FAILED and never_sent.error_code == "not_sent"
    assert store.get_run(fresh.id).status is RunStatus.SUBMITTING
    assert store.claim_submit(sent.id) is False  # nothing may POST it again
    # A late answer from the original POST still lands.
    assert store.mark_submitted(sent.id, task()).status is RunStatus.PENDING


def test_concurrent_writers_on_one_database(db_url, tmp_path):
    # Separate Store objects model separate browser sessions plus the worker.
    ws = Store(db_url, data_dir=tmp_path).create_workspace()
    errors: list[BaseException] = []
    per_thread = 25

    def session(n: int):
        s = Store(db_url, data_dir=tmp_path)
        try:
            for i in range(per_thread):
                run = s.create_run(ws.id, REQ, 1.0, True, "k_test", participant=f"p{n}", participant_id=f"p{n}")
                s.claim_submit(run.id)
                s.mark_submitted(run.id, task(usage={}, id=f"task-unified-{n}-{i}"))
                s.update_from_task(run.id, task("processing", progress=i % 100, id=f"task-unified-{n}-{i}"))
                s.set_rating(run.id, 1 + i % 5)
        except BaseException as exc:
            errors.append(exc)

    def worker():
        s = Store(db_url, data_dir=tmp_path)
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
    runs = Store(db_url, data_dir=tmp_path).list_runs(ws.id, limit=None)
    assert len(runs) == 8 * per_thread
    assert {r.status for r in runs} == {RunStatus.PROCESSING}
    assert Store(db_url, data_dir=tmp_path).committed_credits(ws.id, "p3") == per_thread


def test_list_runs_newest_first_by_group_and_limited(store, ws):
    a = new_run(store, ws, group_id="g1", now=1.0)
    b = new_run(store, ws, now=2.0)
    c = new_run(store, ws, group_id="g1", now=3.0)
    assert [r.id for r in store.list_runs(ws.id)] == [c.id, b.id, a.id]
    assert [r.id for r in store.list_runs(ws.id, group_id="g1")] == [c.id, a.id]
    assert [r.id for r in store.list_runs(ws.id, limit=2)] == [c.id, b.id]
    other = store.create_workspace()
    assert store.list_runs(other.id) == []


def test_rating_and_notes(store, ws):
    run = new_run(store, ws)
    assert store.set_rating(run.id, 5).rating == 5
    assert store.set_rating(run.id, None).rating is None
    for bad in (0, 6, 2.5, True):
        with pytest.raises(ValueError):
            store.set_rating(run.id, bad)
    assert store.set_notes(run.id, "keep").notes == "keep"
    assert len(store.set_notes(run.id, "x" * 9000).notes) == 5000
    assert store.set_notes(run.id, "").notes is None


def test_comparisons_are_saved_once_and_listed_newest_first(store, ws):
    first = store.create_comparison(ws.id, "Lens test", {"rows": ["a"]}, comparison_id="cmp_0001", now=1.0)
    again = store.create_comparison(ws.id, "Rerun", {"rows": ["b"]}, comparison_id="cmp_0001", now=2.0)
    assert again == first and again.spec == {"rows": ["a"]}
    later = store.create_comparison(ws.id, "\x00", {}, now=3.0)
    assert later.title == "Comparison"
    assert [c.id for c in store.list_comparisons(ws.id)] == [later.id, first.id]
    assert store.update_comparison_spec(first.id, {"winner": 2}).spec == {"winner": 2}
    assert store.get_comparison("../x") is None
    with pytest.raises(ValueError):
        store.create_comparison(ws.id, "x", {}, comparison_id="bad id!")


def test_ids_from_urls_are_checked_strictly(store, ws):
    assert store.get_workspace(ws.id + "\n") is None
    assert store.get_run("../../etc") is None
    assert not valid_id("abc/def") and not valid_id("a b c d e f")
