"""The Submit button: budget check, one POST per click (even a double click), a clear outcome."""

from __future__ import annotations

import time

import streamlit as st

from components import connection, inline, language, workspace
from components.plain import md
from lib import budget, compare, hooks, messages, pricing, submit, worker, workshop
from lib import client as api
from lib.budget import BudgetExceeded, Room
from lib.i18n import Words, t
from lib.schema import GenerationRequest
from lib.status import RunStatus
from lib.store import Run, new_id

_LAST = "_last_submit"  # this session's last submission (``lib.submit.form_key``)

# Every word this module puts on screen.
WORDS = Words(
    {
        "generate": "Generate video",
        "generate_help": "Ctrl+Enter (⌘+Enter on a Mac)",
        "submitting": "Submitting…",
        "submitted": "Submitted: your video is being made.",
        "submitted_eta": "Submitted: your video is being made, about {seconds} s.",
        "figures": "Our estimate {estimate} credits · the provider reserved {reserved}",
        "reserved_unknown": "nothing yet",
        "watch": "Watch it in the gallery",
        "no_answer": "no answer from the provider",
        "retry": "Retry",
        "left": "{label}: {left} credits.",
        "budget_left": "Budget left",
        "cancel": "Cancel",
        "confirm": "Confirm · {credits}",
    }
)


def _last() -> dict:
    return st.session_state.setdefault(_LAST, {})


def client_for_submit() -> api.EvolinkClient:
    """A client for this session's key, registered with the worker so it can poll what we send."""
    key = connection.api_key()
    w = worker.current()
    if w is not None and not w.has_key(api.key_fingerprint(key)):
        w.register_key(key, connection.base_url(), transport=connection.settings().transport)  # memory only
    return connection.make_client()


def fingerprint() -> str:
    """What runs store instead of the key, so the worker can match them to the key it holds."""
    return api.key_fingerprint(connection.api_key())


def callback_url() -> str | None:
    s = connection.settings()
    return hooks.callback_url(s.public_url, s.data_dir)


def save_group(items: list[workshop.Item], group_id: str, *, what: str) -> list[Run] | None:
    """Save a whole grid or batch as ``submitting``: all or nothing, the budget checked on the total.

    Over budget, it says so with the numbers and returns None; nothing is saved (or sent) then.
    """
    try:
        return workshop.prepare_group(
            workspace.store(),
            workspace.current().id,
            items,
            group_id=group_id,
            fingerprint=fingerprint(),
            participant=workspace.display_name(workspace.current()),
            participant_id=workspace.participant(),
            what=what,
        )
    except BudgetExceeded as exc:
        st.error(str(exc), icon=":material/savings:")
        return None


def send_group(runs: list[Run]) -> list[Run]:
    """One POST per saved run of a group, with the same client and callback as a single submit."""
    with client_for_submit() as c:
        return workshop.send_group(workspace.store(), c, runs, callback_url=callback_url())


def confirm_group(
    prefix: str,
    *,
    ask: str,
    question: str,
    total: pricing.Estimate,
    count: int,
    icon: str,
    budget_label: str | None = None,
    blocked: bool = False,
) -> str | None:
    """Ask once, then one confirmation that states the total; returns the group id on Confirm.

    The group id is made when the user first asks, so a rerun or a double click on
    Confirm reuses it and cannot save (or pay for) the group twice. A total that would
    not fit the budget or the cap (``lib.budget.shortfall``) cannot be asked for, and
    the page says which limit and by how much; so can the caller (``blocked``).
    """
    ws = workspace.current()
    room = workspace.room(ws)
    if room.left is not None:
        label = budget_label or WORDS["budget_left"]
        st.caption(WORDS["left"].format(label=label, left=pricing.format_amount(max(room.left, 0))))
    short = budget.shortfall(room, total.credits) if count else None
    if short is not None:
        with st.container(key=f"{prefix}_blocked"):
            st.warning(str(short), icon=":material/savings:")
    pending = f"{prefix}_pending"
    if st.button(
        ask, key=f"{prefix}_run", type="primary", disabled=not count or blocked or short is not None, icon=icon
    ):
        st.session_state[pending] = new_id()
    group_id = st.session_state.get(pending)
    if not group_id or not count:
        return None
    with st.container(border=True, key=f"{prefix}_confirm"):
        st.markdown(question)
        go, cancel = st.columns(2)
        if cancel.button(WORDS["cancel"], key=f"{prefix}_cancel", width="stretch"):
            st.session_state.pop(pending, None)
            st.rerun()
        if go.button(
            WORDS["confirm"].format(credits=pricing.format_credits(total.credits)),
            key=f"{prefix}_go",
            type="primary",
            width="stretch",
            disabled=short is not None,
        ):
            return group_id
    return None


