"""Gallery: every run of the workspace, newest first; cards change as runs do, pushed by the server."""

import streamlit as st

from components import gallery, run_card, workspace
from lib.i18n import t

run_card.follow_remix()  # a Remix clicked in a run's details opens the Studio
ws = workspace.current()
st.title(t("Gallery"))
every_run = gallery.workspace_runs(ws.id)
view = gallery.filter_bar(every_run)
gallery.export_buttons(ws, every_run)
gallery.comparisons(ws)
gallery.grid(ws, view, every_run)
