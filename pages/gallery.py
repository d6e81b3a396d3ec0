"""Gallery: every run of the workspace, newest first; unfinished cards refresh by themselves."""

import streamlit as st

from components import gallery, workspace

ws = workspace.current()
st.title("Gallery")
runs = gallery.filtered_runs(ws, gallery.filter_bar(ws))
gallery.export_buttons(ws)
gallery.comparisons(ws)
gallery.announce_completions()
gallery.grid(runs)
