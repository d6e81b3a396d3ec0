"""The budget rule: what fits, which limit refuses and by how much, what counts, no race for the last credits."""

from __future__ import annotations

import doctest
import threading

import pytest

from lib import budget
from lib.budget import BudgetExceeded, Limit, Room, check
from lib.schema import GenerationRequest, Task
from lib.status import RunStatus
from lib.store import NewRun, Store

REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A kite", duration=4, quality="480p")
FP = "k_test"
FAC = "pid_facilitator_000000000000"  # the participant id of whoever started the workspace


def test_doctest():
    result = doctest.testmod(budget)
    assert result.attempted and not result.failed


# --- the rule over figures -------------------------------------------------------------------


def test_an_exact_fit_is_accepted_and_one_cent_over_is_refused_naming_the_budget():
    room = Room(budget=400.0, budget_left=12.0)
    check(room, 12.0)
    check(room, 12.0 + 1e-9)  # float noise from summing estimates is not "over"
    with pytest.raises(BudgetExceeded) as exc:
        check(room, 12.01)
    assert str(exc.value) == (
        "This run needs 12.01 credits; the workshop budget has 12.00 of 400.00 left (over by 0.01)."
    )
    assert (exc.value.limit, exc.value.left, exc.value.total) == (Limit.BUDGET, 12.0, 400.0)
    assert exc.value.over == pytest.approx(0.01)


def test_the_cap_is_named_when_it_is_what_refuses():
    room = Room(budget=400.0, budget_left=300.0, cap=50.0, cap_left=20.0)
    assert room.left == 20.0
    with pytest.raises(BudgetExceeded) as exc:
        check(room, 31.26, what="This batch")
    assert str(exc.value) == "This batch needs 31.26 credits; your cap has 20.00 of 50.00 left (over by 11.26)."
    assert exc.value.limit is Limit.CAP


def test_when_both_refuse_the_tighter_limit_is_named():
    with pytest.raises(BudgetExceeded) as exc:
        check(Room(budget=100.0, budget_left=5.0, cap=50.0, cap_left=10.0), 40.0)
    assert exc.value.limit is Limit.BUDGET and exc.value.over == pytest.approx(35.0)
    with pytest.raises(BudgetExceeded) as exc:
        check(Room(budget=100.0, budget_left=30.0, cap=50.0, cap_left=10.0), 40.0)
    assert exc.value.limit is Limit.CAP and exc.value.over == pytest.approx(30.0)


def test_no_limit_fits_anything():
    assert Room().left is None
    check(Room(), 1e12)


def test_a_limit_already_overspent_says_nothing_is_left():
    # The facilitator lowered the budget below what is already committed.
    with pytest.raises(BudgetExceeded) as exc:
        check(Room(budget=50.0, budget_left=-20.0), 5.0)
    assert "has 0.00 of 50.00 left (over by 5.00)" in str(exc.value)


def test_room_from_figures_applies_the_cap_only_to_a_participant():
    assert Room.of(budget=None, committed=70.0, cap=50.0) == Room()
    assert Room.of(budget=100.0, committed=70.0, cap=50.0, participant_committed=45.0) == Room(100.0, 30.0, 50.0, 5.0)
    assert Room.of(budget=100.0, committed=70.0).left == 30.0


def test_the_providers_figure_wins_once_known():
    assert budget.spend(None, 10.0) == 10.0
    assert budget.spend(20.5, 10.0) == 20.5
    assert budget.spend(0.0, 10.0) == 0.0  # a known zero is a figure, not a missing one


# --- the figures the store gathers -----------------------------------------------------------


@pytest.fixture
def db(db_url, tmp_path) -> Store:
    return Store(db_url, data_dir=tmp_path)


@pytest.fixture
def ws(db):
    return db.create_workspace("Workshop", facilitator=FAC)


def _submitted(db, ws, estimate, reserved, **kw):
    run = db.create_run(ws.id, REQ, estimate, True, FP, **kw)
    usage = {} if reserved is None else {"credits_reserved": reserved}
    db.mark_submitted(
        run.id, Task.model_validate({"id": f"task-unified-{run.id}", "status": "pending", "usage": usage})
    )
    return db.get_run(run.id)


def test_committed_counts_billed_runs_at_the_providers_figure_else_our_estimate(db, ws):
    waiting = db.create_run(ws.id, REQ, 10.0, True, FP, participant_id="Ada")  # not answered yet: our estimate
    reserved = _submitted(db, ws, 7.0, 20.5, participant_id="Bo")  # the provider's figure
    assert reserved.credits_reserved == 20.5
    refused = db.create_run(ws.id, REQ, 30.0, True, FP, participant_id="Ada")
    db.mark_submit_failed(refused.id, "insufficient_quota", "No credits")  # never billed
    failed = _submitted(db, ws, 5.0, 5.0, participant_id="Bo")
    db.update_from_task(failed.id, Task(id="t", status="failed"))  # failed before completing: not billed
    expired = _submitted(db, ws, 3.0, None, participant_id="Ada")
    db.update_from_task(expired.id, Task(id="t", status="completed", results=["http://x/v.mp4"]))
    db.mark_expired(expired.id)  # the provider finished it: billed
    assert db.committed_credits(ws.id) == pytest.approx(10.0 + 20.5 + 3.0)
    assert db.committed_credits(ws.id, "Ada") == pytest.approx(13.0)
    # The SQL sum and the rule in Python agree run by run.
    runs = db.list_runs(ws.id)
    assert sum(budget.spend(r.credits_reserved, r.estimate_credits) for r in runs if r.billed) == pytest.approx(
        db.committed_credits(ws.id)
    )
    assert waiting.billed and not db.get_run(refused.id).billed and not db.get_run(failed.id).billed


