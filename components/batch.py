"""The CSV batch: a template to download, an upload, a preview of every row with its cost, and one confirmation.

The preview leads with what a person must act on (each row's problem, its hints and
its cost), so a bad row is visible without scrolling sideways. A file that was sent is
marked so; sending it again takes a deliberate tick.
"""

from __future__ import annotations

import hashlib
import time

import streamlit as st

from components import submit
from lib import batch, catalog, pricing, workshop
from lib.i18n import Words, t
from lib.store import Workspace

_PREFIX = "batch"  # widget keys batch_run, batch_confirm, batch_go, batch_cancel
_SENT = "batch_sent"  # the last batch this session sent: (group id, runs, accepted)
_SENT_FILES = "_batch_sent_files"  # file digest -> (runs sent, when), for this session

# Every word this module puts on screen; the preview's column names first.
WORDS = Words(
    {
        "row": "Row",
        "problems": "Problems",
        "hints": "Hints",
        "credits": "Credits",
        "prompt": "Prompt",
        "model": "Model",
        "duration": "Duration",
        "quality": "Quality",
        "ratio": "Ratio",
        "audio": "Audio",
        "media": "Media",
        "ok": "ready",
        "yes": "yes",
        "no": "no",
        "seconds": "{n} s",
        "media_count": "{n} {kind}",
        "total": "Total",
        "summary": "≈ {usd} · {valid} valid row(s) will be sent",
        "bad": " · {bad} row(s) with problems will not",
        "ask": "Send {n} valid rows…",
        "question": "Send **{n} runs** for a total of **{credits}** (≈ {usd})?",
        "sent_before": "This file was sent at {when} ({n} runs). Sending it again makes {n} new runs, paid again.",
        "again": "Send this file again",
        "all_sent": "Sent {n} runs as one batch.",
        "some_sent": "Sent {n} runs; the provider accepted {accepted}. The others show why in the gallery.",
        "watch": "Watch them in the gallery",
        "sending": "Sending {n} runs…",
        "template": "Download the CSV template",
        "template_help": "Columns: {columns}. Only prompt is required; blank cells use the defaults.",
        "file": "CSV file",
        "file_help": "A prompt column, plus any of the setting columns from the template.",
    }
)


def template_button() -> None:
    st.download_button(
        WORDS["template"],
        batch.template_csv(),
        file_name="seedance-batch-template.csv",
        mime="text/csv",
        key="batch_template",
        icon=":material/download:",
        help=WORDS["template_help"].format(columns=", ".join(batch.COLUMNS)),
    )


def upload() -> tuple[str, batch.Batch] | None:
    """The uploaded file's digest and its rows, parsed once per distinct file (not on every rerun)."""
    file = st.file_uploader(WORDS["file"], type=["csv"], key="batch_file", help=WORDS["file_help"])
    if file is None:
        return None
    data = file.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    cached = st.session_state.get("_batch_parsed")
    if not cached or cached[0] != digest:
        cached = (digest, batch.parse_csv(data))
        st.session_state["_batch_parsed"] = cached
        submit.forget_confirmation(_PREFIX)
    return cached


def _on_off(value: bool | None) -> str:
    return "" if value is None else (WORDS["yes"] if value else WORDS["no"])


def _media(row: batch.BatchRow) -> str:
    counts = [(len(row.values.get(m.field, ())), m) for m in catalog.MEDIA.values()]
    return ", ".join(WORDS["media_count"].format(n=n, kind=t(m.one if n == 1 else m.many)) for n, m in counts if n)


def table(parsed: batch.Batch) -> list[dict[str, str]]:
    """The preview's rows as text: what to act on first (problems, hints, cost), then the settings; no "None"."""
    out = []
    for row in parsed.rows:
        req = row.request
        spec = catalog.MODELS.get(row.values.get("model", ""))
        out.append(
            {
                WORDS["row"]: str(row.line),
                WORDS["problems"]: " ".join(row.errors.values()) or WORDS["ok"],
                WORDS["hints"]: " · ".join(h.title for h in row.hints),
                WORDS["credits"]: "" if row.estimate is None else pricing.format_amount(row.estimate.credits),
                WORDS["prompt"]: row.preview,
                WORDS["model"]: spec.label if spec else str(row.values.get("model", "")),
                WORDS["duration"]: "" if req is None else WORDS["seconds"].format(n=req.effective("duration")),
                WORDS["quality"]: "" if req is None else req.effective("quality"),
                WORDS["ratio"]: "" if req is None else req.effective("aspect_ratio"),
                WORDS["audio"]: "" if req is None else _on_off(req.effective("generate_audio")),
                WORDS["media"]: _media(row),
            }
        )
    return out


