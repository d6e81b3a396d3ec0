"""Batch: many prompts from a CSV file, previewed and priced row by row, sent after one confirmation."""

import streamlit as st

from components import batch, workspace
from lib.i18n import t

ws = workspace.current()
st.title(t("CSV batch"))
st.caption(t("One prompt per row. Check every row and the total before anything is sent."))
batch.template_button()
batch.outcome(ws)
uploaded = batch.upload()
if uploaded is not None:
    digest, parsed = uploaded
    total = batch.preview(parsed)
    batch.confirm_and_send(ws, digest, parsed, total)
