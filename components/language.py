"""The screen language of this browser: a sidebar choice keyed ``lang``, remembered per browser.

The first visit follows the browser's own language (``st.context.locale``, else its
``Accept-Language`` header); a choice is stored against the browser's participant id
(``Store.set_language_of``), so a reload, another workspace or another day keeps it.
Never in the URL: a shared link opens in each reader's own language.
"""

from __future__ import annotations

import streamlit as st

from components import identity
from components.workspace import store
from lib import health, i18n

KEY = "lang"
LABEL = "Language / 语言"  # in both languages, so whoever cannot read the current one still finds it


def _browser() -> str:
    """The browser's own language: what it tells the page, else what it asks the server for."""
    try:
        said = st.context.locale or st.context.headers.get("Accept-Language")
    except Exception:  # no browser behind this session (AppTest without a context)
        said = None
    return i18n.normalize(said)


def _stored() -> str | None:
    try:
        return store().language_of(identity.participant_id())
    except Exception as exc:  # storage failing: the page says so in words (components.trouble) further on
        if health.trouble(exc) is None:
            raise
        return None


def _remember() -> None:
    store().set_language_of(identity.participant_id(), st.session_state[KEY])


def apply() -> str:
    """Set this script run's language (call first, before any page code) and show the choice in the sidebar.

    Only a choice made with the widget is stored; until then the browser's language rules.
    """
    ss = st.session_state
    if ss.get(KEY) not in i18n.LANGUAGES:
        ss[KEY] = _stored() or _browser()
    st.sidebar.radio(
        LABEL,
        list(i18n.LANGUAGES),
        key=KEY,
        format_func=i18n.LANGUAGES.__getitem__,
        horizontal=True,
        on_change=_remember,
    )
    return i18n.set_language(ss[KEY])


def follow() -> None:
    """In a widget callback (it runs before app.py): speak this session's language too."""
    i18n.set_language(st.session_state.get(KEY))
