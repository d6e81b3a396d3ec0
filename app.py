"""The Streamlit script: navigation over the pages and the shared sidebar."""

import streamlit as st

from components import connection, trouble, workspace

st.set_page_config(page_title="Seedance Prompt Studio", page_icon="🎬", layout="wide")

pages = [
    st.Page("pages/studio.py", title="Studio", icon=":material/edit_note:", default=True),
    st.Page("pages/gallery.py", title="Gallery", icon=":material/video_library:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/grid_view:"),
    st.Page("pages/batch.py", title="Batch", icon=":material/table_view:"),
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
