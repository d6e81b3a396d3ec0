"""Gallery: every run of the workspace, newest first; unfinished cards refresh by themselves."""

import streamlit as st

from components import gallery, workspace

ws = workspace.current()
st.title("Gallery")
every_run = gallery.workspace_runs(ws)
runs = gallery.filter_bar(every_run).apply(every_run)
gallery.export_buttons(ws, every_run)
gallery.comparisons(ws)
gallery.announce_completions()
gallery.grid(runs)