def test_budget_room_is_what_the_ui_shows_before_the_click(db, ws):
    assert db.budget_room(ws.id, "Ada") == Room()
    db.set_budget(ws.id, 100, per_participant_cap=30, by=FAC)
    db.create_run(ws.id, REQ, 10.0, True, FP, participant_id="Ada")
    db.create_run(ws.id, REQ, 25.0, True, FP)
    assert db.budget_room(ws.id, "Ada") == Room(budget=100, budget_left=65, cap=30, cap_left=20)
    assert db.budget_room(ws.id).left == 65  # no participant: no cap
    with pytest.raises(KeyError):
        db.budget_room("nope-but-valid")


def test_create_run_enforces_the_rule_exact_fit_in_cent_over_out(db, ws):
    db.set_budget(ws.id, 100, per_participant_cap=40, by=FAC)
    db.create_run(ws.id, REQ, 30.0, True, FP, participant_id="Ada", enforce_budget=True)
    with pytest.raises(BudgetExceeded) as exc:
        db.create_run(ws.id, REQ, 10.01, True, FP, participant_id="Ada", enforce_budget=True)
    assert exc.value.limit is Limit.CAP and "your cap has 10.00 of 40.00 left (over by 0.01)" in str(exc.value)
    db.create_run(ws.id, REQ, 10.0, True, FP, participant_id="Ada", enforce_budget=True)  # exactly the cap
    db.create_run(ws.id, REQ, 60.0, True, FP, enforce_budget=True)  # no participant, no cap: exactly the budget
    with pytest.raises(BudgetExceeded) as exc:
        db.create_run(ws.id, REQ, 0.01, True, FP, participant_id="Bo", enforce_budget=True)
    assert exc.value.limit is Limit.BUDGET
    assert len(db.list_runs(ws.id)) == 3
    db.create_run(ws.id, REQ, 0.01, True, FP)  # without enforce_budget (the worker's own bookkeeping, tests)


def test_a_group_is_checked_as_one_total_and_saved_all_or_nothing(db, ws):
    db.set_budget(ws.id, 50, by=FAC)
    group = [NewRun(REQ, 20.0, True, f"grp-{n}") for n in range(3)]
    with pytest.raises(BudgetExceeded) as exc:
        db.create_runs(ws.id, group, fingerprint=FP, group_id="grp", enforce_budget=True, what="This grid")
    assert (
        str(exc.value) == "This grid needs 60.00 credits; the workshop budget has 50.00 of 50.00 left (over by 10.00)."
    )
    assert db.list_runs(ws.id) == []
    saved = db.create_runs(ws.id, group[:2], fingerprint=FP, group_id="grp", enforce_budget=True)
    db.set_budget(ws.id, 60, by=FAC)
    # The whole group again (a rerun): the two saved runs are not charged again, so the
    # third one fits exactly; weighing all three (40 + 60 > 60) would have refused it.
    again = db.create_runs(ws.id, group, fingerprint=FP, group_id="grp", enforce_budget=True, what="This grid")
    assert [r.id for r in again[:2]] == [r.id for r in saved]
    assert len(db.list_runs(ws.id)) == 3 and db.committed_credits(ws.id) == 60.0


def test_concurrent_runs_cannot_both_take_the_last_credits(db_url, tmp_path):
    setup = Store(db_url, data_dir=tmp_path)
    ws = setup.create_workspace(facilitator=FAC)
    setup.set_budget(ws.id, 25, by=FAC)
    results, barrier = [], threading.Barrier(6)

    def submit():
        db = Store(db_url, data_dir=tmp_path)  # a session of its own on the same database
        barrier.wait()
        try:
            db.create_run(ws.id, REQ, 10.0, True, FP, enforce_budget=True)
            results.append("ok")
        except BudgetExceeded:
            results.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] * 2 + ["refused"] * 4
    assert setup.committed_credits(ws.id) == 20


