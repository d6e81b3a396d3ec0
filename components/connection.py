"""Which API this browser session talks to, with which key, and the balance it has."""

from __future__ import annotations

import time

import streamlit as st

from lib import client as api
from lib import demo, messages, pricing, worker
from lib.i18n import t
from lib.settings import Settings, demo_base_url, load_settings

_BALANCE_TTL = 30.0  # seconds; the balance is informational, not worth a request per rerun


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


def base_url() -> str:
    s = settings()
    return s.base_url or demo_base_url(int(st.get_option("server.port")))


def api_key() -> str:
    """A participant's own key (this session's memory only), else the server's; this process's demo key in demo mode."""
    if settings().demo:
        return demo.key()
    return st.session_state.get("personal_key") or settings().api_key or demo.key()


def is_demo() -> bool:
    return settings().demo


def make_client(**options) -> api.EvolinkClient:
    """A client for this session's key and API; it sends through ``settings().transport`` when one is set.

    In demo mode it names this session's workspace, so the simulator shares renders fairly.
    """
    ws = st.session_state.get("ws")
    if settings().demo and isinstance(ws, str):
        options.setdefault("headers", {demo.WORKSPACE_HEADER: ws})
    return api.EvolinkClient(api_key(), base_url=base_url(), transport=settings().transport, **options)


def demo_banner() -> None:
    if settings().demo:
        st.info(t("**Demo mode** — synthetic videos, no credits spent."), icon=":material/science:")


def _balance() -> tuple[float | None, str | None]:
    fp = api.key_fingerprint(api_key())
    cached = st.session_state.get("_balance")
    if cached and cached[0] == fp and time.monotonic() - cached[1] < _BALANCE_TTL:
        return cached[2], cached[3]
    try:
        # Informational: one quick try, so an outage cannot hold up every page's sidebar.
        with make_client(max_retries=0, timeout=5.0) as c:
            bal = c.credits()
        value, error = (None if bal.unlimited else bal.remaining), None
    except api.ApiError as exc:
        value, error = None, messages.show(exc.hint)  # the client's sentences, in the reader's language
    st.session_state["_balance"] = (fp, time.monotonic(), value, error)
    return value, error


def _personal_key() -> None:
    with st.sidebar.expander(t("Use my own API key")):
        key = st.text_input(
            t("Evolink API key"),
            type="password",
            key="personal_key_input",
            help=t("Kept in this browser session's memory only: never saved, logged or shown."),
        ).strip()
    if key != st.session_state.get("personal_key", ""):
        st.session_state["personal_key"] = key
        st.session_state.pop("_balance", None)
        w = worker.current()
        if key and w is not None:
            # Runs submitted with this key before a restart resume as soon as it is back in memory.
            w.register_key(key, base_url(), transport=settings().transport)


def sidebar_section() -> None:
    """Connection status, an optional personal key, and the account balance."""
    st.sidebar.subheader(t("Connection"))
    if is_demo():
        st.sidebar.caption(
            t(
                "Offline simulator — nothing is billed. "
                "The facilitator connects a real account when the workshop goes live."
            )
        )
    else:
        st.sidebar.caption(
            t("Live: Evolink API (your own key)") if st.session_state.get("personal_key") else t("Live: Evolink API")
        )
        _personal_key()
    value, error = _balance()
    if error:
        st.sidebar.warning(error)
    else:
        shown = t("unlimited") if value is None else pricing.format_credits(value)
        st.sidebar.markdown(t("**Balance** · {amount}", amount=shown))
