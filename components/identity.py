"""Which participant this browser is: the id in its ``studio_pid`` cookie (``lib.identity``), kept per session.

A browser without the cookie (a test, a browser that refuses cookies) gets an id for
this session only. The id is never shown, never put in a link, never logged.
"""

from __future__ import annotations

import streamlit as st

from lib.identity import COOKIE, new_participant_id, valid_participant_id

_SESSION_KEY = "pid"  # tests set it to play different people


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this session (AppTest): no cookies at all
        return None
    return value if valid_participant_id(value) else None


def participant_id() -> str:
    """This browser's participant id: its cookie when valid, else one kept in this session."""
    cookie = _cookie()
    if cookie is not None:
        return cookie
    ss = st.session_state
    if not valid_participant_id(ss.get(_SESSION_KEY)):
        ss[_SESSION_KEY] = new_participant_id()
    return ss[_SESSION_KEY]
