"""How a prompt evolved: a run's ancestors and descendants as a tree, each edit's word diff, settings and rating change.

A remix is a child of the run it remixed (``runs.parent_id``). ``tree`` takes the runs
of a workspace and one run id and returns plain data: the nodes in the order a tree
view shows them (the oldest ancestor first, each child under its parent), and for every
node what changed against its parent — the prompt word by word (``lib.compare.word_diff``),
the settings, and the rating. ``helped`` turns that into "what helped": each edit
whose run and parent are both rated, best first. Bounded: at most ``MAX_ANCESTORS``
generations up and ``MAX_NODES`` nodes in all, so a long chain of remixes stays a page.

Example:
    >>> from types import SimpleNamespace as R
    >>> from lib.schema import GenerationRequest as G
    >>> m = "seedance-2.0-text-to-video"
    >>> a = R(id="a", parent_id=None, rating=2, created_at=1, request=G(model=m, prompt="a red fox"))
    >>> b = R(id="b", parent_id="a", rating=4, created_at=2, request=G(model=m, prompt="a grey fox", duration=8))
    >>> t = tree([a, b], "b")
    >>> [(n.run.id, n.depth) for n in t.nodes], t.focus_id
    ([('a', 0), ('b', 1)], 'b')
    >>> node = t.nodes[1]
    >>> node.diff, [(c.title, c.before, c.after) for c in node.changes], node.rating_delta
    ([('same', 'a '), ('removed', 'red'), ('added', 'grey'), ('same', ' fox')], [('Duration', '5 s', '8 s')], 2)
    >>> [(e.run_id, e.delta) for e in helped(t)]
    [('b', 2)]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lib import catalog, compare
from lib.schema import GenerationRequest

MAX_ANCESTORS = 20  # generations shown above a run
MAX_NODES = 60  # nodes in one tree, ancestors included: past this the view says it left some out
SETTINGS = ("model", "duration", "quality", "aspect_ratio", "generate_audio", "content_filter", "web_search")


class FamilyStore(Protocol):
    """What ``family`` reads (``lib.store.Store`` has it)."""

    def get_run(self, run_id: str) -> Any: ...

    def runs_remixing(self, workspace_id: str, parent_ids: Collection[str], *, limit: int) -> list[Any]: ...


class RunLike(Protocol):
    """What a tree needs of a run (``lib.store.Run`` has it)."""

    id: str
    parent_id: str | None
    rating: int | None
    created_at: float

    @property
    def request(self) -> GenerationRequest: ...


@dataclass(frozen=True)
class Change:
    """One setting that differs from the parent's: its title and both values in words."""

    name: str
    title: str
    before: str
    after: str


