"""The workspace this browser is in (``?ws=`` in the URL), who this browser is in it, and the sidebar's workshop block.

Roles without accounts: whoever starts a workspace facilitates it (``lib.store.members``).
Only a facilitator edits the name, the budget and the cap; everyone sees them. The
invite link carries the workspace id only, never a participant or the facilitator's
secret. A link naming no workspace shows ``ws_not_found`` and creates nothing.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import identity, inline
from components.connection import settings
from lib import i18n, pricing
from lib.budget import Room
from lib.i18n import Words
from lib.store import Member, NotFacilitator, Store, Workspace, valid_id

# Every word this module puts on screen.
WORDS = Words(
    {
        "section": "Workspace",
        "name": "Workshop name",
        "name_help": "Everyone with the invite link sees the same gallery.",
        "read_only": "Only the facilitator can change this.",
        "invite": "Invite link",
        "copy": "Copy link",
        "invite_help": (
            "Send this to participants. It holds no name and no secret: each browser that opens it joins as itself."
        ),
        "you": "Your name",
        "you_help": "Shown on your runs and in the leaderboard, in this workspace only.",
        "you_role": {"facilitator": "You facilitate this workshop.", "participant": "You take part in this workshop."},
        "limits": "Workshop budget",
        "budget": "Workspace budget (credits)",
        "budget_help": "Runs, grids and batches that would go over it cannot be sent. Empty: no limit.",
        "cap": "Cap per participant (credits)",
        "cap_help": "How much each participant may commit. Empty: no cap.",
        "no_limit": "no limit",
        "no_cap": "no cap",
        "committed": "{committed} of {budget} credits committed",
        "committed_free": "Committed: {committed} credits · no budget set",
        "mine": "You: {mine} of your {cap} credit cap committed",
        "spend": "Spend per participant",
        "who": "Participant",
        "credits": "Credits",
        "runs": "Runs",
        "flink": "Facilitator link",
        "flink_help": (
            "Open this on another device to manage the workshop from there. It is shown only now "
            "and only to you: keep it private, and send participants the invite link instead."
        ),
        "flink_done": "I have kept it",
        "flink_bad": "That facilitator link is not valid for this workspace; you joined as a participant.",
        "flink_ok": "This browser now facilitates the workshop.",
        "yours": "Your workspaces",
        "start": "Start a new workspace",
        "not_found": (
            "No workspace has this link. Check the link you were sent, open one of your workspaces, or start a new one."
        ),
        "none_yet": "This browser has no workspaces yet.",
        "open": "Open {name}",
    }
)

_NOTICE = "_ws_notice"  # a message for the next run of this session (link claimed, refused)
_SECRET = "_ws_flink"  # (workspace id, secret) of the facilitator link shown once
_JOINED = "_ws_joined"  # (workspace id, participant id) this session already recorded


@st.cache_resource(show_spinner=False)
def store() -> Store:
    return Store.from_settings(settings())


def participant() -> str:
    """This browser's participant id (what caps, drafts and roles follow)."""
    return identity.participant_id()


def me(ws: Workspace) -> Member:
    """This browser in ``ws``: role and display name."""
    found = store().member(ws.id, participant())
    return found if found is not None else store().join(ws.id, participant())


def display_name(ws: Workspace) -> str:
    return me(ws).display_name


def is_facilitator(ws: Workspace) -> bool:
    return me(ws).facilitator


def room(ws: Workspace) -> Room:
    """What is left under the workspace budget and this participant's cap (``lib.budget``)."""
    return store().budget_room(ws.id, participant())


# --- which workspace ----------------------------------------------------------------------------


