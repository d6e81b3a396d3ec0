"""A run's lineage on screen: its family tree of remixes, each edit's diff and settings, and "what helped".

The tree is ``lib.lineage`` (plain data); this module only draws it, inside one
container keyed ``lineage``. Reach it with ``view(run_id)`` anywhere, ``button(run)``
(a dialog of its own), ``section(run_id)`` (an expander, e.g. in a run's detail
dialog, where no second dialog may open), or the Studio's ``while_remixing()``.
"""

from __future__ import annotations

import streamlit as st

from components import workspace
from components.plain import md
from lib import budget, compare, lineage, posters, pricing
from lib.i18n import t
from lib.settings import load_settings
from lib.store import Run, valid_id
from lib.text import one_line

MAX_INDENT = 6  # generations drawn further right; deeper ones line up with the sixth
POSTER_WIDTH = 120  # px on screen
_DIFF_STYLE = (
    "<style>.lineage-diff ins{background:#d3f9d8;text-decoration:none}"
    ".lineage-diff del{background:#ffe3e3}.lineage-diff ins,.lineage-diff del{padding:0 2px;margin:0 1px}"
    ".lineage-diff{font-size:0.9rem;margin:0}</style>"
)


def _stars(rating: int | None) -> str:
    return "★" * rating + "☆" * (5 - rating) if rating else t("not rated")


def _delta(delta: int | None) -> str:
    if delta is None:
        return ""
    return t("rating {sign}{delta} against its parent", sign="+" if delta > 0 else "", delta=delta)


def _poster_path(run: Run):
    """The run's poster frame (a small JPEG made when its video was saved), if it has one."""
    path = posters.poster_path(load_settings().data_dir, run.media_token) if run.media_token else None
    return path if path is not None and path.is_file() else None


def _node(node: lineage.Node, focus_id: str) -> None:
    run: Run = node.run
    depth = min(node.depth, MAX_INDENT)
    outer = st.columns([depth, 3 * MAX_INDENT])[1] if depth else st.container()
    with outer, st.container(key=f"lineage-node-{run.id}", border=run.id == focus_id):
        poster = _poster_path(run)
        if poster is not None:
            picture, text = st.columns([1, 4], gap="small")
            picture.image(str(poster), width=POSTER_WIDTH)
        else:
            text = st.container()
        with text:
            _node_text(node, run, focus_id, show_status=poster is None)


def _node_text(node: lineage.Node, run: Run, focus_id: str, *, show_status: bool) -> None:
    cost = budget.spend(run.credits_reserved, run.estimate_credits)
    head = [
        f"**{t('This run') if run.id == focus_id else md(run.participant or t('Run'), 60)}**",
        md(_stars(run.rating)),
        t("{credits} credits", credits=pricing.format_amount(cost)),
    ]
    if show_status:
        head.append(md(run.label))
    if node.rating_delta is not None:
        head.append(md(_delta(node.rating_delta)))
    st.markdown(" · ".join(head))
    if node.parent_id is None:
        st.text(one_line(run.request.prompt, 300))
    elif node.edited_prompt:
        # Prompts are user text: diff_html escapes every piece of it.
        st.html(f"{_DIFF_STYLE}<p class='lineage-diff'>{compare.diff_html(node.diff)}</p>")
    else:
        st.caption(t("Same prompt as its parent."))
    if node.changes:
        st.caption(" · ".join(md(f"{c.title}: {c.before} → {c.after}", 120) for c in node.changes))


def _helped(tree: lineage.Lineage) -> None:
    st.markdown(f"**{t('What helped')}**")
    edits = lineage.helped(tree)
    if not edits:
        st.caption(t("Rate a run and the run it remixed to see whether the edit helped."))
        return
    for edit in edits:
        arrow = "▲" if edit.delta > 0 else ("▼" if edit.delta < 0 else "=")
        st.markdown(f"{arrow} **{edit.delta:+d}** · {md(edit.summary, 160)}")


def view(run_id: str, workspace_id: str | None = None) -> None:
    """The lineage of ``run_id`` in a container keyed ``lineage``.

    ``run_id`` must belong to ``workspace_id`` (None: the page's current workspace).
    """
    with st.container(key="lineage"):
        ws_id = workspace_id or workspace.current().id
        db = workspace.store()
        run = db.get_run(run_id) if valid_id(run_id) else None
        if run is None or run.workspace_id != ws_id:
            st.caption(t("This run is not in this workspace."))
            return
        tree = lineage.tree(lineage.family(db, run.id, ws_id), run.id)
        if len(tree.nodes) <= 1:
            st.caption(t("No remixes yet: remix this run and its lineage starts here."))
        left, right = st.columns([3, 1], gap="large")
        with left:
            for node in tree.nodes:
                _node(node, tree.focus_id)
            if tree.truncated:
                st.caption(
                    t(
                        "Showing {n} runs of this family (at most {up} generations up); the others are left out.",
                        n=len(tree.nodes),
                        up=lineage.MAX_ANCESTORS,
                    )
                )
        with right:
            _helped(tree)


def _dialog(run_id: str) -> None:
    """``view(run_id)`` in a dialog titled in the reader's language."""
    st.dialog(t("Lineage"), width="large")(view)(run_id)


def button(run: Run, *, key: str | None = None) -> None:
    """A "Lineage" button that opens ``view(run.id)`` in a dialog (for a gallery card)."""
    if st.button(t("Lineage"), key=key or f"lineage-open-{run.id}", icon=":material/account_tree:", type="tertiary"):
        _dialog(run.id)


def section(run_id: str, *, workspace_id: str | None = None, title: str | None = None, expanded: bool = False) -> None:
    """``view(run_id)`` in an expander: for a run's detail view (itself a dialog, so no dialog in it)."""
    with st.expander(title or t("Lineage"), icon=":material/account_tree:", expanded=expanded):
        view(run_id, workspace_id)


def while_remixing() -> None:
    """In the Studio while remixing: the lineage of the run being remixed."""
    run_id = st.session_state.get("remix_of")
    if not run_id:
        return
    run = workspace.store().get_run(run_id) if valid_id(run_id) else None
    if run is None:
        return
    section(run_id, title=t("Lineage of the run you are remixing"))
