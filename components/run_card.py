"""One run in the gallery: its video or its progress, prompt, settings, cost, rating and notes."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import streamlit as st

from components import run_recovery, workspace
from components.plain import md
from lib import advice, catalog, pricing
from lib.settings import MEDIA_PREFIX
from lib.status import FAILURES, POLLED, TO_ARCHIVE, RunStatus
from lib.store import Run
from lib.text import shorten

PROMPT_SHOWN = 600  # characters of a prompt a card shows


def media_url(token: str) -> str:
    """An absolute URL for the media route (st.video needs one for a custom route)."""
    base = urlsplit(st.context.url or "")
    origin = f"{base.scheme}://{base.netloc}" if base.scheme and base.netloc else ""
    return f"{origin}{MEDIA_PREFIX}{token}"


def badges(run: Run) -> None:
    """The settings as one line of badges: one element per card instead of one per badge."""
    req = run.request
    spec = catalog.MODELS.get(run.model)
    items = [
        ("violet", md(spec.label if spec else run.model)),
        ("gray", f"{req.effective('duration')} s"),
        ("gray", req.effective("quality")),
        ("gray", md(req.effective("aspect_ratio"))),
    ]
    if not req.effective("generate_audio"):
        items.append(("gray", "silent"))
    if not req.effective("content_filter"):
        items.append(("orange", f"filter off {pricing.price_words().filter_off}"))
    if req.effective("web_search"):
        items.append(("blue", "web search"))
    if run.participant:
        items.append(("green", ":material/person: " + md(run.participant, 100)))
    st.markdown(" ".join(f":{color}-badge[{text}]" for color, text in items))


def _status(run: Run) -> None:
    if run_recovery.missing_key(run):
        return
    if run.status in POLLED or run.status is RunStatus.SUBMITTING:
        eta = ""
        if run.estimated_time and run.submitted_at:
            left = max(0, run.submitted_at + run.estimated_time - time.time())
            eta = f" · about {left:.0f} s left" if left else " · any moment now"
        st.progress(run.progress / 100, text=f"{run.label.capitalize()} · {run.progress}%{eta}")
    elif run.status in TO_ARCHIVE:
        st.progress(1.0, text="Saving the video…")
    elif run.status in FAILURES:
        st.error(f"**{run.label.capitalize()}** · {md(run.error_code or run.status)}", icon=":material/error:")
        if run.error_message:
            st.text(run.error_message)  # server text: plain text, never HTML or Markdown
        todo = advice.what_to_do(run.error_code, run.status)
        if todo:
            st.caption(todo)
        run_recovery.attach_task_id(run)
    if run.poll_error and not run.finished:
        st.caption(f"Retrying: {md(run.poll_error)}")


def body(run: Run) -> None:
    """Everything that changes while a run is in flight."""
    if run.archived:
        url = media_url(run.media_token)
        if url.startswith(("http://", "https://")):
            st.video(url)
        else:
            # No browser URL known (st.context.url is None): st.video would read a relative
            # path as a server file and fail (or copy the file into memory). Link instead.
            st.markdown(f"[:material/play_circle: Play the video]({url})")
    else:
        _status(run)
    st.text(shorten(run.request.prompt, PROMPT_SHOWN))
    badges(run)
    reserved = "—" if run.credits_reserved is None else f"{pricing.format_amount(run.credits_reserved)}"
    st.caption(
        f"Estimate {'≈ ' if not run.estimate_exact else ''}{pricing.format_amount(run.estimate_credits)} credits"
        f" · reserved {reserved}" + (f" · task {md(run.task_id)}" if run.task_id else "")
    )


def _save_rating(run_id: str, key: str) -> None:
    value = st.session_state.get(key)
    workspace.store().set_rating(run_id, None if value is None else value + 1)


def rating(run: Run, key: str) -> None:
    """Stars for a run (1-5, stored as given), saved as soon as they are clicked."""
    st.feedback(
        "stars",
        key=key,
        default=None if run.rating is None else run.rating - 1,
        on_change=_save_rating,
        args=(run.id, key),
    )


def _save_notes(run_id: str) -> None:
    workspace.store().set_notes(run_id, st.session_state.get(f"notes-{run_id}"))


def remix(run: Run) -> None:
    from components import parameters

    req = run.request
    # Every field, defaults included: a remix reproduces the run, not the Studio's last settings.
    values = {field: req.effective(field) for field in parameters.FIELDS if field != "model"}
    values.update(
        model=req.model,
        prompt=req.prompt,
        callback_url=req.callback_url or "",
        **{field: getattr(req, field) or () for field in parameters.MEDIA_FIELDS},
    )
    parameters.init_state(values)
    st.session_state["remix_of"] = run.id
    st.session_state["_param_notice"] = "Remixing a run from the gallery: change what you like and generate."


def actions(run: Run) -> None:
    """Rating, notes, remix and download: shown once a run has finished."""
    with st.container(horizontal=True, vertical_alignment="center"):
        rating(run, f"rate-{run.id}")
        if st.button("Remix", key=f"remix-{run.id}", icon=":material/edit:", on_click=remix, args=(run,)):
            st.switch_page("pages/studio.py", query_params={"ws": run.workspace_id})
        if run.archived:
            st.link_button("Download", f"{media_url(run.media_token)}?download=1", icon=":material/download:")
    with st.expander("Notes", expanded=bool(run.notes)):
        st.text_area(
            "Notes",
            value=run.notes or "",
            key=f"notes-{run.id}",
            on_change=_save_notes,
            args=(run.id,),
            label_visibility="collapsed",
            placeholder="What worked, what didn't…",
        )
