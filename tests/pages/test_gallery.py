"""The Gallery page, driven through Streamlit's AppTest (no browser), over a store seeded directly."""

import pytest

from lib.schema import GenerationRequest, Task
from lib.store import Store

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


def _cards(at) -> set[str]:
    return {c.key.removeprefix("run-") for c in at.container if c.key and c.key.startswith("run-")}


def test_every_run_has_a_card_keyed_by_its_id(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id)
    assert _cards(at) == {r.id for r in runs.values()}
    for run in runs.values():
        assert at.container(key=f"run-{run.id}") is not None
    archived = at.container(key=f"run-{runs['archived'].id}")
    assert len(archived.get("video")) == 1
    # Played from the app's own media route by absolute URL, never copied through st.video.
    assert archived.get("video")[0].proto.url == f"http://127.0.0.1:8501/api/media/{runs['archived'].media_token}"
    live = at.container(key=f"run-{runs['processing'].id}")
    assert "40%" in live.get("progress")[0].proto.text
    assert at.query_params["ws"] == ws.id


def test_failed_card_shows_code_and_server_text_as_plain_text(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id)
    card = at.container(key=f"run-{runs['failed'].id}")
    errors = " ".join(e.value for e in card.error)
    assert "content\\_policy\\_violation" in errors  # escaped in the Markdown source, shown literally
    texts = [t.value for t in card.text]
    assert EVIL in texts  # st.text: shown literally, never as Markdown or HTML
    rendered_as_markup = [m.value for m in at.markdown if "<script>" in m.value or "evil.example" in m.value]
    assert rendered_as_markup == []
    assert [c.value for c in card.caption if "Reword the prompt" in c.value]  # what to do about it


def test_filters_narrow_the_list(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id)
    at.multiselect(key="f_status").set_value(["failed"]).run()
    assert _cards(at) == {runs["failed"].id}
    at.multiselect(key="f_status").set_value([]).run()
    at.selectbox(key="f_model").set_value("seedance-2.0-fast-text-to-video").run()
    assert _cards(at) == {runs["processing"].id}
    at.selectbox(key="f_model").set_value(None).run()
    at.text_input(key="f_text").input("KITE").run()
    assert _cards(at) == {runs["archived"].id}
    at.text_input(key="f_text").input("nothing like this").run()
    assert _cards(at) == set()
    at.text_input(key="f_text").input("").run()
    assert len(_cards(at)) == 3


def test_rating_persists_to_the_store(seeded, open_gallery):
    db, ws, runs = seeded
    run_id = runs["archived"].id
    at = open_gallery(ws.id)
    at.feedback(key=f"rate-{run_id}").set_value(3).run()  # 0-based: the fourth star
    assert not at.exception, at.exception
    assert db.get_run(run_id).rating == 4
    at = open_gallery(ws.id)  # a fresh session reads it back
    assert at.feedback(key=f"rate-{run_id}").value == 3
    at.selectbox(key="f_rating").set_value(4).run()
    assert _cards(at) == {run_id}


def test_empty_workspace_invites_to_the_studio(demo_app, provider):
    # Its "Open the Studio" page link only resolves under st.navigation: run the whole app.
    ws = demo_app.store.create_workspace("Empty")
    provider.balance = 1234.5
    at = demo_app.open("app.py", query_params={"ws": ws.id}, context={"url": APP_URL})
    assert [m.value for m in at.sidebar.markdown if "Balance" in m.value] == ["**Balance** · 1,234.50 credits"]
    at.switch_page("pages/gallery.py").run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Gallery"]
    assert any("No runs yet" in i.value for i in at.info)
    assert _cards(at) == set()
    assert at.query_params["ws"] == ws.id


def test_without_a_browser_url_the_card_links_the_video_instead_of_crashing(seeded, open_gallery):
    _db, ws, runs = seeded
    at = open_gallery(ws.id, url=None)
    archived = at.container(key=f"run-{runs['archived'].id}")
    assert archived.get("video") == []
    assert any(f"/api/media/{runs['archived'].media_token}" in m.value for m in archived.markdown)


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
