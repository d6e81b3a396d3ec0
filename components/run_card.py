"""Runs in the gallery: the cards (one light component for all of them) and each run's detail view.

A card shows a poster until someone presses play (``<video preload="none" poster>``
from the media route: no video bytes before that), the prompt, the settings as badges,
when it was made, how long it took, what it cost, and stars. Its data comes from
``lib/cards.py``; ``run_card.js`` draws it with ``textContent`` only, in an element
marked ``data-run-id``. "Details" opens the detail view: the contact sheet, notes,
remix, download, and what a run in its state needs (``status_controls``).
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from components import language, lineage, live, run_recovery, workspace
from components.plain import md
from lib import advice, cards, media, messages, recovery
from lib.i18n import t
from lib.status import FAILURES
from lib.store import Run
from lib.text import shorten

HERE = Path(__file__).resolve().parent

_cards = st.components.v2.component(
    "studio_cards",
    css=(HERE / "run_card.css").read_text(encoding="utf-8"),
    js=live.HUB_JS + "\n" + (HERE / "run_card.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # cards stay in the page's DOM, so [data-run-id] finds them
)


def media_url(token: str, kind: media.Kind = "video") -> str:
    """An absolute URL for the media route (``st.video`` and ``st.image`` need one for a custom route)."""
    base = urlsplit(st.context.url or "")
    origin = f"{base.scheme}://{base.netloc}" if base.scheme and base.netloc else ""
    return f"{origin}{media.url(token, kind)}"


# --- the cards ------------------------------------------------------------------------------


def _ignore() -> None:
    """The trigger reruns the enclosing fragment; the fragment reads what it needs."""


def _save_rating(key: str) -> None:
    picked = (st.session_state.get(key) or {}).get("rate")
    if isinstance(picked, dict) and isinstance(picked.get("run"), str):
        stars = picked.get("stars")
        if stars is None or (type(stars) is int and 1 <= stars <= 5):
            workspace.store().set_rating(picked["run"], stars)


def grid(runs: list[Run], *, workspace_id: str, key: str, patch: bool, since: int, empty: str = "") -> str | None:
    """Every run's card in one component; returns the id of a run whose details were asked for.

    With ``patch`` (the unfiltered, newest-first view) the page updates cards from run
    notices itself; otherwise a notice asks the enclosing fragment to rerun. ``since``:
    ``live.heard()`` taken before ``runs`` were read.
    """
    result = _cards(
        key=key,
        data={
            "cards": [cards.card(run, key_missing=recovery.key_missing(run)) for run in runs],
            "url": live.events_url(workspace_id),
            "patch": patch,
            "words": dict(cards.WORDS),  # in this page's language
            "empty": empty,
            "since": since,
        },
        on_rate_change=functools.partial(_save_rating, key),
        on_open_change=_ignore,
        on_changed_change=_ignore,
    )
    opened = result.get("open") if result is not None else None
    return opened if isinstance(opened, str) else None


# --- the detail view ------------------------------------------------------------------------


def _local(seconds: float) -> str:
    """A time in the viewer's own time zone when the browser said which, else the server's."""
    try:
        zone = ZoneInfo(st.context.timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return datetime.fromtimestamp(seconds, zone).strftime("%Y-%m-%d %H:%M")


def badges(run: Run) -> None:
    """The settings as one line of badges (the same words as the card's)."""
    line = " ".join(f":{tone}-badge[{md(text, 100)}]" for tone, text in cards.badges(run))
    st.markdown(line)


def status_controls(run: Run, *, recovery: bool = True) -> None:
    """What a run in its state needs before anything else: the error and what to do about it.

    Runs that need more than words (an unknown outcome to look up, a personal key to
    enter again) get their controls here too, from the module that knows how; with
    ``recovery`` False (a run's details, while the same controls show above the cards)
    they are left out, so no widget appears twice.
    """
    if recovery and run_recovery.missing_key(run):
        return
    if run.status in FAILURES:
        st.error(f"**{md(run.label.capitalize())}** · {md(run.error_code or run.status)}", icon=":material/error:")
        if run.error_message:
            st.text(messages.show(run.error_message))  # plain text, never HTML or Markdown
        todo = advice.what_to_do(run.error_code, run.status)
        if todo:
            st.caption(todo)
        if recovery:
            run_recovery.attach_task_id(run)
    elif run.poll_error and not run.finished:
        st.caption(t("Retrying: {error}", error=md(messages.show(run.poll_error))))


def needs_you(runs: list[Run]) -> None:
    """Above the cards: each run that cannot go on without someone (a key to paste again, a task id to attach).

    Each keeps its controls in a container keyed ``run-<run id>``, next to its prompt.
    """
    waiting = [run for run in runs if run_recovery.needs_action(run)]
    for run in waiting:
        with st.container(key=f"run-{run.id}", border=True):
            st.caption(md(shorten(run.request.prompt, 160)))
            status_controls(run)


def _save_notes(run_id: str) -> None:
    workspace.store().set_notes(run_id, st.session_state.get(f"notes-{run_id}"))


def rating(run: Run, key: str) -> None:
    """Stars for a run (1-5, stored as given), saved as soon as they are clicked."""
    st.feedback(
        "stars",
        key=key,
        default=None if run.rating is None else run.rating - 1,
        on_change=_save_feedback,
        args=(run.id, key),
    )


def _save_feedback(run_id: str, key: str) -> None:
    value = st.session_state.get(key)
    workspace.store().set_rating(run_id, None if value is None else value + 1)


def remix(run: Run) -> None:
    language.follow()  # a callback runs before app.py sets the language
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
    st.session_state[_TO_STUDIO] = run.workspace_id
    st.session_state["_param_notice"] = t("Remixing a run from the gallery: change what you like and generate.")


_TO_STUDIO = "_remix_to_studio"  # set by a Remix click: the workspace whose Studio opens next


def follow_remix() -> None:
    """After a Remix click, open the Studio with the run's settings.

    Called where the click lands: in the detail view when only it reruns, and at the top
    of the gallery page when the whole page does.
    """
    ws_id = st.session_state.pop(_TO_STUDIO, None)
    if ws_id:
        st.switch_page("pages/studio.py", query_params={"ws": ws_id})


def actions(run: Run) -> None:
    """Remix and download."""
    with st.container(horizontal=True, vertical_alignment="center"):
        if st.button(t("Remix"), key=f"remix-{run.id}", icon=":material/edit:", on_click=remix, args=(run,)):
            follow_remix()
        if run.archived and run.media_token:
            st.link_button(
                t("Download"),
                f"{media_url(run.media_token)}?download={run.id}",
                icon=":material/download:",
                help=t("The MP4, named after the prompt, with the prompt and settings in its tags."),
            )


def details(run: Run) -> None:
    """Everything about one run: status controls, contact sheet, prompt, settings, cost, notes, remix, download."""
    with st.container(key=f"detail-{run.id}"):
        # A run waiting for someone keeps its controls above the cards, once.
        status_controls(run, recovery=not run_recovery.needs_action(run))
        if run.archived and run.media_token:
            sheet = media_url(run.media_token, "sheet")
            if sheet.startswith(("http://", "https://")):
                st.image(sheet, caption=t("Six moments of the video"), width="stretch")
        st.text(run.request.prompt)
        badges(run)
        facts = [t("Made {time}", time=_local(run.created_at)), *cards.facts(run)]
        if run.task_id:
            facts.append(t("task {id}", id=md(run.task_id)))
        st.caption(" · ".join(facts))
        st.text_area(
            t("Notes"),
            value=run.notes or "",
            key=f"notes-{run.id}",
            on_change=_save_notes,
            args=(run.id,),
            placeholder=t("What worked, what didn't…"),
        )
        actions(run)
        lineage.section(run.id, workspace_id=run.workspace_id)  # where this prompt came from and what came of it


def _detail_body(run_id: str) -> None:
    run = workspace.store().get_run(run_id)
    if run is None:
        st.warning(t("This run is no longer in the workspace."))
        return
    details(run)


def detail_dialog(run_id: str) -> None:
    """The run's details in a dialog titled in the reader's language."""
    st.dialog(t("Run"), width="large")(_detail_body)(run_id)


def open_details(run_id: str, workspace_id: str) -> None:
    """Open the detail view of a run of this workspace (an id from anywhere else is ignored)."""
    run = workspace.store().get_run(run_id)
    if run is not None and run.workspace_id == workspace_id:
        detail_dialog(run_id)
