"""Compare: grids of runs that differ along one or two settings."""

import streamlit as st

from components import workspace

workspace.current()
st.title("Compare")
st.info("Comparison grids arrive with the next release: until then, filter the Gallery to put runs side by side.",
        icon=":material/grid_view:")
st.page_link("pages/gallery.py", label="Open the Gallery", icon=":material/video_library:")
