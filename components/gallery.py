"""The gallery grid, its filters and exports; only unfinished cards refresh on their own."""

from __future__ import annotations

import streamlit as st

from components import compare_view, run_card, workspace
from components.plain import md
from lib import catalog, export
from lib.gallery import SORT_LABELS, GalleryFilter, Sort, participants
from lib.settings import LIVE_REFRESH
from lib.status import LABELS, RunStatus
from lib.store import Run, Workspace

PAGE = 24  # cards per "page": a browser lays out 24 video cards at once in well under a second
_SHOWN = "_gallery_shown"  # how many cards this session asked to see


def workspace_runs(ws: Workspace) -> list[Run]:
    """Every run of the workspace, newest first: read once per rerun, then filtered in memory."""
    return workspace.store().list_runs(ws.id, limit=None)


def filter_bar(runs: list[Run]) -> GalleryFilter:
    """The filter widgets; what they ask for, as a ``GalleryFilter`` (``.apply(runs)`` narrows the runs)."""
    with st.container(horizontal=True, vertical_alignment="bottom", key="filters"):
        statuses = st.multiselect("Status", list(RunStatus), format_func=LABELS.get, key="f_status", placeholder="any")
        model = st.selectbox(
            "Model",
            [None, *catalog.MODELS],
            format_func=lambda m: "any" if m is None else catalog.MODELS[m].label,
            key="f_model",
        )
        quality = st.selectbox("Quality", [None, *catalog.QUALITIES], format_func=lambda q: q or "any", key="f_quality")
        rating = st.selectbox(
            "Rating",
            [None, 1, 2, 3, 4, 5],
            key="f_rating",
            format_func=lambda r: "any" if r is None else f"{'★' * r} or more",
        )
        text = st.text_input("Search prompts", key="f_text", placeholder="words in the prompt")
        who = st.selectbox(
            "Participant",
            [None, *participants(runs)],
            format_func=lambda p: "anyone" if p is None else p,
            key="f_participant",
        )
        sort = st.selectbox("Sort", list(Sort), key="f_sort", width=170, format_func=SORT_LABELS.get)
    return GalleryFilter(
        statuses=frozenset(RunStatus(s) for s in statuses),
        model=model,
        quality=quality,
        min_rating=rating,
        text=text,
        participant=who,
        sort=Sort(sort),
    )


def comparisons(ws: Workspace) -> None:
    """Earlier comparison grids of this workspace, each reopened on the Compare page."""
    if workspace.store().list_comparisons(ws.id, limit=1):
        with st.expander("Comparisons", icon=":material/grid_view:"):
            compare_view.history(ws)


def export_buttons(ws: Workspace, runs: list[Run]) -> None:
    if not runs:
        return
    with st.container(horizontal=True):
        st.download_button(
            "Export CSV",
            lambda: export.to_csv(runs),
            file_name=f"{ws.id}-runs.csv",
            mime="text/csv",
            icon=":material/table:",
            key="export_csv",
        )
        st.download_button(
            "Export JSON",
            lambda: export.to_json(ws, runs),
            file_name=f"{ws.id}-runs.json",
            mime="application/json",
            icon=":material/data_object:",
            key="export_json",
        )


def announce_completions() -> None:
    """A toast for each run that finished since this session last looked."""
    for message in st.session_state.pop("_toasts", []):
        st.toast(message, icon=":material/movie:")


def grid(runs: list[Run]) -> None:
    if not runs:
        st.info("No runs yet. Write a prompt in the Studio and generate a video.", icon=":material/movie:")
        st.page_link("pages/studio.py", label="Open the Studio", icon=":material/edit_note:")
        return
    shown = st.session_state.get(_SHOWN, PAGE)
    with st.grid(columns="auto", min_column_width=360, gap="medium"):
        for run in runs[:shown]:
            with st.container(key=f"run-{run.id}", border=True):
                if run.finished:
                    run_card.body(run)
                    run_card.actions(run)
                else:
                    live_card(run.id)
    if len(runs) > shown:
        more = min(PAGE, len(runs) - shown)
        st.button(
            f"Show {more} more ({len(runs) - shown} older)",
            key="gallery_more",
            icon=":material/expand_more:",
            on_click=lambda: st.session_state.__setitem__(_SHOWN, shown + PAGE),
        )


@st.fragment(run_every=LIVE_REFRESH)
def live_card(run_id: str) -> None:
    """Re-read one unfinished run; when it finishes, rerun the page so it gets its full card."""
    run = workspace.store().get_run(run_id)
    if run is None:
        return
    if run.finished:
        st.session_state.setdefault("_toasts", []).append(f"Run finished: {run.label} — {md(run.request.prompt, 50)}")
        st.rerun(scope="app")
    run_card.body(run)