def current() -> Workspace:
    """The workspace named by the link, else this session's, else this browser's latest, else a new one.

    A link naming no workspace shows ``ws_not_found`` and stops the page: nothing is
    created. st.navigation drops query parameters on a page switch, so the id also
    lives in session state and is written back into the URL on every run.
    """
    db = store()
    pid = participant()
    ss = st.session_state
    wanted = st.query_params.get("ws")
    if wanted is not None:
        ws = db.get_workspace(wanted) if valid_id(wanted) else None
        if ws is None:
            not_found()
    else:
        ws = db.get_workspace(ss.get("ws") or "") if valid_id(ss.get("ws")) else None
        if ws is None:
            recent = db.recent_workspaces(pid, limit=1)
            ws = recent[0] if recent else _start(db, pid)
    assert ws is not None
    _enter(db, ws, pid)
    return ws


def _start(db: Store, pid: str) -> Workspace:
    ws, secret = db.start_workspace(pid)
    st.session_state[_SECRET] = (ws.id, secret)  # shown once, in this session only
    return ws


def _enter(db: Store, ws: Workspace, pid: str) -> None:
    ss = st.session_state
    secret = st.query_params.get("f")
    if secret is not None:
        del st.query_params["f"]  # the secret leaves the address bar at once
        if db.claim_facilitator(ws.id, pid, secret):
            ss[_NOTICE] = ("success", WORDS["flink_ok"])
        else:
            ss[_NOTICE] = ("warning", WORDS["flink_bad"])
    if ss.get(_JOINED) != (ws.id, pid):
        db.join(ws.id, pid)  # also this browser's "last opened", once per session
        ss[_JOINED] = (ws.id, pid)
    if "who" in st.query_params:
        del st.query_params["who"]  # old links named a person; a name is never taken from a link
    ss["ws"] = ws.id
    if st.query_params.get("ws") != ws.id:
        st.query_params["ws"] = ws.id


def switch_to(workspace_id: str) -> None:
    """Open another workspace in this session (a button's callback)."""
    st.session_state["ws"] = workspace_id
    st.query_params["ws"] = workspace_id


def _start_new() -> None:
    i18n.set_language(st.session_state.get("lang"))  # a callback runs before app.py sets the language
    ws = _start(store(), participant())
    switch_to(ws.id)


def not_found() -> None:
    """The link names no workspace: say so, offer this browser's workspaces and a new one, and stop."""
    recent = store().recent_workspaces(participant())
    with st.container(key="ws_not_found", border=True):
        st.error(WORDS["not_found"], icon=":material/link_off:")
        st.button(WORDS["start"], key="ws_start_new", on_click=_start_new, type="primary", icon=":material/add:")
        _workspace_buttons(recent, prefix="ws_nf_open")
    st.stop()


def _workspace_buttons(workspaces: list[Workspace], *, prefix: str, current: str | None = None) -> None:
    others = [w for w in workspaces if w.id != current]
    if not others:
        st.caption(WORDS["none_yet"])
    for w in others:
        st.button(
            WORDS["open"].format(name=w.name),
            key=f"{prefix}-{w.id}",
            on_click=switch_to,
            args=(w.id,),
            type="tertiary",
            icon=":material/folder_open:",
        )


def invite_url(ws: Workspace) -> str:
    """The participant link: the app's address and the workspace id, nothing else."""
    base = urlsplit(st.context.url or "")
    if not (base.scheme and base.netloc):
        return f"?ws={ws.id}"  # no browser address known (tests): the link relative to the app
    prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{base.scheme}://{base.netloc}/{prefix + '/' if prefix else ''}?ws={ws.id}"


def facilitator_url(ws: Workspace, secret: str) -> str:
    return f"{invite_url(ws)}&f={secret}"


# --- the sidebar ------------------------------------------------------------------------------------


def _rename() -> None:
    i18n.set_language(st.session_state.get("lang"))  # a callback runs before app.py sets the language
    ss = st.session_state
    name = (ss.get("ws_name") or "").strip()
    if not name:
        return
    try:
        store().rename_workspace(ss["ws"], name, by=participant())
    except NotFacilitator as exc:
        ss[_NOTICE] = ("warning", str(exc))


