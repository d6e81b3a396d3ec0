"""The cost estimate card: credits and dollars before anything is spent, line by line."""

from __future__ import annotations

import streamlit as st

from lib import net, pricing, uploads
from lib.budget import LIMIT_NAMES, Limit, Room
from lib.i18n import Words, t
from lib.schema import GenerationRequest
from lib.settings import load_settings

# Every word this module puts on screen.
WORDS = Words(
    {
        "title": "**Estimated cost**",
        "waiting": "Appears as soon as the settings are valid.",
        "seconds": "{usd} · {seconds:g} billable seconds",
        "line": "{label}: {credits}",
        "reference": "Reference videos: {seconds:g} s ({how}).",
        "measured": "measured",
        "entered": "as entered",
        "left": "Left under {limit}: {left} of {total} credits.",
    }
)


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _probe(urls: tuple[str, ...]) -> float | None:
    """Total length of the reference videos, or None if any cannot be measured in time."""
    total = 0.0
    data_dir = load_settings().data_dir
    for url in urls:
        uploaded = uploads.seconds_of(data_dir, url)  # measured with PyAV when it was uploaded
        if uploaded is not None:
            total += uploaded
            continue
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


def room_lines(room: Room) -> list[str]:
    """What is left under each limit that is set, the workshop budget first."""
    return [
        WORDS["left"].format(
            limit=t(LIMIT_NAMES[limit]), left=pricing.format_amount(max(left, 0.0)), total=pricing.format_amount(total)
        )
        for limit, total, left in room.limits()
        if limit in (Limit.BUDGET, Limit.CAP)
    ]


def cost_card(
    request: GenerationRequest | None, errors: dict[str, str], room: Room | None = None
) -> pricing.Estimate | None:
    """The estimate line by line, and what is left of the workspace budget and of this participant's cap."""
    with st.container(key="cost", border=True):
        st.markdown(WORDS["title"])
        if request is None:
            st.caption(WORDS["waiting"])
            est = None
        else:
            seconds, measured = input_video_seconds(request)
            est = pricing.estimate(request, input_video_seconds=seconds)
            approx = "" if est.exact else "≈ "
            st.metric(t("Credits"), approx + pricing.format_credits(est.credits), label_visibility="collapsed")
            st.caption(approx + WORDS["seconds"].format(usd=pricing.format_usd(est.usd), seconds=est.billable_seconds))
            for label, credits in est.lines:
                st.caption(WORDS["line"].format(label=label, credits=pricing.format_amount(credits)))
            if request.video_urls:
                how = WORDS["measured"] if measured else WORDS["entered"]
                st.caption(WORDS["reference"].format(seconds=seconds, how=how))
            for note in est.notes:
                st.caption(note)
        for line in room_lines(room or Room()):
            st.caption(line)
        return est
