"""An opened comparison grid: live cells while runs are in flight, then the synced player, ratings and a winner.

Also the workspace's earlier comparisons and its prompt leaderboard. Building a new
grid is ``compare_builder``.
"""

from __future__ import annotations

import html
import time

import streamlit as st

from components import compare_player, live, run_card, workspace
from components.plain import md
from lib import compare, messages, workshop
from lib.i18n import t
from lib.store import Comparison, Run, Workspace, valid_id
from lib.text import one_line

# --- which comparison is open -------------------------------------------------------------------


def open_comparison(comparison_id: str | None) -> None:
    """Show a comparison (None: back to a new grid)."""
    if comparison_id:
        st.query_params["cmp"] = comparison_id
        st.session_state["cmp_open"] = comparison_id
    else:
        st.query_params.pop("cmp", None)
        st.session_state.pop("cmp_open", None)
    st.rerun()


def opened(ws: Workspace) -> Comparison | None:
    """The comparison named in the URL (or this session), if it belongs to this workspace."""
    for candidate in (st.query_params.get("cmp"), st.session_state.get("cmp_open")):
        if valid_id(candidate):
            comparison = workspace.store().get_comparison(candidate)
            if comparison is not None and comparison.workspace_id == ws.id:
                # st.navigation drops query params on a page switch: put it back so a reload keeps it.
                st.session_state["cmp_open"] = comparison.id
                if st.query_params.get("cmp") != comparison.id:
                    st.query_params["cmp"] = comparison.id
                return comparison
    return None


# --- the opened grid ------------------------------------------------------------------------------


def _runs(comparison: Comparison) -> dict[str, Run]:
    runs = workspace.store().list_runs(comparison.workspace_id, group_id=comparison.id, limit=None)
    return {r.id: r for r in runs}


def variants(comparison: Comparison) -> None:
    """Each prompt variant as a word diff against the base prompt."""
    texts = compare.prompt_variants(compare.shown_spec(comparison.spec))
    if not texts:
        return
    base = comparison.spec["base"].get("prompt", "")
    with st.expander(t("Prompt variants against the base prompt"), expanded=True):
        style = "<style>ins{background:#d3f9d8;text-decoration:none}del{background:#ffe3e3}</style>"
        for label, text in texts.items():
            st.html(f"{style}<p><b>{html.escape(label)}</b>: {compare.diff_html(compare.word_diff(base, text))}</p>")


def view(comparison: Comparison) -> None:
    """A comparison: live statuses while cells run, then the synced player with rating and winner."""
    spec = comparison.spec
    st.subheader(compare.shown_title(comparison.title, spec))  # in the reader's language unless typed
    st.caption(
        t("Created {when}", when=time.strftime("%Y-%m-%d %H:%M", time.localtime(comparison.created_at)))
        + " · "
        + t("{n} runs", n=sum(1 for c in spec["cells"] if c.get("run_id")))
    )
    if st.button(t("New comparison"), key="cmp_new", icon=":material/add:"):
        open_comparison(None)
    variants(comparison)
    runs = _runs(comparison)
    if any(not r.finished for r in runs.values()):
        live_grid(comparison.id)
    else:
        results(comparison, runs)


def _cell_status(cell: dict, run: Run | None) -> str:
    if run is None:
        return t("Not sent: {why}", why=cell.get("error") or t("no run"))
    if run.archived:
        return ""
    if run.finished:
        return f"{run.label.capitalize()}: {messages.show(run.error_message)}".strip()
    return f"{run.label.capitalize()} · {run.progress}%"


@st.fragment
def live_grid(comparison_id: str) -> None:
    """A running grid, read again whenever one of its runs changes; once every cell has finished, the full view."""
    since = live.heard()
    comparison = workspace.store().get_comparison(comparison_id)
    if comparison is None:
        return
    runs = _runs(comparison)
    live.listen(
        comparison.workspace_id, key=f"cmp-{comparison_id}", runs=runs, kinds=("updated", "finished"), since=since
    )
    if all(r.finished for r in runs.values()):
        st.rerun(scope="app")
    row_labels, col_labels, matrix = compare.layout(compare.shown_spec(comparison.spec))
    with st.container(key="cmp_live"):
        for r, row_label in enumerate(row_labels):
            line = st.columns([1] + [2] * len(col_labels))
            line[0].markdown(f"**{md(row_label)}**")
            for c, cell in enumerate(matrix[r]):
                run = runs.get(cell.get("run_id") or "")
                with line[c + 1].container(border=True):
                    st.caption(cell.get("label", ""))
                    if run is not None and not run.finished:
                        st.progress(run.progress / 100, text=_cell_status(cell, run))
                    else:
                        st.text(_cell_status(cell, run) or t("Done"))


