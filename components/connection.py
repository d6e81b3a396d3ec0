"""Which API this browser session talks to, with which key, and the balance it has."""

from __future__ import annotations

import time

import streamlit as st

from lib import client as api
from lib import pricing
from lib.settings import DEMO_API_KEY, Settings, demo_base_url, load_settings

_BALANCE_TTL = 30.0  # seconds; the balance is informational, not worth a request per rerun


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


def base_url() -> str:
    s = settings()
    return s.base_url or demo_base_url(int(st.get_option("server.port")))


def api_key() -> str:
    """A participant's own key (this session's memory only), else the server's, else the demo key."""
    return st.session_state.get("personal_key") or settings().api_key or DEMO_API_KEY


def is_demo() -> bool:
    return settings().demo and not st.session_state.get("personal_key")


def make_client() -> api.EvolinkClient:
    return api.EvolinkClient(api_key(), base_url=base_url())


def demo_banner() -> None:
    if settings().demo:
        st.info("**Demo mode** — synthetic videos, no credits spent.", icon=":material/science:")


def _balance() -> tuple[float | None, str | None]:
    fp = api.key_fingerprint(api_key())
    cached = st.session_state.get("_balance")
    if cached and cached[0] == fp and time.monotonic() - cached[1] < _BALANCE_TTL:
        return cached[2], cached[3]
    try:
        with make_client() as c:
            bal = c.credits()
        value, error = (None if bal.unlimited else bal.remaining), None
    except api.ApiError as exc:
        value, error = None, exc.hint
    st.session_state["_balance"] = (fp, time.monotonic(), value, error)
    return value, error


def sidebar_section() -> None:
    """Connection status, an optional personal key, and the account balance."""
    st.sidebar.subheader("Connection")
    if is_demo():
        st.sidebar.caption("Offline simulator — nothing is billed.")
    else:
        st.sidebar.caption("Live: Evolink API" + (" (your own key)" if st.session_state.get("personal_key") else ""))
    with st.sidebar.expander("Use my own API key"):
        key = st.text_input(
            "Evolink API key",
            type="password",
            key="personal_key_input",
            help="Kept in this browser session's memory only: never saved, logged or shown.",
        )
        if key.strip() != st.session_state.get("personal_key", ""):
            st.session_state["personal_key"] = key.strip()
            st.session_state.pop("_balance", None)
    value, error = _balance()
    if error:
        st.sidebar.warning(error)
    else:
        shown = "unlimited" if value is None else f"{pricing.format_amount(value)} credits"
        st.sidebar.markdown(f"**Balance** · {shown}")
