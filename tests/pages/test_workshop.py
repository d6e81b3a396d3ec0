"""Workshops under AppTest: roles, invite and facilitator links, workspaces you can find, drafts, limits, words.

Each ``open`` is a new browser session; ``session_state["pid"]`` plays the browser's
participant id (what its cookie holds in a real browser), so one test can be a
facilitator and two participants. AppTest keeps the sidebar of a session's first run
only (what app.py draws before the page is not in the tree of later runs), so a test
changes one sidebar field per session and opens a new session to look again.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest

from components import inline
from lib import pricing
from lib.identity import new_participant_id
from lib.pricing import format_amount, load_rates
from lib.store import NotFacilitator, Role
from tests.support.apptest import walk

APP = "app.py"
URL = "http://studio.test:8501/"
PROMPT = "A red fox runs through fresh snow, wide shot, golden light"
# The Studio's default run: 5 s of standard text-to-video at 720p.
DEFAULT_RUN = 5 * load_rates().rate("standard", "720p").without_video


@pytest.fixture
def people():
    """Participant ids for a facilitator and two participants."""
    return {"fac": new_participant_id(), "ana": new_participant_id(), "ben": new_participant_id()}


@pytest.fixture
def open_as(demo_app):
    def open_(pid: str, *, ws: str | None = None, f: str | None = None, **state):
        query = {k: v for k, v in (("ws", ws), ("f", f)) if v is not None}
        return demo_app.open(APP, session_state={"pid": pid, **state}, query_params=query, context={"url": URL})

    return open_


@pytest.fixture
def workshop(open_as, people, demo_app):
    """A workspace the facilitator started, and the secret of its facilitator link."""
    at = open_as(people["fac"])
    ws_id = at.session_state["ws"]
    secret = re.search(r"&f=([\w-]+)", _code_in(at, "facilitator_link")).group(1)
    return demo_app.store.get_workspace(ws_id), secret


def _code_in(at, key: str) -> str:
    """The link shown in the sidebar container ``key`` (``workspace.link_box``: its text, unescaped)."""
    bodies = [h.proto.body for h in at.sidebar.container(key=key).html]
    return " ".join(html.unescape(c) for body in bodies for c in re.findall(r"<code>(.*?)</code>", body))


def _sidebar_text(at) -> str:
    return " ".join(str(e.value) for e in [*at.sidebar.caption, *at.sidebar.markdown, *at.sidebar.warning])


# --- roles -----------------------------------------------------------------------------------------


def test_whoever_starts_a_workspace_facilitates_it_and_the_invite_link_names_nobody(open_as, people, demo_app):
    at = open_as(people["fac"])
    ws_id = at.session_state["ws"]
    assert at.query_params["ws"] == ws_id
    assert demo_app.store.member(ws_id, people["fac"]).role is Role.FACILITATOR
    assert not at.sidebar.text_input(key="ws_name").disabled
    assert not at.sidebar.number_input(key="ws_budget").disabled
    invite = _code_in(at, "invite_link")
    assert invite == f"{URL}?ws={ws_id}"
    flink = _code_in(at, "facilitator_link")
    assert flink.startswith(f"{URL}?ws={ws_id}&f=")
    assert people["fac"] not in invite + flink  # the participant id is never shown
    # Each with a copy button, and the button's script as the policy allows it (by its exact text).
    [box] = at.sidebar.container(key="invite_link").html
    assert 'class="sp-copy"' in box.proto.body and inline.script_tag("copy_link") in box.proto.body
    assert not re.search(r"<[/\w!]", inline.script_text("copy_link"))  # st.html's sanitizer would drop the script
    at.sidebar.button(key="facilitator_link_done").click().run()
    assert not [c for c in at.sidebar.container if c.key == "facilitator_link"]  # shown once


def test_participants_see_the_limits_read_only_and_the_store_refuses_them_too(workshop, open_as, people, demo_app):
    ws, _secret = workshop
    db = demo_app.store
    db.set_budget(ws.id, 400, by=people["fac"])
    at = open_as(people["ana"], ws=ws.id)
    assert db.member(ws.id, people["ana"]).role is Role.PARTICIPANT
    for key in ("ws_name", "ws_budget", "ws_cap"):
        widget = at.sidebar.text_input(key=key) if key == "ws_name" else at.sidebar.number_input(key=key)
        assert widget.disabled, key
    assert at.sidebar.number_input(key="ws_budget").value == 400
    assert "You take part in this workshop." in _sidebar_text(at)
    assert len(at.sidebar.dataframe) == 0  # spend per participant: for facilitators only
    # A disabled field is only the page's manners: the store refuses this browser whatever it sends.
    with pytest.raises(NotFacilitator):
        db.set_budget(ws.id, 100_000, by=people["ana"])
    with pytest.raises(NotFacilitator):
        db.rename_workspace(ws.id, "Ana's now", by=people["ana"])
    facilitator = open_as(people["fac"], ws=ws.id)
    [spend] = facilitator.sidebar.dataframe
    assert list(spend.value["Participant"]) == ["Facilitator", "Participant 1"]


def test_a_cleared_budget_is_no_limit_and_a_limit_can_be_removed(workshop, open_as, people, demo_app):
    ws, _secret = workshop

    def limits():
        found = demo_app.store.get_workspace(ws.id)
        return found.budget_credits, found.per_participant_cap

    for key, value, expected in (
        ("ws_budget", 400.0, (400, None)),
        ("ws_cap", 50.0, (400, 50)),
        ("ws_budget", None, (None, 50)),
        ("ws_cap", None, (None, None)),
    ):
        at = open_as(people["fac"], ws=ws.id)
        at.sidebar.number_input(key=key).set_value(value).run()
        assert not at.exception, at.exception
        assert limits() == expected, key
    at = open_as(people["fac"], ws=ws.id, prompt=PROMPT)
    assert at.sidebar.number_input(key="ws_budget").value is None
    assert "no budget set" in _sidebar_text(at)
    assert not at.button(key="submit").disabled


def test_the_facilitator_link_makes_another_browser_a_facilitator_and_leaves_the_address_bar(
    workshop, open_as, people, demo_app
):
    ws, secret = workshop
    wrong = open_as(people["ana"], ws=ws.id, f="not-the-secret")
    assert "f" not in wrong.query_params and wrong.sidebar.text_input(key="ws_name").disabled
    assert "not valid for this workspace" in _sidebar_text(wrong)
    right = open_as(people["ben"], ws=ws.id, f=secret)
    assert "f" not in right.query_params and right.query_params["ws"] == ws.id
    assert not right.sidebar.text_input(key="ws_name").disabled
    assert demo_app.store.is_facilitator(ws.id, people["ben"])


def test_a_name_in_the_link_is_ignored_and_names_follow_the_browser(workshop, open_as, people, demo_app):
    ws, _secret = workshop
    ana = open_as(people["ana"], ws=ws.id)
    ana.sidebar.text_input(key="display_name").input("alice").run()
    # Ben opens a link that still names "alice" (as old links did): he stays himself.
    ben = open_as(people["ben"], ws=ws.id, who="alice")
    ben = open_as(people["ben"], ws=ws.id)
    assert ben.sidebar.text_input(key="display_name").value == "Participant 2"
    assert demo_app.store.member(ws.id, people["ana"]).display_name == "alice"


def test_the_cap_follows_the_participant_not_the_name(workshop, open_as, people, demo_app):
    ws, _secret = workshop
    demo_app.store.set_budget(ws.id, None, per_participant_cap=DEFAULT_RUN * 1.5, by=people["fac"])
    for pid in (people["ana"], people["ben"]):
        at = open_as(pid, ws=ws.id, prompt=PROMPT)
        at.sidebar.text_input(key="display_name").input("Alice").run()
        assert not at.button(key="submit").disabled
        at.button(key="submit").click().run()
        assert not at.exception, at.exception
        # The cap now has half a run left for this browser, whatever its name.
        assert at.button(key="submit").disabled
        over = format_amount(DEFAULT_RUN * 0.5)
        assert [w.value for w in at.container(key="submit_blocked").warning] == [f"Over your cap by {over} credits."]
    runs = demo_app.store.list_runs(ws.id)
    assert sorted(r.participant_id for r in runs) == sorted([people["ana"], people["ben"]])
    assert {r.participant for r in runs} == {"Alice"}


# --- limits before the click --------------------------------------------------------------------------


def test_over_budget_generate_is_disabled_and_says_which_limit_and_by_how_much(workshop, open_as, people, demo_app):
    ws, _secret = workshop
    demo_app.store.set_budget(ws.id, 10, by=people["fac"])
    at = open_as(people["ana"], ws=ws.id, prompt=PROMPT)
    assert at.button(key="submit").disabled
    over = format_amount(DEFAULT_RUN - 10)
    assert [w.value for w in at.container(key="submit_blocked").warning] == [
        f"Over the workshop budget by {over} credits."
    ]
    cost = [c.value for c in at.container(key="cost").caption]
    assert "Left under the workshop budget: 10.00 of 10.00 credits." in cost


def test_the_sidebar_total_is_read_after_the_page_so_it_counts_a_run_made_in_the_same_run(demo_app, people):
    def script():
        import streamlit as st

        from components import workspace
        from lib.schema import GenerationRequest

        ws, slot = workspace.sidebar_section()
        # What a page does between the sidebar and the end of the run: a run is saved.
        request = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox")
        workspace.store().create_run(ws.id, request, st.session_state["credits"], True, "k_test")
        workspace.budget_block(slot, ws)

    at = demo_app.open(script, session_state={"pid": people["fac"], "credits": 12.5})
    committed = at.sidebar.container(key="ws_committed")
    assert [c.value for c in committed.caption] == ["Committed: 12.50 credits · no budget set"]


def test_the_providers_figure_far_from_our_estimate_is_remarked_on_and_counted(open_as, people, demo_app, provider):
    def reserve_double(request, _http):
        provider.tasks[f"task_{len(provider.posts)}"] = task = {
            "id": f"task_{len(provider.posts)}",
            "status": "pending",
            "usage": {"credits_reserved": round(DEFAULT_RUN * 2, 2)},
        }
        return httpx.Response(200, json=task)

    provider.on_post = reserve_double
    at = open_as(people["fac"], prompt=PROMPT)
    at.button(key="submit").click().run()
    ok = at.container(key="submit-ok")
    texts = [c.value for c in ok.caption]
    assert any("The provider reserved 100% more than our estimate" in t for t in texts), texts
    assert "task_1" not in " ".join(str(e.value) for e in [*ok.success, *ok.caption])  # no raw task id
    assert demo_app.store.committed_credits(at.session_state["ws"]) == pytest.approx(DEFAULT_RUN * 2)


# --- workspaces you can find -----------------------------------------------------------------------


def test_an_unknown_workspace_shows_not_found_and_creates_nothing(open_as, people, demo_app):
    at = open_as(people["ana"], ws="nosuchworkspace")
    assert at.container(key="ws_not_found") is not None
    assert not at.title  # no page behind it
    assert demo_app.store.recent_workspaces(people["ana"]) == []
    with demo_app.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM workspaces").scalar() == 0
    # A new workspace, when asked for, is this browser's to facilitate.
    at.button(key="ws_start_new").click().run()
    assert not at.exception, at.exception
    ws_id = at.query_params["ws"]
    assert demo_app.store.is_facilitator(ws_id, people["ana"])


def test_not_found_offers_this_browsers_recent_workspaces(workshop, open_as, people):
    ws, _secret = workshop
    at = open_as(people["fac"], ws="../../etc/passwd")
    at.button(key=f"ws_nf_open-{ws.id}").click().run()
    assert at.query_params["ws"] == ws.id and [t.value for t in at.title] == ["Studio"]


def test_no_link_reopens_this_browsers_latest_workspace_instead_of_a_new_one(workshop, open_as, people, demo_app):
    ws, _secret = workshop
    open_as(people["ana"], ws=ws.id)
    again = open_as(people["ana"])  # a new session of the same browser, no ?ws=
    assert again.query_params["ws"] == ws.id
    with demo_app.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM workspaces").scalar() == 1


# --- drafts ----------------------------------------------------------------------------------------------


def test_a_draft_comes_back_in_a_new_session_and_clear_empties_it(workshop, open_as, people, demo_app):
    ws, _secret = workshop
    at = open_as(people["ana"], ws=ws.id)
    at.text_area(key="prompt").input(PROMPT).run()
    at.segmented_control(key="quality").set_value("480p").run()
    at.selectbox(key="aspect_ratio").set_value("9:16").run()
    at.slider(key="duration").set_value(9).run()
    at.toggle(key="generate_audio").set_value(False).run()
    again = open_as(people["ana"], ws=ws.id)  # a reload, a new tab, or after a restart
    assert again.text_area(key="prompt").value == PROMPT
    assert again.segmented_control(key="quality").value == "480p"
    assert again.selectbox(key="aspect_ratio").value == "9:16"
    assert again.slider(key="duration").value == 9
    assert again.toggle(key="generate_audio").value is False
    other = open_as(people["ben"], ws=ws.id)  # drafts are per participant
    assert other.text_area(key="prompt").value == ""
    again.button(key="clear_draft").click().run()
    assert again.text_area(key="prompt").value == "" and again.segmented_control(key="quality").value == "720p"
    assert demo_app.store.load_draft(ws.id, people["ana"]) == {}
    assert open_as(people["ana"], ws=ws.id).text_area(key="prompt").value == ""


def test_a_draft_is_saved_only_when_it_changes(workshop, open_as, people, demo_app, monkeypatch):
    ws, _secret = workshop
    at = open_as(people["ana"], ws=ws.id)
    saves = []
    real = type(demo_app.store).save_draft
    monkeypatch.setattr(
        type(demo_app.store), "save_draft", lambda self, *a, **k: saves.append(a) or real(self, *a, **k)
    )
    at.text_area(key="prompt").input(PROMPT).run()
    at.run()
    at.run()
    assert len(saves) == 1


# --- words -------------------------------------------------------------------------------------------------


def test_participants_never_read_about_environment_variables_or_dashboards(open_as, people):
    at = open_as(people["ana"], prompt=PROMPT)
    words = " ".join(str(node.value) for node in walk(at._tree) if isinstance(getattr(node, "value", None), str))
    assert "Offline simulator" in words  # the sidebar is in what was read
    assert "EVOLINK" not in words and "dashboard" not in words.lower()


def test_the_builders_plain_price_words_still_come_from_the_rate_card(open_as, people):
    at = open_as(people["ana"], prompt=PROMPT)
    assert pricing.format_amount(DEFAULT_RUN) in at.button(key="submit").label


def _finished_run(db, ws_id: str):
    """A run that has finished (failed), so its card in the gallery offers Remix."""
    from lib.schema import GenerationRequest, Task

    run = db.create_run(
        ws_id, GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A kite"), 1, True, "k"
    )
    db.claim_submit(run.id)
    db.mark_submitted(run.id, Task(id="task-r", status="pending"))
    db.mark_failed(run.id, "generation_timeout", "Too long.")
    return run


def _open_gallery(pid: str, ws_id: str, run_id: str):
    """A new session of a browser that opens the gallery first, on a link to one run's details."""
    from streamlit.testing.v1 import AppTest

    from tests.support.apptest import ROOT, like_one_server

    like_one_server()
    at = AppTest.from_file(str(ROOT / APP), default_timeout=60)
    at.session_state["pid"] = pid
    at.query_params["ws"] = ws_id
    at.query_params["run"] = run_id
    return at.switch_page("pages/gallery.py").run()


