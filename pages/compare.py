"""Compare: grids of runs that differ along one or two settings, played in sync, rated and ranked."""

import streamlit as st

from components import compare, workspace

ws = workspace.current()
st.title("Compare")
comparison = compare.opened(ws)
if comparison is not None:
    compare.view(comparison)
else:
    compare.builder(ws)
    with st.expander("Earlier comparisons", expanded=True):
        compare.history(ws, on_compare_page=True)
st.subheader("Leaderboard")
compare.leaderboard(ws)
