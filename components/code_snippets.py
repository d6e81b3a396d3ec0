"""Copy as code: the current request as curl, Python and Node, with a placeholder key."""

from __future__ import annotations

import streamlit as st

from lib import snippets
from lib.schema import GenerationRequest


def code_tabs(request: GenerationRequest | None) -> None:
    with st.expander("Copy as code", icon=":material/code:"):
        if request is None:
            st.caption("Fix the settings above to get code for this request.")
            return
        curl, python, node = st.tabs(["curl", "Python", "Node"])
        curl.code(snippets.as_curl(request), language="bash")
        python.code(snippets.as_python(request), language="python")
        node.code(snippets.as_node(request), language="javascript")
        st.caption("Replace YOUR_API_KEY with your key; the app never puts a real key in code.")
