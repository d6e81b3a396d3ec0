"""The Gallery page, driven through Streamlit's AppTest (no browser), over a store seeded directly.

The cards are one component: what the page hands it (its data) is what these tests read;
how the browser draws and updates them is tested in tests/e2e/test_gallery.py.
"""

import json

import pytest

from lib import cards, events
from lib.schema import GenerationRequest, Task
from lib.store import Store
from tests.support.apptest import walk

PAGE = "pages/gallery.py"
APP_URL = "http://127.0.0.1:8501/gallery"
EVIL = "<script>alert('x')</script> **bold** [link](https://evil.example) <b>tag</b>"


def _task(status="pending", **extra) -> Task:
    return Task.model_validate({"id": f"task-unified-{extra.pop('n', 1)}", "status": status, **extra})


def _seed(db: Store, ws_id: str, prompt: str, status: str, *, model="seedance-2.0-text-to-video", n=1, error=None):
    req = GenerationRequest(model=model, prompt=prompt)
    run = db.create_run(ws_id, req, 67.5, True, "k_test")
    assert db.claim_submit(run.id)
    db.mark_submitted(run.id, _task(n=n))
    if status == "processing":
        return db.update_from_task(run.id, _task("processing", n=n, progress=40), next_poll_at=2e9)
    if status == "failed":
        return db.update_from_task(run.id, _task("failed", n=n, error=error))
    db.update_from_task(run.id, _task("completed", n=n, progress=100, results=["http://sim/v.mp4"]))
    return db.mark_archived(run.id, "t" * 31 + str(n % 10), 1234, 5.0, 1280, 720)


@pytest.fixture
def seeded(demo_app):
    db = demo_app.store
    ws = db.create_workspace("Workshop")
    runs = {
        "archived": _seed(db, ws.id, "A red kite over dunes, wide shot", "archived", n=1),
        "failed": _seed(
            db,
            ws.id,
            "A lighthouse in a storm at night",
            "failed",
            n=2,
            error={"code": "content_policy_violation", "message": EVIL},
        ),
        "processing": _seed(
            db, ws.id, "A fox in snow, slow pan", "processing", model="seedance-2.0-fast-text-to-video", n=3
        ),
    }
    return db, ws, runs


@pytest.fixture
def open_gallery(demo_app):
    def open_(ws_id: str, url: str | None = APP_URL):
        return demo_app.open(PAGE, query_params={"ws": ws_id}, context={"url": url})

    return open_


def _grid(at) -> dict:
    """The data the page gave its cards component."""
    [grid] = [
        n.proto
        for n in walk(at._tree)
        if type(n).__name__ == "UnknownElement"
        and n.type == "bidi_component"
        and n.proto.component_name == "studio_cards"
    ]
    return json.loads(grid.json)


def _cards(at) -> set[str]:
    return {card["id"] for card in _grid(at)["cards"]}


def test_every_run_has_a_card_with_its_id(seeded, open_gallery):
    db, ws, runs = seeded
    at = open_gallery(ws.id)
    grid = _grid(at)
    assert [c["id"] for c in grid["cards"]] == [r.id for r in db.list_runs(ws.id)]  # newest first
    by_id = {c["id"]: c for c in grid["cards"]}
    for run in runs.values():
        assert by_id[run.id] == json.loads(json.dumps(cards.card(db.get_run(run.id))))
    token = runs["archived"].media_token
    # Played from the app's own media route, a poster until someone presses play; no bytes through st.video.
    assert by_id[runs["archived"].id]["video"]["src"] == f"/api/media/{token}"
    assert by_id[runs["archived"].id]["video"]["poster"] == f"/api/media/{token}/poster.jpg"
    assert at.get("video") == []
    live = by_id[runs["processing"].id]
    assert (live["state"], live["progress"], live["label"]) == ("live", 40, "Generating")
    assert grid["url"] == f"/api/events/{ws.id}"  # the page listens to its workspace's notices
    assert grid["patch"] is True  # the plain view places notices itself
    assert at.query_params["ws"] == ws.id


def test_the_cards_replay_every_notice_that_came_during_the_read(seeded, open_gallery, monkeypatch):
    """A notice published while the page reads its runs may be missing from them: the cards must hear it again."""
    _db, ws, runs = seeded
    read = Store.list_runs
    during: list[int] = []

    def read_while_a_run_changes(self, *args, **kwargs):
        events.publish(ws.id, runs["processing"].id, "finished")
        during.append(events.last_seq())
        return read(self, *args, **kwargs)

    monkeypatch.setattr(Store, "list_runs", read_while_a_run_changes)
    at = open_gallery(ws.id)
    assert during
    assert _grid(at)["since"] < min(during)  # taken before the read: the browser replays what came after


def test_failed_card_carries_code_and_server_text_as_plain_data(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id)
    card = next(c for c in _grid(at)["cards"] if c["id"] == runs["failed"].id)
    assert card["error"]["code"] == "content_policy_violation"
    assert card["error"]["message"] == EVIL  # the browser sets it as text, never as HTML
    assert card["error"]["advice"].startswith("Reword the prompt")
    rendered_as_markup = [m.value for m in at.markdown if "<script>" in m.value or "evil.example" in m.value]
    assert rendered_as_markup == []


def test_filters_narrow_the_list_and_hand_notices_to_the_server(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id)
    at.multiselect(key="f_status").set_value(["failed"]).run()
    assert _cards(at) == {runs["failed"].id}
    assert _grid(at)["patch"] is False  # with a filter on, a notice reruns the grid instead
    at.multiselect(key="f_status").set_value([]).run()
    at.selectbox(key="f_model").set_value("seedance-2.0-fast-text-to-video").run()
    assert _cards(at) == {runs["processing"].id}
    at.selectbox(key="f_model").set_value(None).run()
    at.text_input(key="f_text").input("KITE").run()
    assert _cards(at) == {runs["archived"].id}
    at.text_input(key="f_text").input("nothing like this").run()
    assert _cards(at) == set()
    assert _grid(at)["empty"] == "No runs match these filters."
    at.text_input(key="f_text").input("").run()
    assert len(_cards(at)) == 3
    assert _grid(at)["patch"] is True