def forget_confirmation(prefix: str) -> None:
    st.session_state.pop(f"{prefix}_pending", None)


def submit_request(
    request: GenerationRequest,
    estimate: pricing.Estimate | None,
    *,
    parent_id: str | None = None,
    key: str | None = None,
) -> Run | None:
    """Persist and send one run; errors are shown in place and nothing is lost."""
    ws = workspace.current()
    db = workspace.store()
    submit_key = key or submit.form_key(request, _last(), now=time.monotonic())
    try:
        run = submit.prepare(
            db,
            ws.id,
            request,
            fingerprint=fingerprint(),
            submit_key=submit_key,
            estimate=estimate,
            participant=workspace.display_name(ws),
            participant_id=workspace.participant(),
            parent_id=parent_id,
        )
    except BudgetExceeded as exc:
        submit.answered(_last(), submit_key, now=time.monotonic())
        st.session_state["_submit_outcome"] = ("budget", str(exc))
        return None
    try:
        with client_for_submit() as c:
            run = submit.send(db, c, run, callback_url=callback_url())
    finally:
        submit.answered(_last(), submit_key, now=time.monotonic())
    st.session_state["_submit_outcome"] = ("run", run.id)
    return run


def submit_button(request: GenerationRequest | None, estimate: pricing.Estimate | None, room: Room) -> None:
    """Generate: disabled, saying which limit and by how much, when the run would not fit (``lib.budget``)."""
    label = WORDS["generate"]
    if estimate is not None:
        label += f" · {'≈ ' if not estimate.exact else ''}{pricing.format_amount(estimate.credits)} credits"
    short = budget.shortfall(room, estimate.credits) if estimate is not None else None
    if st.button(
        label,
        key="submit",
        type="primary",
        shortcut="Ctrl+Enter",
        disabled=request is None or short is not None,
        width="stretch",
        icon=":material/movie:",
        help=WORDS["generate_help"],
    ):
        with st.spinner(WORDS["submitting"]):
            run = submit_request(request, estimate, parent_id=st.session_state.get("remix_of"))
        if run is not None and run.task_id:
            st.session_state.pop("remix_of", None)  # the remix is made; later runs are new ones
        st.rerun()  # every figure on the page (what is left, the sidebar's total) counts the run at once
    if short is not None:
        with st.container(key="submit_blocked"):
            st.warning(str(short), icon=":material/savings:")
    _submit_from_editor()
    outcome()


# The button's own shortcut does not fire while the prompt box has focus: there,
# Ctrl/Cmd+Enter only applies the text. Once Streamlit has rerun with that text,
# press the (now up to date) button. Static code of ours, no user data in it.
_EDITOR_SHORTCUT = inline.script_tag("editor_shortcut")


def _submit_from_editor() -> None:
    st.html(_EDITOR_SHORTCUT, unsafe_allow_javascript=True)


def _retry(run_id: str) -> None:
    """A new run with the failed one's request and estimate; its own key, so a double click is one retry."""
    language.follow()  # a callback runs before app.py sets the language
    run = workspace.store().get_run(run_id)
    if run is not None:
        estimate = pricing.Estimate(
            credits=run.estimate_credits,
            exact=run.estimate_exact,
            lines=[],
            usd=run.estimate_credits * pricing.load_rates().usd_per_credit,
        )
        submit_request(run.request, estimate, parent_id=run.parent_id, key=submit.retry_key(run.id))


def outcome() -> None:
    """What happened to the last submission of this session, with a Retry the user must click."""
    kind, value = st.session_state.get("_submit_outcome", (None, None))
    if kind == "budget":
        st.error(value, icon=":material/savings:")
        return
    if kind != "run":
        return
    run = workspace.store().get_run(value)
    if run is None:
        return
    if run.task_id and run.status not in (RunStatus.SUBMIT_FAILED, RunStatus.UNKNOWN):
        reserved = (
            WORDS["reserved_unknown"] if run.credits_reserved is None else pricing.format_credits(run.credits_reserved)
        )
        eta = f"{run.estimated_time:.0f}" if run.estimated_time else None
        with st.container(key="submit-ok"), st.container(key=f"submitted-{run.id}"):  # which run: for a link or a test
            st.success(
                WORDS["submitted_eta"].format(seconds=eta) if eta else WORDS["submitted"],
                icon=":material/check_circle:",
            )
            st.caption(WORDS["figures"].format(estimate=pricing.format_amount(run.estimate_credits), reserved=reserved))
            remark = budget.reserved_remark(run.estimate_credits, run.credits_reserved)
            if remark:
                st.caption(remark)
            st.page_link(
                "pages/gallery.py",
                label=WORDS["watch"],
                icon=":material/video_library:",
                query_params={"ws": run.workspace_id},
            )
    else:
        with st.container(key="submit-failed"):
            st.error(
                f"{run.label.capitalize()}: {md(messages.show(run.error_message) or WORDS['no_answer'])}",
                icon=":material/error:",
            )
            if run.status is RunStatus.SUBMIT_FAILED:
                st.button(WORDS["retry"], key="retry", on_click=_retry, args=(run.id,), icon=":material/refresh:")


