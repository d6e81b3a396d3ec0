"""The Streamlit script: navigation over the pages and the shared sidebar."""

import streamlit as st

from components import connection, language, trouble, workspace
from lib.i18n import t

st.set_page_config(page_title="Seedance Prompt Studio", page_icon="🎬", layout="wide")
language.apply()  # first: every word below, the pages' included, is in this browser's language

pages = [
    st.Page("pages/studio.py", title=t("Studio"), icon=":material/edit_note:", default=True),
    st.Page("pages/gallery.py", title=t("Gallery"), icon=":material/video_library:"),
    st.Page("pages/compare.py", title=t("Compare"), icon=":material/grid_view:"),
    st.Page("pages/batch.py", title=t("Batch"), icon=":material/table_view:"),
]
page = st.navigation(pages)

try:
    ws, budget_slot = workspace.sidebar_section()
    connection.sidebar_section()
    connection.demo_banner()
    try:
        page.run()
    finally:
        # Filled after the page ran, so a run submitted just now already counts.
        workspace.budget_block(budget_slot, ws)
except Exception as exc:  # the server's disk or database failing: a plain sentence, not a traceback
    if not trouble.shown(exc):
        raise
