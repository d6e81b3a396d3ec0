"""On a run card: the way back for a run that lost its key, and for an unknown run whose task was paid for.

Both are shown in the run's status area (``components.run_card``: above the cards and in
the detail view); the rules are in ``lib.recovery``. A key pasted here goes to the
worker's memory only, and the field is emptied at once.
"""

from __future__ import annotations

import streamlit as st

from components import connection, language, submit, workspace
from components.plain import md
from lib import client as api
from lib import recovery, worker
from lib.i18n import t
from lib.store import Run


def needs_action(run: Run) -> bool:
    """Does this run wait for someone: a personal key pasted again, or a task id attached?"""
    return recovery.key_missing(run) or recovery.can_attach(run)


def missing_key(run: Run) -> bool:
    """For a run whose key is not in memory: say so, with the key field right there. True when shown."""
    if not recovery.key_missing(run):
        return False
    with st.container(key=f"rekey-box-{run.id}"):
        st.warning(t(recovery.MISSING_KEY), icon=":material/key:")
        st.text_input(
            t("Evolink API key"),
            type="password",
            key=f"rekey-{run.id}",
            on_change=_rekey,
            args=(run.id, run.key_fingerprint),
            placeholder=t("the key this run was made with"),
            help=t("Kept in the server's memory only, to follow this run: never saved, logged or shown."),
        )
        note = st.session_state.pop(f"rekey-note-{run.id}", None)
        if note:
            st.caption(note)  # our own words
    return True


def _rekey(run_id: str, fingerprint: str) -> None:
    language.follow()  # a callback runs before app.py sets the language
    key = (st.session_state.get(f"rekey-{run_id}") or "").strip()
    st.session_state[f"rekey-{run_id}"] = ""  # the key leaves this session at once
    if not key:
        return
    if api.key_fingerprint(key) != fingerprint:
        st.session_state[f"rekey-note-{run_id}"] = t("That is not the key this run was made with.")
        return
    w = worker.current()
    if w is not None:
        w.register_key(key, connection.base_url(), transport=connection.settings().transport)
        w.poke(run_id)


def attach_task_id(run: Run) -> None:
    """For an ``unknown`` run without a task: "Attach the provider's task id", checked before it is saved."""
    if not recovery.can_attach(run):
        return
    with st.expander(t("Attach the provider's task id"), icon=":material/link:"):
        st.caption(
            t(
                "If the provider's dashboard shows a task for this run, paste its id: it is checked with the "
                "provider, then this run follows it."
            )
        )
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input(t("Task id"), key=f"attach-{run.id}", max_chars=300, placeholder="task-unified-…")
            st.button(t("Attach"), key=f"attach-go-{run.id}", on_click=_attach, args=(run.id,))
        problem = st.session_state.pop(f"attach-note-{run.id}", None)
        if problem:
            st.error(md(problem), icon=":material/error:")


def _attach(run_id: str) -> None:
    language.follow()  # a callback runs before app.py sets the language
    db = workspace.store()
    run = db.get_run(run_id)
    if run is None:
        return
    try:
        with submit.client_for_submit() as client:  # this session's key, also handed to the worker
            saved = recovery.attach(db, client, run, st.session_state.get(f"attach-{run_id}", ""))
    except recovery.AttachRefused as exc:
        st.session_state[f"attach-note-{run_id}"] = str(exc)
        return
    w = worker.current()
    if w is not None:
        w.poke(saved.id)
