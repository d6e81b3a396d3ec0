"""The lineage view: reachable from the Studio while remixing, and as a dialog; the tree, diffs, and what helped."""

from __future__ import annotations

import pytest

from lib.schema import GenerationRequest

MODEL = "seedance-2.0-text-to-video"


@pytest.fixture
def family(demo_app):
    """A Studio session and, in its workspace, a run remixed twice (ratings 2 → 4), plus an unrelated run."""
    at = demo_app.open("pages/studio.py")
    db, ws = demo_app.store, at.session_state["ws"]

    def run(prompt: str, parent=None, **fields):
        request = GenerationRequest(model=MODEL, prompt=prompt, **fields)
        return db.create_run(ws, request, 10.0, True, "k", parent_id=parent)

    a = run("A lighthouse at dusk")
    b = run("A lighthouse at <night>, slow pan", a.id, duration=8)
    c = run("A lighthouse at <night>, slow pan, rain", b.id, duration=8)
    other = run("Someone else's cat")
    db.set_rating(a.id, 2)
    db.set_rating(b.id, 4)
    return at, {"a": a, "b": b, "c": c, "other": other}


def _htmls(at) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def test_the_studio_shows_the_lineage_of_the_run_being_remixed(family):
    at, runs = family
    assert not [c for c in at.container if c.key == "lineage"]  # not remixing: no lineage
    at.session_state["remix_of"] = runs["b"].id
    at.run()
    assert not at.exception, at.exception
    keys = [c.key for c in at.container if c.key and c.key.startswith("lineage")]
    assert "lineage" in keys
    nodes = [k.removeprefix("lineage-node-") for k in keys if k.startswith("lineage-node-")]
    assert nodes == [runs["a"].id, runs["b"].id, runs["c"].id]  # the family in tree order, nothing else
    diffs = " ".join(_htmls(at))
    # The prompt is user text: escaped inside the diff's own tags.
    assert "<del>dusk</del><ins>&lt;night&gt;, slow pan</ins>" in diffs
    assert "<del>pan</del><ins>pan, rain</ins>" in diffs  # word by word: "pan," is a new word
    captions = " ".join(c.value for c in at.caption).replace("\\", "")  # Markdown escapes
    assert "Duration: 5 s → 8 s" in captions
    text = " ".join(m.value for m in at.markdown)
    assert "▲ **+2**" in text  # what helped: the edit a → b raised the rating by 2


def test_a_run_of_another_workspace_shows_nothing_of_it(family, demo_app):
    at, _ = family
    elsewhere = demo_app.store.create_workspace("Elsewhere")
    foreign = demo_app.store.create_run(
        elsewhere.id, GenerationRequest(model=MODEL, prompt="Secret prompt"), 1.0, True, "k"
    )
    at.session_state["remix_of"] = foreign.id
    at.run()
    assert not at.exception, at.exception
    assert "Secret prompt" not in " ".join([*_htmls(at), *(t.value for t in at.text)])


def _cards():
    from components import lineage, workspace

    ws = workspace.current()
    for run in workspace.store().list_runs(ws.id):
        lineage.button(run)


def test_the_lineage_button_opens_the_view_for_its_run(demo_app):
    at = demo_app.open(_cards)
    db, ws = demo_app.store, at.session_state["ws"]
    parent = db.create_run(ws, GenerationRequest(model=MODEL, prompt="A kite"), 1.0, True, "k")
    child = db.create_run(ws, GenerationRequest(model=MODEL, prompt="A red kite"), 1.0, True, "k", parent_id=parent.id)
    at.run()
    assert not [c for c in at.container if c.key == "lineage"]
    at.button(key=f"lineage-open-{child.id}").click().run()
    assert not at.exception, at.exception
    keys = [c.key for c in at.container if c.key and c.key.startswith("lineage-node-")]
    assert keys == [f"lineage-node-{parent.id}", f"lineage-node-{child.id}"]


def _detail_dialog():
    import streamlit as st

    from components import lineage, workspace

    @st.dialog("Run")
    def details(run_id: str) -> None:
        lineage.section(run_id, expanded=True)

    ws = workspace.current()
    for run in workspace.store().list_runs(ws.id):
        if st.button("Details", key=f"details-{run.id}"):
            details(run.id)


def test_the_section_shows_the_lineage_inside_a_runs_detail_dialog(demo_app):
    at = demo_app.open(_detail_dialog)
    db, ws = demo_app.store, at.session_state["ws"]
    parent = db.create_run(ws, GenerationRequest(model=MODEL, prompt="A kite"), 1.0, True, "k")
    child = db.create_run(ws, GenerationRequest(model=MODEL, prompt="A red kite"), 1.0, True, "k", parent_id=parent.id)
    at.run()
    at.button(key=f"details-{parent.id}").click().run()
    assert not at.exception, at.exception
    keys = [c.key for c in at.container if c.key and c.key.startswith("lineage")]
    assert keys == ["lineage", f"lineage-node-{parent.id}", f"lineage-node-{child.id}"]
