"""The CSV batch: a template to download, an upload, a preview of every row with its cost, and one confirmation."""

from __future__ import annotations

import hashlib

import streamlit as st

from components import submit
from lib import batch, pricing, workshop
from lib.store import Workspace

_PREFIX = "batch"  # widget keys batch_run, batch_confirm, batch_go, batch_cancel
_SENT = "batch_sent"


def template_button() -> None:
    st.download_button(
        "Download the CSV template",
        batch.template_csv(),
        file_name="seedance-batch-template.csv",
        mime="text/csv",
        key="batch_template",
        icon=":material/download:",
        help=f"Columns: {', '.join(batch.COLUMNS)}. Only prompt is required; blank cells use the defaults.",
    )


def upload() -> batch.Batch | None:
    """The uploaded file, parsed once per distinct file (not on every rerun)."""
    file = st.file_uploader(
        "CSV file",
        type=["csv"],
        key="batch_file",
        help="A prompt column, plus any of the setting columns from the template.",
    )
    if file is None:
        return None
    data = file.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    cached = st.session_state.get("_batch_parsed")
    if not cached or cached[0] != digest:
        cached = (digest, batch.parse_csv(data))
        st.session_state["_batch_parsed"] = cached
        submit.forget_confirmation(_PREFIX)
    return cached[1]


def _on_off(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def preview(parsed: batch.Batch) -> pricing.Estimate:
    """Every row with its settings, messages, hints and cost; then the total of the valid rows."""
    for problem in parsed.problems:
        st.warning(problem, icon=":material/warning:")
    table = []
    for row in parsed.rows:
        req = row.request
        table.append(
            {
                "Row": row.line,
                "Prompt": row.preview,
                "Model": row.values.get("model", ""),
                "Duration": None if req is None else req.effective("duration"),
                "Quality": "" if req is None else req.effective("quality"),
                "Ratio": "" if req is None else req.effective("aspect_ratio"),
                "Audio": "" if req is None else _on_off(req.effective("generate_audio")),
                "Credits": None if row.estimate is None else round(row.estimate.credits, 2),
                "Problems": " ".join(row.errors.values()),
                "Hints": " · ".join(h.message for h in row.hints),
            }
        )
    if table:
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            key="batch_preview",
            column_config={"Credits": st.column_config.NumberColumn(format="%.2f")},
        )
    total = parsed.total
    valid, bad = len(parsed.valid_rows), len(parsed.rows) - len(parsed.valid_rows)
    with st.container(key="batch_total"):
        st.metric("Total", pricing.format_credits(total.credits))
        st.caption(
            f"≈ {pricing.format_usd(total.usd)} · {valid} valid row(s) will be sent"
            + (f" · {bad} row(s) with problems will not" if bad else "")
        )
    for note in total.notes:
        st.caption(note)
    return total


def confirm_and_send(ws: Workspace, parsed: batch.Batch, total: pricing.Estimate) -> None:
    """One confirmation stating the total; then every valid row is sent as one group, or none is."""
    rows = parsed.valid_rows
    group_id = submit.confirm_group(
        _PREFIX,
        ask=f"Send {len(rows)} valid rows…",
        icon=":material/upload:",
        count=len(rows),
        total=total,
        question=f"Send **{len(rows)} runs** for a total of **{pricing.format_credits(total.credits)}** "
        f"(≈ {pricing.format_usd(total.usd)})?",
    )
    if group_id is None:
        return
    items = [workshop.Item(r.request, r.estimate, r.label) for r in rows]
    saved = submit.save_group(items, group_id, what="This batch")
    if saved is None:
        return
    with st.spinner(f"Sending {len(saved)} runs…"):
        sent = submit.send_group(saved)
    submit.forget_confirmation(_PREFIX)
    st.session_state[_SENT] = (group_id, len(sent), sum(1 for r in sent if r.task_id))
    st.rerun()


def outcome(ws: Workspace) -> None:
    """What the last batch of this session did."""
    sent = st.session_state.get(_SENT)
    if not sent:
        return
    _group_id, n, accepted = sent
    with st.container(key="batch_sent"):
        if accepted == n:
            st.success(f"Sent {n} runs as one batch.", icon=":material/check_circle:")
        else:
            st.warning(
                f"Sent {n} runs; the provider accepted {accepted}. The others show why in the gallery.",
                icon=":material/warning:",
            )
        st.page_link(
            "pages/gallery.py",
            label="Watch them in the gallery",
            icon=":material/video_library:",
            query_params={"ws": ws.id},
        )
