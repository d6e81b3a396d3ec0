"""Workshop rules: the total of a grid or batch against the budget and the cap, all or nothing; the leaderboard."""

from __future__ import annotations

import pytest

from lib import pricing, workshop
from lib.schema import GenerationRequest, Task
from lib.store import SUBMIT_FAILED, SUBMITTING, BudgetExceeded, Store

FP = "k_test"


def _req(prompt="A fox in snow", **kw) -> GenerationRequest:
    return GenerationRequest(model="seedance-2.0-text-to-video", prompt=prompt, **kw)


def _item(credits: float, prompt="A fox") -> workshop.Item:
    req = _req(prompt)
    est = pricing.estimate(req)
    est.credits = credits
    return workshop.Item(req, est, prompt)


class FakeClient:
    """Answers every POST with a new task; counts the POSTs."""

    def __init__(self):
        self.posts = []

    def create(self, request):
        self.posts.append(request)
        return Task(id=f"task_{len(self.posts)}", status="pending")


@pytest.fixture
def db():
    return Store("sqlite://")


@pytest.fixture
def ws(db):
    return db.create_workspace("Workshop")


def test_no_budget_means_no_limit(db, ws):
    workshop.check_total(db, ws.id, 1e9)


def test_total_over_the_workspace_budget_names_the_numbers(db, ws):
    db.set_budget(ws.id, 1000)
    db.create_run(ws.id, _req(), 800, True, FP)
    with pytest.raises(BudgetExceeded) as exc:
        workshop.check_total(db, ws.id, 540, what="This grid")
    assert str(exc.value) == "This grid costs 540.00 credits; the workspace has 200.00 of 1,000.00 left."
    assert exc.value.room == pytest.approx(200)
    workshop.check_total(db, ws.id, 200)  # an exact fit is allowed


def test_total_over_the_participant_cap_names_the_participant(db, ws):
    db.set_budget(ws.id, 1000, 300)
    db.create_run(ws.id, _req(), 250, True, FP, participant="Ana")
    with pytest.raises(BudgetExceeded, match=r"This batch costs 100.00 credits; Ana has 50.00 of a 300.00 cap left."):
        workshop.check_total(db, ws.id, 100, participant="Ana")
    workshop.check_total(db, ws.id, 100, participant="Ben")  # another participant still has room
    workshop.check_total(db, ws.id, 100)  # the cap applies to named runs, as in Store.create_run


def test_failed_submissions_do_not_count(db, ws):
    db.set_budget(ws.id, 100)
    run = db.create_run(ws.id, _req(), 90, True, FP)
    db.mark_submit_failed(run.id, "x", "refused")
    workshop.check_total(db, ws.id, 100)


def test_prepare_group_is_all_or_nothing(db, ws):
    db.set_budget(ws.id, 100)
    with pytest.raises(BudgetExceeded, match=r"costs 120\.00 credits; the workspace has 100\.00 of 100\.00 left"):
        workshop.prepare_group(db, ws.id, [_item(40), _item(40), _item(40)], group_id="grp_123456", fingerprint=FP)
    assert db.list_runs(ws.id) == []


def test_prepare_and_send_group(db, ws):
    db.set_budget(ws.id, 100)
    items = [_item(30, "one"), _item(30, "two")]
    runs = workshop.prepare_group(db, ws.id, items, group_id="grp_123456", fingerprint=FP, participant="Ana")
    assert [r.status for r in runs] == [SUBMITTING, SUBMITTING]
    assert {r.group_id for r in runs} == {"grp_123456"} and {r.participant for r in runs} == {"Ana"}
    client = FakeClient()
    sent = workshop.send_group(db, client, runs)
    assert [r.task_id for r in sent] == ["task_1", "task_2"]
    assert [p.prompt for p in client.posts] == ["one", "two"]
    # A rerun of the same group (double click) saves and sends nothing new and is not charged twice.
    again = workshop.prepare_group(db, ws.id, items, group_id="grp_123456", fingerprint=FP, participant="Ana")
    assert [r.id for r in again] == [r.id for r in runs]
    workshop.send_group(db, client, again)
    assert len(client.posts) == 2
    assert db.committed_credits(ws.id) == pytest.approx(60)


def test_group_cancelled_when_the_room_goes_during_saving(db, ws, monkeypatch):
    db.set_budget(ws.id, 100)
    monkeypatch.setattr(workshop, "check_total", lambda *a, **k: None)  # the up-front check raced and lost
    db.create_run(ws.id, _req(), 50, True, FP)
    with pytest.raises(BudgetExceeded):
        workshop.prepare_group(db, ws.id, [_item(30), _item(30)], group_id="grp_race01", fingerprint=FP)
    grp = db.list_runs(ws.id, group_id="grp_race01")
    assert [r.status for r in grp] == [SUBMIT_FAILED]  # saved, never sent, nothing charged
    assert db.committed_credits(ws.id) == pytest.approx(50)


def test_leaderboard_ranks_prompts_by_average_rating(db, ws):
    def run(prompt, rating, who=None):
        r = db.create_run(ws.id, _req(prompt), 10, True, FP, participant=who)
        if rating:
            db.set_rating(r.id, rating)

    run("fox", 5, "Ana"), run("fox", 3, "Ben"), run("fox ", None)  # same prompt modulo whitespace
    run("boat", 4, "Ana"), run("boat", 4)
    run("owl", None)
    table = workshop.leaderboard(db.list_runs(ws.id))
    # A tie on average and count falls back to the prompt's alphabetical order.
    assert [(s.prompt, s.average, s.ratings, s.runs) for s in table] == [("boat", 4.0, 2, 2), ("fox", 4.0, 2, 3)]
    fox = next(s for s in table if s.prompt == "fox")
    assert fox.participants == ("Ana", "Ben") and fox.runs == 3
    assert "owl" not in [s.prompt for s in table]


def test_leaderboard_order_and_limit(db, ws):
    for prompt, rating in (("a", 2), ("b", 5), ("c", 3)):
        db.set_rating(db.create_run(ws.id, _req(prompt), 1, True, FP).id, rating)
    table = workshop.leaderboard(db.list_runs(ws.id), limit=2)
    assert [s.prompt for s in table] == ["b", "c"]
