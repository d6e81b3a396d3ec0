"""The cost estimate card: credits and dollars before anything is spent, line by line."""

from __future__ import annotations

import streamlit as st

from lib import net, pricing
from lib.schema import GenerationRequest


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _probe(urls: tuple[str, ...]) -> float | None:
    """Total length of the reference videos, or None if any cannot be measured in time."""
    total = 0.0
    for url in urls:
        try:
            net.check_url(url)
        except net.BlockedAddress:
            return None  # the server does not open addresses on its own network for a participant
        seconds = pricing.probe_video_seconds(url, timeout=4.0)
        if seconds is None:
            return None
        total += seconds
    return total


def input_video_seconds(request: GenerationRequest | None) -> tuple[float, bool]:
    """(seconds, measured): measured from the links when reachable, else what the user typed."""
    if request is None or not request.video_urls:
        return 0.0, False
    measured = _probe(request.video_urls)
    if measured is not None:
        return measured, True
    return float(st.session_state.get("input_video_seconds") or 0.0), False


def cost_card(request: GenerationRequest | None, errors: dict[str, str]) -> pricing.Estimate | None:
    with st.container(key="cost", border=True):
        if request is None:
            st.markdown("**Estimated cost**")
            st.caption("Appears as soon as the settings are valid.")
            return None
        seconds, measured = input_video_seconds(request)
        est = pricing.estimate(request, input_video_seconds=seconds)
        approx = "" if est.exact else "≈ "
        st.markdown("**Estimated cost**")
        st.metric("Credits", f"{approx}{pricing.format_amount(est.credits)} credits", label_visibility="collapsed")
        st.caption(f"{approx}{pricing.format_usd(est.usd)} · {est.billable_seconds:g} billable seconds")
        for label, credits in est.lines:
            st.caption(f"{label}: {pricing.format_amount(credits)}")
        if request.video_urls:
            st.caption(f"Reference videos: {seconds:g} s ({'measured' if measured else 'as entered'}).")
        for note in est.notes:
            st.caption(note)
        return est