def _save_name() -> None:
    ss = st.session_state
    try:
        store().set_display_name(ss["ws"], participant(), ss.get("display_name") or "")
    except (ValueError, KeyError):
        pass  # an empty name keeps the one there was: the field shows it again


def _save_limits() -> None:
    i18n.set_language(st.session_state.get("lang"))  # a callback runs before app.py sets the language
    ss = st.session_state
    try:
        store().set_budget(ss["ws"], ss.get("ws_budget"), ss.get("ws_cap"), by=participant())
    except (NotFacilitator, ValueError) as exc:
        ss[_NOTICE] = ("warning", str(exc))


def _notice() -> None:
    kind, text = st.session_state.pop(_NOTICE, (None, None))
    if kind == "success":
        st.sidebar.success(text, icon=":material/verified_user:")
    elif kind:
        st.sidebar.warning(text, icon=":material/lock:")


def sidebar_section() -> tuple[Workspace, DeltaGenerator]:
    """The workspace block of the sidebar; returns the workspace and the slot ``budget_block`` fills.

    The budget figures go in last (``budget_block``, after the page ran), so a run
    submitted in this very run already counts.
    """
    ws = current()
    member = me(ws)
    facilitator = member.facilitator
    ss = st.session_state
    sb = st.sidebar
    sb.subheader(WORDS["section"])
    _notice()
    # Re-read from the store on every run, so every browser in the workshop shows the same values.
    ss["ws_name"] = ws.name
    sb.text_input(
        WORDS["name"],
        key="ws_name",
        on_change=_rename,
        disabled=not facilitator,
        help=WORDS["name_help"] if facilitator else WORDS["read_only"],
    )
    ss["display_name"] = member.display_name
    sb.text_input(WORDS["you"], key="display_name", on_change=_save_name, max_chars=100, help=WORDS["you_help"])
    sb.caption(WORDS["you_role"][member.role.value])
    with sb.container(key="invite_link"):
        st.caption(WORDS["invite"], help=WORDS["invite_help"])
        link_box(invite_url(ws))
    _facilitator_link(ws, facilitator)
    slot = sb.empty()
    _limits(ws, facilitator)
    with sb.expander(WORDS["yours"], icon=":material/folder:"):
        _workspace_buttons(store().recent_workspaces(participant()), prefix="ws_open", current=ws.id)
        st.button(WORDS["start"], key="ws_new", on_click=_start_new, icon=":material/add:")
    return ws, slot


# A link shown in the sidebar, to copy. Not st.code: its code block loads Streamlit's
# syntax highlighter, whose script takes the browser most of a second (more on a busy
# machine) on every page that has no other code block, before the page's own content
# is drawn. The copy button's script is static (components/scripts/copy_link.js), so the
# policy allows it by hash; the link itself is escaped text.
_COPY_SCRIPT = inline.script_tag("copy_link")
_LINK_STYLE = """<style>
.sp-link { display: flex; align-items: flex-start; gap: 0.25rem; padding: 0.5rem 0.5rem 0.5rem 0.75rem;
  border-radius: 0.5rem; background: rgba(128, 132, 149, 0.1); }
.sp-link code { flex: 1; min-width: 0; white-space: pre-wrap; overflow-wrap: anywhere; background: none;
  padding: 0; font-size: 0.8em; line-height: 1.6; color: inherit; }
.sp-copy { flex: none; display: flex; border: none; background: none; padding: 0.15rem; border-radius: 0.3rem;
  color: inherit; opacity: 0.6; cursor: pointer; }
.sp-copy:hover, .sp-copy:focus-visible { opacity: 1; background: rgba(128, 132, 149, 0.2); }
.sp-copy span { font-family: "Material Symbols Rounded"; font-size: 1.1rem; line-height: 1; }
.sp-copy .sp-done, .sp-copied .sp-icon { display: none; }
.sp-copied .sp-done { display: inline; }
</style>"""
# Icons from the Material Symbols font Streamlit already loads (the sanitizer drops inline SVG).
_COPY_ICON = (
    '<span class="sp-icon" aria-hidden="true">content_copy</span><span class="sp-done" aria-hidden="true">check</span>'
)


