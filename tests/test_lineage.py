"""Lineage: ancestors and descendants as a tree, each edit's diff, settings and rating change, bounded."""

from __future__ import annotations

from dataclasses import dataclass

from lib import lineage
from lib.schema import GenerationRequest
from lib.store import Store

MODEL = "seedance-2.0-text-to-video"


@dataclass
class R:
    id: str
    parent_id: str | None
    prompt: str = "a fox"
    rating: int | None = None
    created_at: float = 0
    duration: int | None = None

    @property
    def request(self) -> GenerationRequest:
        return GenerationRequest(model=MODEL, prompt=self.prompt, duration=self.duration)


def _ids(t: lineage.Lineage) -> list[tuple[str, int]]:
    return [(n.run.id, n.depth) for n in t.nodes]


def test_ancestors_and_descendants_in_tree_order_and_nothing_else():
    runs = [
        R("a", None, created_at=1),
        R("b", "a", created_at=2),
        R("c", "b", created_at=3),
        R("d", "b", created_at=4),
        R("e", "a", created_at=5),  # the focus's uncle: part of the family tree from the top
        R("x", None, created_at=6),  # unrelated
        R("y", "x", created_at=7),
    ]
    t = lineage.tree(runs, "b")
    assert _ids(t) == [("a", 0), ("b", 1), ("c", 2), ("d", 2), ("e", 1)]
    assert t.focus.run.id == "b" and not t.truncated
    assert [n.children for n in t.nodes] == [2, 2, 0, 0, 0]
    assert [n.parent_id for n in t.nodes] == [None, "a", "b", "b", "a"]


def test_each_node_has_its_word_diff_settings_and_rating_change_against_its_parent():
    runs = [
        R("a", None, "a red fox runs", rating=2),
        R("b", "a", "a grey fox runs fast", rating=5, duration=8),
        R("c", "b", "a grey fox runs fast", rating=None, duration=8),
    ]
    top, b, c = lineage.tree(runs, "c").nodes
    assert top.diff == [] and top.changes == [] and top.rating_delta is None
    assert b.diff == [("same", "a "), ("removed", "red"), ("added", "grey"), ("same", " fox runs"), ("added", " fast")]
    assert [(ch.title, ch.before, ch.after) for ch in b.changes] == [("Duration", "5 s", "8 s")]
    assert b.rating_delta == 3 and b.edited_prompt
    assert c.rating_delta is None and not c.edited_prompt and c.changes == []


def test_what_helped_lists_rated_edits_best_first():
    runs = [
        R("a", None, "a fox", rating=3),
        R("b", "a", "a fox at dawn", rating=5),
        R("c", "a", "a fox at noon", rating=1),
        R("d", "a", "a fox at dusk"),  # unrated: not an answer either way
    ]
    edits = lineage.helped(lineage.tree(runs, "a"))
    assert [(e.run_id, e.parent_id, e.delta) for e in edits] == [("b", "a", 2), ("c", "a", -2)]
    assert edits[0].summary == "+at dawn"


def test_media_and_model_changes_are_named():
    before = GenerationRequest(model="seedance-2.0-reference-to-video", prompt="x", image_urls=["https://e.com/a.png"])
    after = before.model_copy(update={"image_urls": ("https://e.com/a.png", "https://e.com/b.png"), "quality": "480p"})
    changes = lineage.setting_changes(before, after)
    assert [(c.name, c.before, c.after) for c in changes] == [("quality", "720p", "480p"), ("image_urls", "1", "2")]


def test_a_long_chain_shows_a_bounded_number_of_ancestors():
    n = lineage.MAX_ANCESTORS + 10
    runs = [R(f"r{i}", f"r{i - 1}" if i else None, created_at=i) for i in range(n)]
    t = lineage.tree(runs, f"r{n - 1}")
    assert len(t.nodes) == lineage.MAX_ANCESTORS + 1 and t.truncated
    assert t.nodes[0].run.id == f"r{n - 1 - lineage.MAX_ANCESTORS}" and t.nodes[-1].run.id == f"r{n - 1}"


def test_many_remixes_are_cut_at_max_nodes_but_the_focus_is_always_shown():
    kids = [R(f"k{i:03d}", "root", created_at=i + 1) for i in range(2 * lineage.MAX_NODES)]
    runs = [R("root", None), *kids]
    focus = kids[-1].id  # the newest: would be cut first
    t = lineage.tree(runs, focus)
    assert len(t.nodes) == lineage.MAX_NODES and t.truncated
    assert focus in {n.run.id for n in t.nodes}


def test_a_cycle_or_a_missing_parent_cannot_loop_or_fail():
    t = lineage.tree([R("a", "b"), R("b", "a")], "a")
    assert sorted(n.run.id for n in t.nodes) == ["a", "b"]
    assert _ids(lineage.tree([R("a", "gone")], "a")) == [("a", 0)]
    assert lineage.tree([R("a", None)], "nope").nodes == []
    assert _ids(lineage.tree([R("a", "a")], "a")) == [("a", 0)]


def test_from_the_store():
    db = Store("sqlite://")
    ws = db.create_workspace("Lineage")

    def run(prompt: str, parent: str | None = None):
        req = GenerationRequest(model=MODEL, prompt=prompt)
        return db.create_run(ws.id, req, 10.0, True, "k_test", parent_id=parent)

    a = run("a lighthouse at dusk")
    b = run("a lighthouse at dusk, slow pan", a.id)
    c = run("a lighthouse at night, slow pan", b.id)
    db.set_rating(a.id, 2)
    db.set_rating(b.id, 4)
    t = lineage.tree(db.list_runs(ws.id, limit=None), c.id)
    assert [n.run.id for n in t.nodes] == [a.id, b.id, c.id]
    assert [(e.run_id, e.delta) for e in lineage.helped(t)] == [(b.id, 2)]


def test_family_reads_only_the_family_generation_by_generation():
    db = Store("sqlite://")
    ws = db.create_workspace("Family")
    other_ws = db.create_workspace("Other")

    def run(prompt: str, parent: str | None = None, where=ws):
        return db.create_run(where.id, GenerationRequest(model=MODEL, prompt=prompt), 1.0, True, "k", parent_id=parent)

    a = run("a")
    b = run("b", a.id)
    c = run("c", b.id)
    d = run("d", a.id)
    unrelated = [run(f"x{i}") for i in range(5)]
    stray = run("stray", a.id, where=other_ws)  # names a parent in another workspace: never read
    ids = {r.id for r in lineage.family(db, c.id, ws.id)}
    assert ids == {a.id, b.id, c.id, d.id}
    assert not ids & {r.id for r in unrelated} and stray.id not in ids
    assert lineage.family(db, c.id, other_ws.id) == []
    t = lineage.tree(lineage.family(db, c.id, ws.id), c.id)
    assert [n.run.id for n in t.nodes] == [a.id, b.id, c.id, d.id] and not t.truncated


def test_family_is_bounded_and_says_so():
    db = Store("sqlite://")
    ws = db.create_workspace("Big family")
    root = db.create_run(ws.id, GenerationRequest(model=MODEL, prompt="root"), 1.0, True, "k")
    for i in range(lineage.MAX_NODES + 20):
        db.create_run(ws.id, GenerationRequest(model=MODEL, prompt=f"kid {i}"), 1.0, True, "k", parent_id=root.id)
    runs = lineage.family(db, root.id, ws.id)
    assert len(runs) == lineage.MAX_NODES + 2  # the root, and one more than a tree shows
    t = lineage.tree(runs, root.id)
    assert len(t.nodes) == lineage.MAX_NODES and t.truncated
