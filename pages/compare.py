"""Compare: grids of runs that differ along one or two settings, played in sync, rated and ranked."""

import streamlit as st

from components import compare_builder, compare_view, run_card, workspace
from lib.i18n import t

run_card.follow_remix()  # a Remix clicked on a cell opens the Studio
ws = workspace.current()
st.title(t("Compare"))
comparison = compare_view.opened(ws)
if comparison is not None:
    compare_view.view(comparison)
else:
    compare_builder.builder(ws)
    with st.expander(t("Earlier comparisons"), expanded=True):
        compare_view.history(ws, on_compare_page=True)
st.subheader(t("Leaderboard"))
compare_view.leaderboard(ws)