def link_box(url: str) -> None:
    """``url`` as selectable text with a copy button, where ``st.code`` would put it."""
    label = html.escape(WORDS["copy"])
    st.html(
        f'{_LINK_STYLE}<div class="sp-link"><code>{html.escape(url)}</code>'
        f'<button type="button" class="sp-copy" title="{label}" aria-label="{label}">{_COPY_ICON}</button></div>'
        f"{_COPY_SCRIPT}",
        unsafe_allow_javascript=True,
    )


def _facilitator_link(ws: Workspace, facilitator: bool) -> None:
    shown = st.session_state.get(_SECRET)
    if not facilitator or not shown or shown[0] != ws.id:
        return
    with st.sidebar.container(key="facilitator_link", border=True):
        st.markdown(f"**{WORDS['flink']}**")
        st.caption(WORDS["flink_help"])
        link_box(facilitator_url(ws, shown[1]))
        st.button(WORDS["flink_done"], key="facilitator_link_done", on_click=_forget_facilitator_link)


def _forget_facilitator_link() -> None:
    st.session_state.pop(_SECRET, None)


def _limits(ws: Workspace, facilitator: bool) -> None:
    """The facilitator's limits (read-only for participants) and, for the facilitator, spend per participant."""
    ss = st.session_state
    ss["ws_budget"], ss["ws_cap"] = ws.budget_credits, ws.per_participant_cap
    with st.sidebar.expander(WORDS["limits"], icon=":material/savings:"):
        for key, label, empty, help_ in (
            ("ws_budget", WORDS["budget"], WORDS["no_limit"], WORDS["budget_help"]),
            ("ws_cap", WORDS["cap"], WORDS["no_cap"], WORDS["cap_help"]),
        ):
            st.number_input(
                label,
                min_value=0.0,
                value=None,  # empty is no limit, never 0
                step=50.0,
                key=key,
                on_change=_save_limits,
                placeholder=empty,
                disabled=not facilitator,
                help=help_ if facilitator else WORDS["read_only"],
            )
        if facilitator:
            _spend_table(ws)


def _spend_table(ws: Workspace) -> None:
    spend = store().spend_by_participant(ws.id)
    if not spend:
        return
    st.caption(WORDS["spend"])
    st.dataframe(
        [{WORDS["who"]: s.display_name, WORDS["credits"]: round(s.credits, 2), WORDS["runs"]: s.runs} for s in spend],
        hide_index=True,
        width="stretch",
        key="ws_spend",
        column_config={WORDS["credits"]: st.column_config.NumberColumn(format="%.2f")},
    )


def budget_block(slot: DeltaGenerator, ws: Workspace) -> None:
    """The committed total against the budget, and this participant's against the cap: read after the page ran."""
    fresh = store().get_workspace(ws.id) or ws
    committed = store().committed_credits(ws.id)
    with slot.container(key="ws_committed"):
        if fresh.budget_credits is None:
            st.caption(WORDS["committed_free"].format(committed=pricing.format_amount(committed)))
        else:
            st.progress(
                min(committed / fresh.budget_credits, 1.0) if fresh.budget_credits else 1.0,
                text=WORDS["committed"].format(
                    committed=pricing.format_amount(committed), budget=pricing.format_amount(fresh.budget_credits)
                ),
            )
        if fresh.per_participant_cap is not None:
            mine = store().committed_credits(ws.id, participant())
            st.caption(
                WORDS["mine"].format(
                    mine=pricing.format_amount(mine), cap=pricing.format_amount(fresh.per_participant_cap)
                )
            )