def test_concurrent_groups_cannot_both_take_the_last_credits(db_url, tmp_path):
    setup = Store(db_url, data_dir=tmp_path)
    ws = setup.create_workspace(facilitator=FAC)
    setup.set_budget(ws.id, 30, by=FAC)
    results, barrier = {}, threading.Barrier(2)

    def send(name):
        db = Store(db_url, data_dir=tmp_path)
        group = [NewRun(REQ, 10.0, True, f"{name}-{n}") for n in range(2)]
        barrier.wait()
        try:
            db.create_runs(ws.id, group, fingerprint=FP, group_id=name, enforce_budget=True, what="This batch")
            results[name] = "ok"
        except BudgetExceeded:
            results[name] = "refused"

    threads = [threading.Thread(target=send, args=(name,)) for name in ("grp_a", "grp_b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["ok", "refused"]
    runs = setup.list_runs(ws.id)
    assert len(runs) == 2 and len({r.group_id for r in runs}) == 1  # one whole group, nothing of the other
    assert all(r.status is RunStatus.SUBMITTING for r in runs)


# --- before the click, and who may change the limits ---------------------------------------------


def test_shortfall_names_the_limit_and_the_amount_before_anything_is_saved():
    assert budget.shortfall(Room(budget=400.0, budget_left=12.0), 12.0) is None
    short = budget.shortfall(Room(budget=400.0, budget_left=12.0, cap=100.0, cap_left=50.0), 24.3)
    assert (short.limit, short.over) == (Limit.BUDGET, pytest.approx(12.3))
    assert str(short) == "Over the workshop budget by 12.30 credits."
    short = budget.shortfall(Room(budget=400.0, budget_left=300.0, cap=50.0, cap_left=-5.0), 10.0)
    assert str(short) == "Over your cap by 10.00 credits."  # overspent already: nothing left, all of it is over
    assert budget.shortfall(Room(), 1e9) is None


def test_the_reserved_figure_is_remarked_on_beyond_five_percent():
    assert budget.reserved_differs(31.26, 67.5)
    assert budget.reserved_differs(100.0, 94.9) and budget.reserved_differs(100.0, 105.1)
    assert not budget.reserved_differs(100.0, 95.0) and not budget.reserved_differs(100.0, 105.0)
    assert not budget.reserved_differs(31.26, None)  # not known yet: nothing to say


def test_a_cleared_limit_is_no_limit_not_zero(db, ws):
    db.set_budget(ws.id, 400, per_participant_cap=50, by=FAC)
    cleared = db.set_budget(ws.id, None, None, by=FAC)
    assert (cleared.budget_credits, cleared.per_participant_cap) == (None, None)
    assert db.budget_room(ws.id, "Ada") == Room()
    db.create_run(ws.id, REQ, 10_000.0, True, FP, participant_id="Ada", enforce_budget=True)


def test_only_the_facilitator_changes_the_limits_and_the_name(db, ws):
    from lib.store import NotFacilitator

    db.join(ws.id, "Ada")
    db.set_budget(ws.id, 400, by=FAC)
    for who in ("Ada", None, "someone-who-never-joined"):
        with pytest.raises(NotFacilitator):
            db.set_budget(ws.id, 100_000, by=who)
        with pytest.raises(NotFacilitator):
            db.rename_workspace(ws.id, "Mine now", by=who)
    ws_now = db.get_workspace(ws.id)
    assert (ws_now.budget_credits, ws_now.name) == (400, "Workshop")


def test_the_cap_follows_the_participant_id_not_the_typed_name(db, ws):
    db.set_budget(ws.id, None, per_participant_cap=30, by=FAC)
    db.create_run(ws.id, REQ, 25.0, True, FP, participant="alice", participant_id="pid-a", enforce_budget=True)
    # Another browser calling itself "Alice" (or "alice") has a cap of its own.
    db.create_run(ws.id, REQ, 25.0, True, FP, participant="alice", participant_id="pid-b", enforce_budget=True)
    with pytest.raises(BudgetExceeded) as exc:
        db.create_run(ws.id, REQ, 6.0, True, FP, participant="Alice", participant_id="pid-a", enforce_budget=True)
    assert exc.value.limit is Limit.CAP
    assert db.committed_credits(ws.id, "pid-a") == db.committed_credits(ws.id, "pid-b") == 25.0


def test_spend_per_participant_for_the_facilitator(db, ws):
    db.join(ws.id, "pid-a")
    db.join(ws.id, "pid-b")
    db.set_display_name(ws.id, "pid-a", "Ana")
    db.create_run(ws.id, REQ, 12.0, True, FP, participant="Ana", participant_id="pid-a")
    _submitted(db, ws, 10.0, 20.5, participant="Ana", participant_id="pid-a")
    refused = db.create_run(ws.id, REQ, 99.0, True, FP, participant="Ana", participant_id="pid-a")
    db.mark_submit_failed(refused.id, "insufficient_quota", "No credits")  # counted as a run, not as spend
    table = {s.participant_id: (s.display_name, s.credits, s.runs) for s in db.spend_by_participant(ws.id)}
    assert table == {
        "pid-a": ("Ana", pytest.approx(32.5), 3),
        "pid-b": ("Participant 2", 0.0, 0),
        FAC: ("Facilitator", 0.0, 0),
    }
    assert db.spend_by_participant(ws.id)[0].participant_id == "pid-a"  # the biggest spender first
