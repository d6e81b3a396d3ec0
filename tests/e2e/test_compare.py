"""A 2 x 2 comparison in a real Chromium, in demo mode: four labelled videos that play and pause together."""

from __future__ import annotations

import re

from tests.e2e.conftest import no_exception, wait_idle

PROMPT = "A paper boat drifts down a rainy street, low angle, tracking shot"
LABELS = ["480p · audio on", "480p · audio off", "720p · audio on", "720p · audio off"]


def _choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key}").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


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
    thumb.press("Home")
    wait_idle(page)
    assert thumb.input_value() == "4"

    page.get_by_role("link", name="Compare").click()
    wait_idle(page)
    prompt = page.locator(".st-key-cmp_prompt textarea")
    prompt.fill(PROMPT)
    prompt.press("Tab")
    wait_idle(page)
    _choose(page, "cmp_cols", "Audio")

    preview = page.locator(".st-key-cmp_preview").inner_text()
    assert preview.count("credits") == 4, preview
    total = page.inner_text(".st-key-cmp_total [data-testid='stMetricValue']")
    assert re.fullmatch(r"[\d,]+\.\d\d credits", total.strip()), total

    page.locator(".st-key-cmp_run button").click()
    wait_idle(page)
    confirm = page.locator(".st-key-cmp_confirm").inner_text()
    assert "4 videos" in confirm and total.strip() in confirm
    page.locator(".st-key-cmp_go button").click()
    wait_idle(page)
    no_exception(page)
    assert "cmp=" in page.url

    # The live grid refreshes until every cell is archived; then the synced player appears.
    page.wait_for_selector(".st-key-cmp_player iframe", timeout=120_000)
    frame = page.frame_locator(".st-key-cmp_player iframe")
    frame.locator("video").nth(3).wait_for(state="attached")
    page.wait_for_function(
        "() => { const f = document.querySelector('.st-key-cmp_player iframe');"
        " const vs = f && f.contentDocument ? [...f.contentDocument.querySelectorAll('video')] : [];"
        " return vs.length === 4 && vs.every(v => v.readyState >= 2); }",
        timeout=30_000,
    )
    videos = _videos(frame)
    assert [v["label"] for v in videos] == LABELS
    captions = frame.locator("figcaption").all_inner_texts()
    assert captions == LABELS
    assert frame.locator("th").all_inner_texts()[1:3] == ["audio on", "audio off"]

    frame.locator("#play").click()
    page.wait_for_timeout(1200)
    playing = _videos(frame)
    assert all(not v["paused"] and v["t"] > 0 for v in playing), playing

    frame.locator("#play").click()  # now a pause button
    page.wait_for_timeout(200)
    paused = _videos(frame)
    assert all(v["paused"] for v in paused), paused
    times = [v["t"] for v in paused]
    assert max(times) - min(times) <= 0.3, times
    assert max(times) > 0

    # Sound comes from one chosen cell; the others stay muted.
    frame.locator("#sound").select_option(index=2)
    muted = frame.locator("video").evaluate_all("vs => vs.map(v => v.muted)")
    assert muted == [True, True, False, True]
    no_exception(page)