def test_a_remix_wins_over_the_saved_draft_and_becomes_it(workshop, people, demo_app):
    ws, _secret = workshop
    db = demo_app.store
    run = _finished_run(db, ws.id)
    db.join(ws.id, people["ana"])
    db.save_draft(ws.id, people["ana"], {"prompt": "My unfinished draft", "quality": "480p"})
    at = _open_gallery(people["ana"], ws.id, run.id)
    at.button(key=f"remix-{run.id}").click().run()
    assert not at.exception, at.exception
    assert at.text_area(key="prompt").value == "A kite"
    assert at.selectbox(key="model").value == "seedance-2.0-fast-text-to-video"
    assert db.load_draft(ws.id, people["ana"])["prompt"] == "A kite"


def test_a_remix_that_changes_nothing_leaves_the_next_workspaces_draft_alone(workshop, people, demo_app):
    ws, _secret = workshop
    db = demo_app.store
    run = _finished_run(db, ws.id)
    other, _ = db.start_workspace(people["fac"])
    db.join(other.id, people["ana"])
    db.save_draft(other.id, people["ana"], {"prompt": "A draft for the other workshop"})
    at = _open_gallery(people["ana"], ws.id, run.id)
    at.button(key=f"remix-{run.id}").click().run()
    at.query_params["run"] = run.id
    at.switch_page("pages/gallery.py").run()
    at.button(key=f"remix-{run.id}").click().run()  # the same run again: the draft does not change
    assert at.text_area(key="prompt").value == "A kite"
    at.query_params["ws"] = other.id
    at.switch_page("pages/studio.py").run()
    assert not at.exception, at.exception
    assert at.session_state["ws"] == other.id
    assert at.text_area(key="prompt").value == "A draft for the other workshop"
