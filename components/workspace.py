"""The workspace this browser is in (``?ws=`` in the URL), its name, budget and the participant."""

from __future__ import annotations

import streamlit as st

from components.connection import settings
from lib import pricing
from lib.store import Store, Workspace, valid_id


@st.cache_resource(show_spinner=False)
def store() -> Store:
    return Store.from_settings(settings())


def current() -> Workspace:
    """The workspace named in the URL or this session; a new one when there is none.

    st.navigation drops query parameters on a page switch, so the id also lives in
    session state and is written back into the URL on every run.
    """
    db = store()
    ws = None
    for candidate in (st.query_params.get("ws"), st.session_state.get("ws")):
        if valid_id(candidate) and (ws := db.get_workspace(candidate)) is not None:
            break
    if ws is None:
        ws = db.create_workspace()
    st.session_state["ws"] = ws.id
    if st.query_params.get("ws") != ws.id:
        st.query_params["ws"] = ws.id
    return ws


def participant() -> str | None:
    name = (st.session_state.get("who") or "").strip()
    return name[:100] or None


def _rename() -> None:
    name = (st.session_state.get("ws_name") or "").strip()
    if name:
        store().rename_workspace(st.session_state["ws"], name)


def sidebar_section() -> Workspace:
    ws = current()
    st.sidebar.subheader("Workspace")
    st.session_state["ws_name"] = ws.name
    st.sidebar.text_input(
        "Name", key="ws_name", on_change=_rename, help="Everyone with this page's link sees the same gallery."
    )
    st.sidebar.text_input(
        "Your name",
        key="who",
        bind="query-params",
        max_chars=100,
        placeholder="shown on your runs",
        help="Kept in the link, so a reload keeps it.",
    )
    _budget_line(ws)
    _budget_inputs(ws)
    return ws


def _budget_line(ws: Workspace) -> None:
    db = store()
    committed = db.committed_credits(ws.id)
    if ws.budget_credits is None:
        st.sidebar.caption(f"Committed: {pricing.format_amount(committed)} credits · no budget set")
    else:
        st.sidebar.progress(
            min(committed / ws.budget_credits, 1.0) if ws.budget_credits else 1.0,
            text=f"{pricing.format_amount(committed)} of {pricing.format_amount(ws.budget_credits)} credits committed",
        )


def _save_budget() -> None:
    ss = st.session_state
    store().set_budget(ss["ws"], ss.get("ws_budget"), ss.get("ws_cap"))


def _budget_inputs(ws: Workspace) -> None:
    """The facilitator's limits: a budget for the workspace and an optional cap per participant."""
    ss = st.session_state
    # Re-read from the store on every run, so every browser in the workshop shows the same limits.
    ss["ws_budget"], ss["ws_cap"] = ws.budget_credits, ws.per_participant_cap
    with st.sidebar.expander("Workshop budget"):
        st.number_input(
            "Workspace budget (credits)",
            min_value=0.0,
            step=100.0,
            key="ws_budget",
            on_change=_save_budget,
            placeholder="no limit",
            help="Runs, grids and batches that would go over it are refused.",
        )
        st.number_input(
            "Cap per participant (credits)",
            min_value=0.0,
            step=50.0,
            key="ws_cap",
            on_change=_save_budget,
            placeholder="no cap",
            help="Counts the runs carrying each participant's name.",
        )
        who = participant()
        if ws.per_participant_cap is not None and who:
            st.caption(
                f"{who}: {pricing.format_amount(store().committed_credits(ws.id, who))} of "
                f"{pricing.format_amount(ws.per_participant_cap)} credits committed"
            )