def _set_winner(comparison_id: str, run_id: str | None) -> None:
    db = workspace.store()
    comparison = db.get_comparison(comparison_id)
    if comparison is not None:
        db.update_comparison_spec(comparison_id, compare.with_winner(comparison.spec, run_id))


def results(comparison: Comparison, runs: dict[str, Run]) -> None:
    """The synced player, then a rating, a winner toggle and remix for each cell."""
    spec = compare.shown_spec(comparison.spec)  # for the screen only: the store keeps the spec as saved
    row_labels, col_labels, matrix = compare.layout(spec)
    cells = []
    for cell in spec["cells"]:
        run = runs.get(cell.get("run_id") or "")
        src = run_card.media_url(run.media_token) if run is not None and run.archived else None
        won = run is not None and run.id == spec.get("winner")
        cells.append(
            compare_player.PlayerCell(cell["row"], cell["col"], cell["label"], src, _cell_status(cell, run), winner=won)
        )
    with st.container(key="cmp_player"):
        compare_player.player(cells, row_labels, col_labels)
    winner = spec.get("winner")
    for r in range(len(row_labels)):
        line = st.columns(len(col_labels))
        for c, cell in enumerate(matrix[r]):
            run = runs.get(cell.get("run_id") or "")
            if run is None:
                continue
            with line[c].container(border=True, key=f"cmp-cell-{run.id}"):
                st.caption(("🏆 " if run.id == winner else "") + cell["label"])
                run_card.rating(run, f"cmp-rate-{run.id}")
                with st.container(horizontal=True):
                    if run.id == winner:
                        st.button(
                            t("Winner"),
                            key=f"cmp-win-{run.id}",
                            type="primary",
                            icon=":material/trophy:",
                            on_click=_set_winner,
                            args=(comparison.id, None),
                            help=t("Click to clear"),
                        )
                    else:
                        st.button(
                            t("Mark winner"),
                            key=f"cmp-win-{run.id}",
                            icon=":material/trophy:",
                            on_click=_set_winner,
                            args=(comparison.id, run.id),
                        )
                    if st.button(
                        t("Remix"),
                        key=f"cmp-remix-{run.id}",
                        icon=":material/edit:",
                        on_click=run_card.remix,
                        args=(run,),
                    ):
                        run_card.follow_remix()


# --- earlier comparisons and the leaderboard -----------------------------------------------------------


def history(ws: Workspace, *, limit: int = 20, on_compare_page: bool = False) -> None:
    """Earlier comparisons of this workspace, each one click from being reopened."""
    items = workspace.store().list_comparisons(ws.id, limit=limit)
    if not items:
        st.caption(t("No comparisons yet."))
        return
    for item in items:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.created_at))
        title = compare.shown_title(item.title, item.spec)
        label = t("{title} · {n} cells · {when}", title=title, n=len(item.spec.get("cells", [])), when=when)
        if on_compare_page:
            if st.button(label, key=f"cmp-open-{item.id}", icon=":material/grid_view:", type="tertiary"):
                open_comparison(item.id)
        else:
            st.page_link(
                "pages/compare.py", label=label, icon=":material/grid_view:", query_params={"ws": ws.id, "cmp": item.id}
            )


def leaderboard(ws: Workspace) -> None:
    """Prompts ranked by their average rating, from every run of the workspace."""
    table = workshop.leaderboard(workspace.store().list_runs(ws.id, limit=None))
    if not table:
        st.caption(t("Rate some runs (in the gallery or a comparison) and the best prompts appear here."))
        return
    st.dataframe(
        [
            {
                t("Prompt"): one_line(s.prompt, 120),
                t("Average"): round(s.average, 2),
                t("Ratings"): s.ratings,
                t("Runs"): s.runs,
                t("By"): ", ".join(s.participants),
            }
            for s in table
        ],
        hide_index=True,
        width="stretch",
        key="leaderboard",
        column_config={t("Average"): st.column_config.NumberColumn(format="%.2f ★")},
    )
