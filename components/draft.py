"""The Studio's draft: restored when a session first opens the Studio, saved when it changes, cleared on request.

A draft belongs to one workspace and one participant (``Store.save_draft``), so a
reload, a new tab or a restarted server brings back the prompt and every setting.
"""

from __future__ import annotations

import streamlit as st

from components import parameters, workspace
from lib import drafts
from lib.i18n import Words
from lib.store import Workspace

# Every word this module puts on screen.
WORDS = Words(
    {
        "clear": "Clear",
        "clear_help": "Empty the prompt and put every setting back to its default.",
        "kept": "Your draft is kept for this workspace: a reload or a new tab brings it back.",
        "too_large": "This draft is too large to keep; it stays in this tab only.",
    }
)

_RESTORED = "_draft_of"  # (workspace id, participant id) whose draft this session has restored
_SAVED = "_draft_saved"  # the draft as last saved (or restored), to save only what changed
_TOO_LARGE = "_draft_too_large"


def restore(ws: Workspace) -> None:
    """Once per session and workspace: put the saved draft into the Studio, before any widget is drawn.

    A remix that has just filled the Studio wins over the saved draft (and becomes it).
    """
    ss = st.session_state
    owner = (ws.id, workspace.participant())
    if ss.get(_RESTORED) == owner:
        return
    ss[_RESTORED] = owner
    if ss.pop(parameters.REMIXED, False):
        return
    saved = workspace.store().load_draft(*owner)
    if saved:
        parameters.fill(saved)
    ss[_SAVED] = drafts.dumps(parameters.values())


def save(ws: Workspace) -> None:
    """Save the draft if it changed since it was last saved (one write per change, none per rerun)."""
    ss = st.session_state
    ss.pop(parameters.REMIXED, None)  # a remix has been shown: from now on it is the draft
    text = drafts.dumps(parameters.values())
    ss[_TOO_LARGE] = text is None
    if text is None or text == ss.get(_SAVED):
        return
    if workspace.store().save_draft(ws.id, workspace.participant(), drafts.loads(text)):
        ss[_SAVED] = text


def _clear() -> None:
    ws_id = st.session_state.get("ws")
    if ws_id:
        workspace.store().clear_draft(ws_id, workspace.participant())
    parameters.reset()
    st.session_state[_SAVED] = drafts.dumps(parameters.values())


def clear_button() -> None:
    with st.container(horizontal=True, vertical_alignment="center", key="draft"):
        st.button(
            WORDS["clear"], key="clear_draft", on_click=_clear, icon=":material/backspace:", help=WORDS["clear_help"]
        )
        st.caption(WORDS["too_large"] if st.session_state.get(_TOO_LARGE) else WORDS["kept"])
