"""What a gallery card says about a run: its state, when it was made, how long it took, what it cost, its words."""

from __future__ import annotations

import json

import pytest

from lib import cards, pricing
from lib.schema import GenerationRequest, Task
from lib.status import LABELS, RunStatus
from lib.store import Store
from tests.support.database import migrated

T0 = 1_800_000_000.0
FAST = "seedance-2.0-fast-text-to-video"
PROMPT = 'A red kite over dunes, wide shot <script>alert("x")</script>'


@pytest.fixture
def db(tmp_path):
    return Store(migrated(tmp_path))


def _submitted(db: Store, prompt: str = PROMPT, **request):
    ws = db.create_workspace("Cards")
    req = GenerationRequest(
        model="seedance-2.0-fast-text-to-video", prompt=prompt, duration=5, quality="720p", **request
    )
    run = db.create_run(ws.id, req, 30.0, True, "k_test", participant="Ana", now=T0)
    assert db.claim_submit(run.id, now=T0)
    task = Task.model_validate(
        {
            "id": "task-unified-1",
            "status": "pending",
            "task_info": {"estimated_time": 90},
            "usage": {"credits_reserved": 33.75},
        }
    )
    return db.mark_submitted(run.id, task, now=T0 + 1)


def test_a_running_card_shows_progress_the_estimate_and_what_is_reserved(db):
    run = _submitted(db)
    run = db.update_from_task(run.id, Task(id="task-unified-1", status="processing", progress=40), now=T0 + 30)
    card = cards.card(run)
    assert (card["state"], card["status"], card["label"], card["progress"]) == ("live", "processing", "Generating", 40)
    assert card["eta_at"] == T0 + 1 + 90
    assert card["made_at"] == T0 and card["facts"] == ["reserved 33.75 credits"]
    assert card["video"] is None and card["error"] is None and card["toast"] is None
    assert card["prompt"] == PROMPT  # plain text: the browser sets it with textContent
    assert ["green", "Ana"] in card["badges"] and ["gray", "5 s"] in card["badges"]
    json.dumps(card)  # all of it travels as JSON


def test_an_archived_card_plays_from_the_media_route_with_a_poster_and_says_how_long_it_took(db):
    run = _submitted(db)
    db.update_from_task(
        run.id, Task(id="task-unified-1", status="completed", progress=100, results=["https://x/v.mp4"])
    )
    run = db.mark_archived(run.id, "A" * 32, 1234, 5.0, 1280, 720, now=T0 + 75)
    card = cards.card(run)
    assert card["state"] == "video" and card["progress"] == 100 and card["eta_at"] is None
    assert card["video"] == {
        "src": "/api/media/" + "A" * 32,
        "poster": "/api/media/" + "A" * 32 + "/poster.jpg",
        "width": 1280,
        "height": 720,
    }
    assert card["facts"] == ["took 1 min 15 s", "cost 33.75 credits"]
    assert (
        card["toast"]
        == '“A red kite over dunes, wide shot <script>alert("x")</script>” is ready: 5 s at 720p, made in 1 min 15 s.'
    )


def test_a_failed_card_carries_the_code_the_server_text_and_what_to_do(db):
    run = _submitted(db)
    evil = "<img src=x onerror=alert(1)> **not bold**"
    run = db.update_from_task(
        run.id,
        Task.model_validate(
            {"id": "task-unified-1", "status": "failed", "error": {"code": "content_policy_violation", "message": evil}}
        ),
        now=T0 + 20,
    )
    card = cards.card(run)
    assert card["state"] == "failed" and card["label"] == "Failed"
    assert card["error"]["code"] == "content_policy_violation"
    assert card["error"]["message"] == evil  # kept verbatim; drawn as text
    assert card["error"]["advice"].startswith("Reword the prompt")
    assert card["facts"] == ["took 20 s", "not charged"]  # failed before the provider completed it
    assert card["toast"].startswith("“A red kite") and "failed: Reword the prompt" in card["toast"]
    assert card["toast"].endswith(".")


def test_cost_words_follow_the_billed_rule(db):
    ws = db.create_workspace("Costs")
    run = db.create_run(ws.id, GenerationRequest(model=FAST, prompt="A kite"), 12.5, True, "k")
    assert cards.cost(run) == "estimate 12.50 credits"
    run = db.mark_submit_failed(run.id, "insufficient_quota", "No credits")
    assert cards.cost(run) == "not charged"
    assert cards.card(run)["facts"][-1] == "not charged"


def test_estimate_words_when_nothing_is_reserved(db):
    ws = db.create_workspace("Costs")
    run = db.create_run(ws.id, GenerationRequest(model=FAST, prompt="A kite"), 12.5, True, "k")
    amount = pricing.format_amount(12.5)
    assert cards.cost(run) == f"estimate {amount} credits"
    run = db.mark_unknown(run.id, "timeout", "No answer")
    assert cards.cost(run) == f"cost ≈ {amount} credits (our estimate)"  # may have been billed: counted


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0 s"), (59.4, "59 s"), (60, "1 min"), (61, "1 min 1 s"), (3599, "59 min 59 s"), (3600, "1 h 0 min")],
)
def test_took_reads_like_a_person_says_it(seconds, words):
    assert cards.took(seconds) == words


def test_silent_filter_off_and_web_search_are_badges(db):
    ws = db.create_workspace("Badges")
    req = GenerationRequest(
        model="seedance-2.0-text-to-video", prompt="A kite", generate_audio=False, content_filter=False, web_search=True
    )
    run = db.create_run(ws.id, req, 10.0, True, "k")
    texts = [text for _, text in cards.card(run)["badges"]]
    assert "silent" in texts and "web search" in texts
    assert f"filter off {pricing.price_words().filter_off}" in texts


def test_a_card_names_each_state_in_the_words_of_the_status_table(db):
    run = _submitted(db)
    assert cards.card(run)["label"] == LABELS[RunStatus.PENDING].capitalize()
    done = Task(id="task-unified-1", status="completed", progress=100, results=["https://files.example/v.mp4"])
    run = db.update_from_task(run.id, done, now=T0 + 60)
    assert run.status is RunStatus.COMPLETED  # finished upstream, video not saved yet
    assert cards.card(run)["label"] == LABELS[RunStatus.COMPLETED].capitalize()
