"""The gallery as it would be if videos went through st.video as bytes — for bench/gallery.py only.

    STUDIO_DATA_DIR=... BENCH_WS=<workspace id> streamlit run bench/_bytes_gallery.py

Renders the same cards as the real gallery, except that each video is read from disk
and handed to ``st.video`` as bytes (which Streamlit copies into its in-memory media
store on every run), instead of the app's ``/api/media/<token>`` URL.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from components import run_card
from lib import archive
from lib.store import Store

st.set_page_config(page_title="bytes gallery (bench)", layout="wide")
db = Store(os.environ["STUDIO_DATA_DIR"])
runs = db.list_runs(os.environ["BENCH_WS"], limit=None)
st.title("Gallery (video bytes)")
with st.grid(columns="auto", min_column_width=360, gap="medium"):
    for run in runs:
        with st.container(key=f"run-{run.id}", border=True):
            st.video(archive.media_path(db.data_dir, run.media_token).read_bytes(), format="video/mp4")
            st.text(run.request.prompt)
            run_card.badges(run)
            st.caption(f"Estimate {run.estimate_credits:,.2f} credits · task `{run.task_id}`")
            run_card.actions(run)
