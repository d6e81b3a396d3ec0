"""A 2 x 2 comparison in a real Chromium, in demo mode: four labelled videos that play and pause together."""

from __future__ import annotations

import re

from tests.support.browser import no_exception, rerun, wait_idle

PROMPT = "A paper boat drifts down a rainy street, low angle, tracking shot"
LABELS = ["480p · audio on", "480p · audio off", "720p · audio on", "720p · audio off"]


def _choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key}").click()
    rerun(page, page.get_by_role("option", name=option, exact=True).click)


def _wait_videos(page, condition: str, timeout: float = 60_000) -> None:
    """Until ``condition`` holds for ``vs``, the synced player's <video> elements."""
    page.wait_for_function(
        "() => { const f = document.querySelector('.st-key-cmp_player iframe');"
        " const vs = f && f.contentDocument ? [...f.contentDocument.querySelectorAll('video')] : [];"
        f" return vs.length > 0 && ({condition}); }}",
        timeout=timeout,
    )


def _videos(frame):
    return frame.locator("video").evaluate_all(
        "vs => vs.map(v => ({paused: v.paused, t: v.currentTime, ready: v.readyState, "
        "label: v.getAttribute('aria-label')}))"
    )


def test_two_by_two_grid_plays_and_pauses_in_sync(app_server, page):
    # The grid starts from the Studio's settings: make them short (4 s) first.
    page.goto(app_server.url)
    wait_idle(page)
    thumb = page.locator(".st-key-duration").get_by_role("slider")
    thumb.focus()
    rerun(page, lambda: thumb.press("Home"))
    assert thumb.input_value() == "4"

    rerun(page, page.get_by_role("link", name="Compare").click)
    prompt = page.locator(".st-key-cmp_prompt textarea")
    prompt.fill(PROMPT)
    rerun(page, lambda: prompt.press("Tab"))
    _choose(page, "cmp_cols", "Audio")

    preview = page.locator(".st-key-cmp_preview").inner_text()
    assert preview.count("credits") == 4, preview
    total = page.inner_text(".st-key-cmp_total [data-testid='stMetricValue']")
    assert re.fullmatch(r"[\d,]+\.\d\d credits", total.strip()), total

    rerun(page, page.locator(".st-key-cmp_run button").click)
    confirm = page.locator(".st-key-cmp_confirm").inner_text()
    assert "4 videos" in confirm and total.strip() in confirm
    rerun(page, page.locator(".st-key-cmp_go button").click)
    no_exception(page)
    assert "cmp=" in page.url

    # The live grid refreshes until every cell is archived; then the synced player appears.
    page.wait_for_selector(".st-key-cmp_player iframe", timeout=120_000)
    frame = page.frame_locator(".st-key-cmp_player iframe")
    frame.locator("video").nth(3).wait_for(state="attached")
    _wait_videos(page, "vs.length === 4 && vs.every(v => v.readyState >= 2)")
    videos = _videos(frame)
    assert [v["label"] for v in videos] == LABELS
    captions = frame.locator("figcaption").all_inner_texts()
    assert captions == LABELS
    assert frame.locator("th").all_inner_texts()[1:3] == ["audio on", "audio off"]

    frame.locator("#play").click()
    _wait_videos(page, "vs.every(v => !v.paused && v.currentTime > 0.5)")  # all four play

    frame.locator("#play").click()  # now a pause button
    _wait_videos(page, "vs.every(v => v.paused)")
    paused = _videos(frame)
    times = [v["t"] for v in paused]
    assert max(times) - min(times) <= 0.3, times
    assert max(times) > 0

    # Sound comes from one chosen cell; the others stay muted.
    frame.locator("#sound").select_option(index=2)
    muted = frame.locator("video").evaluate_all("vs => vs.map(v => v.muted)")
    assert muted == [True, True, False, True]
    no_exception(page)