@dataclass(frozen=True)
class Node:
    """One run in the tree, with what changed against its parent (nothing for the top node)."""

    run: Any  # a RunLike; Any so callers keep their own type (lib.store.Run)
    depth: int
    parent_id: str | None  # the parent shown in this tree (None at the top)
    diff: list[tuple[str, str]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    rating_delta: int | None = None  # the run's rating minus its parent's, when both are rated
    children: int = 0

    @property
    def edited_prompt(self) -> bool:
        return any(op != "same" for op, _ in self.diff)


@dataclass(frozen=True)
class Lineage:
    """A run's family: the nodes in display order, the run asked for, and whether some were left out."""

    focus_id: str
    nodes: list[Node]
    truncated: bool = False

    @property
    def focus(self) -> Node | None:
        return next((n for n in self.nodes if n.run.id == self.focus_id), None)


@dataclass(frozen=True)
class Edit:
    """One edit (parent → run) and how its rating moved: what "what helped" lists."""

    run_id: str
    parent_id: str
    delta: int
    summary: str


def _value(name: str, request: GenerationRequest) -> Any:
    return request.model if name == "model" else request.effective(name)


def setting_changes(before: GenerationRequest, after: GenerationRequest) -> list[Change]:
    """The settings ``after`` changed (the API's defaults count as set), then the media inputs' counts.

    >>> m = "seedance-2.0-text-to-video"
    >>> a = GenerationRequest(model=m, prompt="x")
    >>> [c.after for c in setting_changes(a, a.model_copy(update={"generate_audio": False}))]
    ['audio off']
    """
    out = []
    for name in SETTINGS:
        old, new = _value(name, before), _value(name, after)
        if old != new:
            title = compare.AXES[name].title
            out.append(Change(name, title, compare.value_label(name, old), compare.value_label(name, new)))
    for kind in catalog.MEDIA.values():
        old_n, new_n = len(getattr(before, kind.field) or ()), len(getattr(after, kind.field) or ())
        if getattr(before, kind.field) != getattr(after, kind.field):
            out.append(Change(kind.field, kind.links_label, str(old_n), str(new_n)))
    return out


def tree(runs: Iterable[RunLike], run_id: str) -> Lineage:
    """The family of ``run_id`` among ``runs``: its ancestors (up to ``MAX_ANCESTORS``) and all descendants.

    Nodes come depth first, siblings oldest first; a parent that is not among ``runs``
    (deleted, another workspace) ends the chain. A cycle cannot loop: each run is
    visited once.
    """
    by_id = {r.id: r for r in runs}
    if run_id not in by_id:
        return Lineage(run_id, [])
    children: dict[str, list[RunLike]] = {}
    for r in by_id.values():
        if r.parent_id and r.parent_id in by_id and r.parent_id != r.id:
            children.setdefault(r.parent_id, []).append(r)
    for kids in children.values():
        kids.sort(key=lambda r: (r.created_at, r.id))
    # Up: the oldest ancestor within bounds is the top of the tree.
    top, seen, truncated = by_id[run_id], {run_id}, False
    for _ in range(MAX_ANCESTORS):
        parent = by_id.get(top.parent_id or "")
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        top = parent
    else:
        truncated = by_id.get(top.parent_id or "") is not None
    ancestors = seen  # the focus and its ancestors: always shown, whatever else is cut
    nodes: list[Node] = []
    visited: set[str] = set()
    # Depth first, by hand: a long chain must not hit Python's recursion limit.
    stack: list[tuple[RunLike, int, RunLike | None]] = [(top, 0, None)]
    while stack:
        run, depth, parent = stack.pop()
        if run.id in visited:
            continue
        if len(nodes) >= MAX_NODES and run.id not in ancestors:
            truncated = True
            continue
        visited.add(run.id)
        kids = children.get(run.id, [])
        nodes.append(_node(run, depth, parent, len(kids)))
        # Reversed so the oldest child is popped (shown) first; the focus's line first when it is cut.
        for kid in reversed(sorted(kids, key=lambda k: (k.id not in ancestors, k.created_at, k.id))):
            stack.append((kid, depth + 1, run))
    return Lineage(run_id, nodes, truncated)


def family(db: FamilyStore, run_id: str, workspace_id: str) -> list[Any]:
    """The runs ``tree`` needs for ``run_id``, read generation by generation: never the whole workspace.

    Up to ``MAX_ANCESTORS`` + 1 ancestors (one more than shown, so the tree knows it was
    cut), then the descendants of the oldest one, at most ``MAX_NODES`` + 1 of them.
    Runs of another workspace are never read into it.
    """
    run = db.get_run(run_id)
    if run is None or run.workspace_id != workspace_id:
        return []
    found = {run.id: run}
    top = run
    for _ in range(MAX_ANCESTORS + 1):
        parent = db.get_run(top.parent_id) if top.parent_id else None
        if parent is None or parent.workspace_id != workspace_id or parent.id in found:
            break
        found[parent.id] = top = parent
    room = MAX_NODES + 1
    generation, expanded = [top.id], {top.id}
    while generation and room > 0:
        # Runs already found (the focus's line of ancestors) come back too: ask for room beyond them.
        kids = db.runs_remixing(workspace_id, generation, limit=room + len(found))
        new = [k for k in kids if k.id not in found][:room]
        found.update((k.id, k) for k in new)
        room -= len(new)
        # Each run's remixes are read once, even where a cycle would lead back to it.
        generation = [k.id for k in kids if k.id in found and k.id not in expanded]
        expanded.update(generation)
    return list(found.values())


def _node(run: RunLike, depth: int, parent: RunLike | None, children: int) -> Node:
    if parent is None:
        return Node(run, depth, None, children=children)
    delta = None if run.rating is None or parent.rating is None else run.rating - parent.rating
    return Node(
        run,
        depth,
        parent.id,
        diff=compare.word_diff(parent.request.prompt, run.request.prompt),
        changes=setting_changes(parent.request, run.request),
        rating_delta=delta,
        children=children,
    )


def edit_summary(node: Node, *, words: int = 6) -> str:
    """An edit in a few words: what was added and removed, then the settings changed.

    >>> edit_summary(Node(None, 1, "a", diff=[("same", "a "), ("removed", "red"), ("added", "grey")]))
    '+grey -red'
    """
    parts = []
    for op, sign in (("added", "+"), ("removed", "-")):
        text = " ".join(" ".join(t for o, t in node.diff if o == op).split()[:words])
        if text:
            parts.append(f"{sign}{text}")
    parts += [f"{c.title}: {c.before} → {c.after}" for c in node.changes]
    return " ".join(parts[:2]) + (" · " + " · ".join(parts[2:]) if parts[2:] else "") or "same prompt and settings"


def helped(lineage: Lineage) -> list[Edit]:
    """Each edit whose run and parent are both rated, with its rating change: most helpful first."""
    edits = [
        Edit(n.run.id, n.parent_id, n.rating_delta, edit_summary(n))
        for n in lineage.nodes
        if n.parent_id is not None and n.rating_delta is not None
    ]
    return sorted(edits, key=lambda e: (-e.delta, e.run_id))