def test_a_rating_shows_on_its_card_and_in_the_rating_filter(seeded, open_gallery):
    db, ws, runs = seeded
    run_id = runs["archived"].id
    db.set_rating(run_id, 4)
    at = open_gallery(ws.id)
    assert next(c for c in _grid(at)["cards"] if c["id"] == run_id)["rating"] == 4
    at.selectbox(key="f_rating").set_value(4).run()
    assert _cards(at) == {run_id}


def test_filters_fold_away_behind_a_toggle_on_phones(seeded, open_gallery):
    _db, ws, _runs = seeded
    at = open_gallery(ws.id)
    assert at.toggle(key="filters_toggle").value is False
    assert at.container(key="filters") is not None  # folded on a phone by the page's style (tests/e2e)
    at.toggle(key="filters_toggle").set_value(True).run()
    assert [c.key for c in at.container if c.key in ("filters", "filters_open")] == ["filters_open"]
    assert at.multiselect(key="f_status") is not None


def test_empty_workspace_invites_to_the_studio(demo_app, provider):
    # The whole app, as a browser opens it.
    ws = demo_app.store.create_workspace("Empty")
    provider.balance = 1234.5
    at = demo_app.open("app.py", query_params={"ws": ws.id}, context={"url": APP_URL})
    assert [m.value for m in at.sidebar.markdown if "Balance" in m.value] == ["**Balance** · 1,234.50 credits"]
    at.switch_page("pages/gallery.py").run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Gallery"]
    assert _cards(at) == set()
    grid = _grid(at)
    assert grid["empty"].startswith("No runs yet")  # shown by the cards' component until its first card
    assert grid["patch"] is True  # the first run is placed by the page itself: no rerun of the grid
    assert at.query_params["ws"] == ws.id


def test_cards_need_no_browser_url(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id, url=None)
    card = next(c for c in _grid(at)["cards"] if c["id"] == runs["archived"].id)
    assert card["video"]["src"] == f"/api/media/{runs['archived'].media_token}"  # the page's own origin


# --- the detail view ----------------------------------------------------------------------------


def _details(demo_app, run_id: str, url: str | None = APP_URL):
    def script():
        import streamlit as st

        from components import run_card, workspace

        run_card.details(workspace.store().get_run(st.session_state["run_id"]))

    return demo_app.open(script, session_state={"run_id": run_id}, context={"url": url})


def test_details_of_an_archived_run_hold_the_contact_sheet_notes_remix_and_download(seeded, demo_app):
    db, _ws, runs = seeded
    run = runs["archived"]
    at = _details(demo_app, run.id)
    box = at.container(key=f"detail-{run.id}")
    assert box is not None
    [sheet] = at.get("image")
    assert sheet.proto.imgs[0].url == f"http://127.0.0.1:8501/api/media/{run.media_token}/sheet.jpg"
    assert run.request.prompt in [t.value for t in at.text]
    assert any(c.value.startswith("Made ") and "task" in c.value for c in at.caption)
    [download] = [b for b in at.get("link_button") if b.proto.label == "Download"]
    assert download.proto.url == f"http://127.0.0.1:8501/api/media/{run.media_token}?download={run.id}"
    assert at.button(key=f"remix-{run.id}") is not None
    assert at.container(key="lineage").container(key=f"lineage-node-{run.id}") is not None  # its family tree
    at.text_area(key=f"notes-{run.id}").input("Kite too small; try a closer shot").run()
    assert db.get_run(run.id).notes == "Kite too small; try a closer shot"


def test_details_of_a_failed_run_start_with_what_went_wrong(seeded, demo_app):
    _db, _ws, runs = seeded
    at = _details(demo_app, runs["failed"].id)
    errors = " ".join(e.value for e in at.error)
    assert "content\\_policy\\_violation" in errors  # escaped in the Markdown source, shown literally
    assert EVIL in [t.value for t in at.text]  # st.text: shown literally, never as Markdown or HTML
    assert [c.value for c in at.caption if "Reword the prompt" in c.value]
    assert at.get("image") == [] and [b for b in at.get("link_button") if b.proto.label == "Download"] == []


def test_remix_reproduces_every_setting_of_the_run_not_the_studios_last_ones(demo_app):
    """A run saved with API defaults left out (as a CSV batch does) still remixes to those defaults."""
    db = demo_app.store
    ws = db.create_workspace("remix")
    run = db.create_run(
        ws.id, GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A kite"), 10.0, True, "k_test"
    )

    def script():
        import streamlit as st

        from components import run_card, workspace

        run_card.remix(workspace.store().get_run(st.session_state["run_id"]))

    # What the Studio held before: none of it belongs to the run being remixed.
    studio_before = {
        "quality": "480p",
        "duration": 12,
        "generate_audio": False,
        "content_filter": False,
        "image_urls": "https://example.com/a.png",
        "prompt": "something else",
    }
    at = demo_app.open(script, session_state={"run_id": run.id, **studio_before})
    ss = at.session_state
    assert (ss["model"], ss["prompt"], ss["duration"], ss["quality"]) == (
        "seedance-2.0-fast-text-to-video",
        "A kite",
        5,
        "720p",
    )
    assert ss["generate_audio"] is True and ss["content_filter"] is True and ss["image_urls"] == ""
    assert ss["remix_of"] == run.id