def preview(parsed: batch.Batch) -> pricing.Estimate:
    """Every row with its problem, hints and cost first, then its settings; then the total of the valid rows."""
    for problem in parsed.problems:
        st.warning(problem, icon=":material/warning:")
    rows = table(parsed)
    if rows:
        st.dataframe(
            rows,
            hide_index=True,
            width="stretch",
            key="batch_preview",
            column_config={
                WORDS["row"]: st.column_config.TextColumn(width="small"),
                WORDS["problems"]: st.column_config.TextColumn(width="large"),
                WORDS["hints"]: st.column_config.TextColumn(width="medium"),
                WORDS["credits"]: st.column_config.TextColumn(width="small"),
            },
        )
    total = parsed.total
    valid, bad = len(parsed.valid_rows), len(parsed.rows) - len(parsed.valid_rows)
    with st.container(key="batch_total"):
        st.metric(WORDS["total"], pricing.format_credits(total.credits))
        st.caption(
            WORDS["summary"].format(usd=pricing.format_usd(total.usd), valid=valid)
            + (WORDS["bad"].format(bad=bad) if bad else "")
        )
    for note in total.notes:
        st.caption(note)
    return total


def _again_key(digest: str) -> str:
    """The "send this file again" checkbox of one file."""
    return f"batch_again_{digest[:16]}"


def _sent_before(digest: str) -> bool:
    """Whether this file was sent in this session: then sending it again needs a deliberate tick."""
    sent = st.session_state.get(_SENT_FILES, {}).get(digest)
    if sent is None:
        return False
    n, when = sent
    with st.container(key="batch_sent_before"):
        st.warning(
            WORDS["sent_before"].format(when=time.strftime("%H:%M", time.localtime(when)), n=n),
            icon=":material/done_all:",
        )
        again = st.checkbox(WORDS["again"], key=_again_key(digest))
    return not again


def confirm_and_send(ws: Workspace, digest: str, parsed: batch.Batch, total: pricing.Estimate) -> None:
    """One confirmation stating the total; then every valid row is sent as one group, or none is."""
    rows = parsed.valid_rows
    group_id = submit.confirm_group(
        _PREFIX,
        ask=WORDS["ask"].format(n=len(rows)),
        icon=":material/upload:",
        count=len(rows),
        total=total,
        question=WORDS["question"].format(
            n=len(rows), credits=pricing.format_credits(total.credits), usd=pricing.format_usd(total.usd)
        ),
        blocked=_sent_before(digest),
    )
    if group_id is None:
        return
    items = [workshop.Item(r.request, r.estimate, r.label) for r in rows]
    saved = submit.save_group(items, group_id, what="This batch")
    if saved is None:
        return
    with st.spinner(WORDS["sending"].format(n=len(saved))):
        sent = submit.send_group(saved)
    submit.forget_confirmation(_PREFIX)
    st.session_state[_SENT] = (group_id, len(sent), sum(1 for r in sent if r.task_id))
    st.session_state.setdefault(_SENT_FILES, {})[digest] = (len(sent), time.time())
    st.session_state.pop(_again_key(digest), None)
    st.rerun()


def outcome(ws: Workspace) -> None:
    """What the last batch of this session did."""
    sent = st.session_state.get(_SENT)
    if not sent:
        return
    _group_id, n, accepted = sent
    with st.container(key="batch_sent"):
        if accepted == n:
            st.success(WORDS["all_sent"].format(n=n), icon=":material/check_circle:")
        else:
            st.warning(WORDS["some_sent"].format(n=n, accepted=accepted), icon=":material/warning:")
        st.page_link(
            "pages/gallery.py",
            label=WORDS["watch"],
            icon=":material/video_library:",
            query_params={"ws": ws.id},
        )
