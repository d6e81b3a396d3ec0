"""The workspace this browser is in (``?ws=`` in the URL), its name, budget and the participant."""

from __future__ import annotations

import streamlit as st

from components.connection import settings
from lib.store import Store, Workspace, valid_id


@st.cache_resource(show_spinner=False)
def store() -> Store:
    s = settings()
    return Store(s.database_url or s.data_dir, data_dir=s.data_dir)


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
    st.sidebar.text_input("Name", key="ws_name", on_change=_rename,
                          help="Everyone with this page's link sees the same gallery.")
    st.sidebar.text_input("Your name", key="who", bind="query-params", max_chars=100,
                          placeholder="shown on your runs", help="Kept in the link, so a reload keeps it.")
    _budget_line(ws)
    return ws


def _budget_line(ws: Workspace) -> None:
    db = store()
    committed = db.committed_credits(ws.id)
    if ws.budget_credits is None:
        st.sidebar.caption(f"Committed: {committed:,.2f} credits · no budget set")
    else:
        st.sidebar.progress(min(committed / ws.budget_credits, 1.0) if ws.budget_credits else 1.0,
                            text=f"{committed:,.2f} of {ws.budget_credits:,.2f} credits committed")
