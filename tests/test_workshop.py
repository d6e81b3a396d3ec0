"""Workshop rules: a grid or batch saved and sent all or nothing against the budget and the cap; the leaderboard."""

from __future__ import annotations

import doctest

import pytest

from lib import pricing, workshop
from lib.budget import BudgetExceeded, Limit
from lib.schema import GenerationRequest, Task
from lib.status import RunStatus
from lib.store import Store
from tests.support.database import migrated

FP = "k_test"
FAC = "pid_facilitator_000000000000"


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
def db(tmp_path):
    return Store(migrated(tmp_path))  # a database of its own: submit keys are unique across one database


@pytest.fixture
def ws(db):
    return db.create_workspace("Workshop", facilitator=FAC)


def test_doctest():
    result = doctest.testmod(workshop)
    assert result.attempted and not result.failed


def test_no_budget_means_no_limit(db, ws):
    runs = workshop.prepare_group(db, ws.id, [_item(1e9)], group_id="grp_123456", fingerprint=FP)
    assert [r.status for r in runs] == [RunStatus.SUBMITTING]


def test_prepare_group_is_all_or_nothing_and_names_the_numbers(db, ws):
    db.set_budget(ws.id, 100, by=FAC)
    items = [_item(40), _item(40), _item(40)]
    with pytest.raises(BudgetExceeded) as exc:
        workshop.prepare_group(db, ws.id, items, group_id="grp_123456", fingerprint=FP, what="This grid")
    assert str(exc.value) == (
        "This grid needs 120.00 credits; the workshop budget has 100.00 of 100.00 left (over by 20.00)."
    )
    assert db.list_runs(ws.id) == []
    # An exact fit is allowed.
    assert len(workshop.prepare_group(db, ws.id, [*items[:2], _item(20)], group_id="grp_7890ab", fingerprint=FP)) == 3


def test_a_group_over_the_participant_cap_is_refused_naming_the_cap(db, ws):
    db.set_budget(ws.id, 1000, 300, by=FAC)
    db.create_run(ws.id, _req(), 250, True, FP, participant="Ana", participant_id="pid-ana")
    with pytest.raises(BudgetExceeded) as exc:
        workshop.prepare_group(db, ws.id, [_item(100)], group_id="grp_ana001", fingerprint=FP, participant_id="pid-ana")
    assert exc.value.limit is Limit.CAP
    assert str(exc.value) == "This batch needs 100.00 credits; your cap has 50.00 of 300.00 left (over by 50.00)."
    # Another participant still has room, even under the same name; the cap applies to a participant's runs only.
    workshop.prepare_group(
        db, ws.id, [_item(100)], group_id="grp_ben001", fingerprint=FP, participant="Ana", participant_id="pid-ben"
    )
    workshop.prepare_group(db, ws.id, [_item(100)], group_id="grp_anon01", fingerprint=FP)


def test_failed_submissions_do_not_count(db, ws):
    db.set_budget(ws.id, 100, by=FAC)
    run = db.create_run(ws.id, _req(), 90, True, FP)
    db.mark_submit_failed(run.id, "x", "refused")
    workshop.prepare_group(db, ws.id, [_item(100)], group_id="grp_123456", fingerprint=FP)


def test_prepare_and_send_group(db, ws):
    db.set_budget(ws.id, 100, by=FAC)
    items = [_item(30, "one"), _item(30, "two")]
    runs = workshop.prepare_group(db, ws.id, items, group_id="grp_123456", fingerprint=FP, participant="Ana")
    assert [r.status for r in runs] == [RunStatus.SUBMITTING, RunStatus.SUBMITTING]
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


def test_leaderboard_names_follow_the_participant_id(db, ws):
    for name, pid in (("Ana", "pid-1"), ("Ana", "pid-2"), ("Ben", "pid-3")):
        db.join(ws.id, pid)
        r = db.create_run(ws.id, _req("fox"), 10, True, FP, participant=name, participant_id=pid)
        db.set_rating(r.id, 4)
    db.set_display_name(ws.id, "pid-3", "Benedict")  # a rename carries over to the runs already made
    [fox] = workshop.leaderboard(db.list_runs(ws.id))
    assert fox.participants == ("Ana", "Ana", "Benedict")


def test_leaderboard_order_and_limit(db, ws):
    for prompt, rating in (("a", 2), ("b", 5), ("c", 3)):
        db.set_rating(db.create_run(ws.id, _req(prompt), 1, True, FP).id, rating)
    table = workshop.leaderboard(db.list_runs(ws.id), limit=2)
    assert [s.prompt for s in table] == ["b", "c"]
