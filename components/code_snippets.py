"""For developers: the callback URL, and the current request as curl, Python and Node with a placeholder key."""

from __future__ import annotations

import streamlit as st

from components import parameters
from lib import snippets
from lib.i18n import Words, t
from lib.schema import GenerationRequest

# Every word this module puts on screen.
WORDS = Words(
    {
        "title": "For developers",
        "code": "**Copy as code**",
        "invalid": "Fix the settings above to get code for this request.",
    }
)


def _key_caption() -> str:
    return t(
        "Each script submits the request, waits for the video and saves it. It reads your key from the "
        "SEEDANCE_API_KEY environment variable (or replace YOUR_API_KEY); the app never puts a real key in code."
    )


def for_developers(request: GenerationRequest | None, errors: dict[str, str]) -> None:
    """One expander with what only developers need, closed unless the callback URL has a problem."""
    with st.expander(WORDS["title"], icon=":material/code:", expanded="callback_url" in errors):
        parameters.callback_field(errors)
        code_tabs(request)


def code_tabs(request: GenerationRequest | None) -> None:
    st.markdown(WORDS["code"])
    if request is None:
        st.caption(WORDS["invalid"])
        return
    kinds = list(snippets.SNIPPETS.values())
    for tab, kind in zip(st.tabs([k.label for k in kinds]), kinds, strict=True):
        tab.code(kind.write(request), language=kind.language)
    st.caption(_key_caption())
