"""The gallery: its filters, exports and the live grid of cards.

The grid is one fragment holding one cards component (``run_card.grid``). Run
notices reach it through the workspace's event stream: in the plain view (no filter,
newest first) the page patches the changed card itself, or puts a new run on top,
without a rerun; with filters on, a notice reruns this fragment alone, which reads the
list again. A rating or "Details" reruns only this fragment too.
"""

from __future__ import annotations

import streamlit as st

from components import compare_view, live, run_card, workspace
from lib import catalog, export
from lib.gallery import SORT_LABELS, GalleryFilter, Sort, participants
from lib.i18n import t
from lib.status import LABELS, RunStatus
from lib.store import Run, Workspace

SHOWN_MAX = 500  # cards on the page at once; more come a page of this size at a time
_SHOWN = "_gallery_shown"  # how many cards this session asked to see
_FULL_RUN = "_gallery_full_run"  # counts the page's whole runs, to tell a fragment rerun from one
_GRID_RUN = "_gallery_grid_run"
RUN_PARAM = "run"  # the query parameter of a link to one run's details
NO_RUNS = "No runs yet. Write a prompt in the Studio and generate a video: it appears here as soon as it is sent."

# On a phone the filters fold away behind a toggle; elsewhere the toggle is hidden and the filters show.
_style = st.components.v2.component(
    "studio_gallery_style",
    css="""
.st-key-gallery_style, .st-key-filters_toggle { display: none; }
@media (max-width: 640px) {
  .st-key-filters_toggle { display: block; }
  .st-key-filters { display: none; }
}
""",
    isolate_styles=False,  # rules for the page around it
)


_HEARD = "_gallery_heard"  # the last notice heard before the runs were read (``live.heard``)


def workspace_runs(workspace_id: str) -> list[Run]:
    """Every run of the workspace, newest first: read once per rerun, then filtered in memory.

    Notes which notices the read may have missed, for the grid's listener.
    """
    st.session_state[_HEARD] = live.heard()
    return workspace.store().list_runs(workspace_id, limit=None)


def filter_bar(runs: list[Run]) -> GalleryFilter:
    """The filter widgets; what they ask for, as a ``GalleryFilter`` (``.apply(runs)`` narrows the runs)."""
    _style(key="gallery_style", height=0)
    shown = st.toggle(t("Filters"), key="filters_toggle", help=t("Filter and sort the runs."))
    with st.container(horizontal=True, vertical_alignment="bottom", key="filters_open" if shown else "filters"):
        statuses = st.multiselect(
            t("Status"), list(RunStatus), format_func=LABELS.get, key="f_status", placeholder=t("any")
        )
        model = st.selectbox(
            t("Model"),
            [None, *catalog.MODELS],
            format_func=lambda m: t("any") if m is None else catalog.MODELS[m].label,
            key="f_model",
        )
        quality = st.selectbox(
            t("Quality"), [None, *catalog.QUALITIES], format_func=lambda q: q or t("any"), key="f_quality"
        )
        rating = st.selectbox(
            t("Rating"),
            [None, 1, 2, 3, 4, 5],
            key="f_rating",
            format_func=lambda r: t("any") if r is None else t("{stars} or more", stars="★" * r),
        )
        text = st.text_input(t("Search prompts"), key="f_text", placeholder=t("words in the prompt"))
        who = st.selectbox(
            t("Participant"),
            [None, *participants(runs)],
            format_func=lambda p: t("anyone") if p is None else p,
            key="f_participant",
        )
        sort = st.selectbox(t("Sort"), list(Sort), key="f_sort", width=170, format_func=lambda s: t(SORT_LABELS[s]))
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
        with st.expander(t("Comparisons"), icon=":material/grid_view:"):
            compare_view.history(ws)


def export_buttons(ws: Workspace, runs: list[Run]) -> None:
    if not runs:
        return
    with st.container(horizontal=True):
        st.download_button(
            t("Export CSV"),
            lambda: export.to_csv(runs),
            file_name=f"{ws.id}-runs.csv",
            mime="text/csv",
            icon=":material/table:",
            key="export_csv",
        )
        st.download_button(
            t("Export JSON"),
            lambda: export.to_json(ws, runs),
            file_name=f"{ws.id}-runs.json",
            mime="application/json",
            icon=":material/data_object:",
            key="export_json",
        )


def grid(ws: Workspace, view: GalleryFilter, every_run: list[Run]) -> None:
    """The live grid of the runs ``view`` keeps, newest first (or as it sorts them)."""
    full_run = st.session_state.get(_FULL_RUN, 0) + 1
    st.session_state[_FULL_RUN] = full_run
    live_grid(ws.id, view, every_run, full_run)


@st.fragment
def live_grid(workspace_id: str, view: GalleryFilter, every_run: list[Run], full_run: int) -> None:
    """The cards; on a rerun of this fragment alone, the list is read again (it may have changed)."""
    if st.session_state.get(_GRID_RUN) == full_run:
        every_run = workspace_runs(workspace_id)
    st.session_state[_GRID_RUN] = full_run
    runs = view.apply(every_run)
    run_card.needs_you(runs)
    shown = max(SHOWN_MAX, st.session_state.get(_SHOWN, SHOWN_MAX))
    opened = run_card.grid(
        runs[:shown],
        workspace_id=workspace_id,
        key="gallery_cards",
        # In the plain view the page places notices itself, new runs included (an empty
        # gallery too: its first card replaces the "no runs yet" line without a rerun).
        patch=view == GalleryFilter() and len(runs) <= shown,
        since=st.session_state.get(_HEARD, 0),
        empty=t(NO_RUNS) if not every_run else t("No runs match these filters."),
    )
    if len(runs) > shown:
        more = min(SHOWN_MAX, len(runs) - shown)
        st.caption(
            t(
                "Showing the newest {shown} of {n} runs; filters and search find older ones directly.",
                shown=shown,
                n=len(runs),
            )
        )
        st.button(
            t("Show {more} more", more=more),
            key="gallery_more",
            icon=":material/expand_more:",
            on_click=lambda: st.session_state.__setitem__(_SHOWN, shown + SHOWN_MAX),
        )
    linked = st.query_params.get(RUN_PARAM)
    if linked:  # a link to one run (``/gallery?ws=…&run=…``) opens its details once
        del st.query_params[RUN_PARAM]
        opened = opened or linked
    if opened:
        run_card.open_details(opened, workspace_id)
