"""When the server's storage fails (a full disk, a damaged database): one plain sentence instead of a traceback."""

from __future__ import annotations

import streamlit as st

from lib import health


def shown(exc: Exception) -> bool:
    """Show the plain sentence for ``exc`` if it is the server's storage failing; False for anything else."""
    sentence = health.trouble(exc)
    if sentence is None:
        return False
    health.note(exc)
    st.error(sentence, icon=":material/report:")
    return True