# --- takes: the same request several times, confirmed once, one group ------------------------------

_TAKES = "takes"  # the widget's key, and the prefix of its confirmation (takes_run, takes_go, takes_cancel)


def takes_picker() -> int:
    """How many takes of this request one click makes (1 to ``compare.MAX_TAKES``)."""
    st.session_state.setdefault(_TAKES, 1)
    return int(
        st.number_input(
            t("Takes"),
            min_value=1,
            max_value=compare.MAX_TAKES,
            step=1,
            key=_TAKES,
            help=t(
                "Generate the same request several times at once to see how much the model varies. "
                "Each take is a paid run; they are confirmed once and shown side by side."
            ),
        )
    )


def takes_total(estimate: pricing.Estimate, count: int) -> pricing.Estimate:
    """``count`` takes priced as ``count`` runs, a line per take."""
    return pricing.batch_total([estimate] * count, [compare.value_label(compare.TAKE, n) for n in range(1, count + 1)])


def takes_button(request: GenerationRequest | None, estimate: pricing.Estimate | None, count: int) -> None:
    """Generate ``count`` takes: one confirmation stating the total, then all saved and sent, or none."""
    total = takes_total(estimate, count) if estimate is not None else None
    group_id = confirm_group(
        _TAKES,
        ask=t("Generate {n} takes…", n=count),
        icon=":material/video_library:",
        count=count if request is not None and total is not None else 0,
        total=total or pricing.batch_total([]),
        budget_label=t("Budget left for these takes"),
        question=t(
            "Run **{n} takes** of this request for a total of **{credits}** (≈ {usd})?",
            n=count,
            credits=pricing.format_credits(total.credits) if total else "",
            usd=pricing.format_usd(total.usd) if total else "",
        ),
    )
    if group_id is not None and request is not None and estimate is not None:
        _send_takes(request, estimate, count, group_id)
    takes_outcome()


def _send_takes(request: GenerationRequest, estimate: pricing.Estimate, count: int, group_id: str) -> None:
    ws = workspace.current()
    parent_id = st.session_state.get("remix_of")
    base = compare.request_fields(request)
    cells = compare.takes(base, count)
    items = [workshop.Item(request, estimate, cell.label, parent_id=parent_id) for cell in cells]
    runs = save_group(items, group_id, what="These takes")  # lib.budget words it in the reader's language
    if runs is None:
        return
    run_ids = {(c.row, c.col): run.id for c, run in zip(cells, runs, strict=True)}
    axis = compare.Axis.takes(count)
    # Saved before the POSTs, so the takes reopen side by side (Compare) whatever happens while sending.
    workspace.store().create_comparison(
        ws.id, compare.title(axis, None), compare.make_spec(base, axis, None, cells, run_ids), comparison_id=group_id
    )
    with st.spinner(t("Sending {n} takes…", n=len(runs))):
        send_group(runs)
    forget_confirmation(_TAKES)
    st.session_state.pop("remix_of", None)
    st.session_state["_takes_outcome"] = group_id
    st.rerun()


def takes_outcome() -> None:
    """The last set of takes of this session: how many were sent, and a link to see them side by side."""
    group_id = st.session_state.get("_takes_outcome")
    if not group_id:
        return
    db = workspace.store()
    comparison = db.get_comparison(group_id)
    if comparison is None:
        return
    runs = db.list_runs(comparison.workspace_id, group_id=group_id, limit=None)
    sent = sum(1 for r in runs if r.task_id)
    with st.container(key="takes-ok"):
        if sent == len(runs):
            st.success(t("{n} takes submitted: your videos are being made.", n=sent), icon=":material/check_circle:")
        else:
            st.warning(
                t("{sent} of {n} takes were submitted; the others failed to send.", sent=sent, n=len(runs)),
                icon=":material/error:",
            )
        st.page_link(
            "pages/compare.py",
            label=t("See the takes side by side"),
            icon=":material/grid_view:",
            query_params={"ws": comparison.workspace_id, "cmp": comparison.id},
        )
