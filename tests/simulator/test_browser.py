"""A simulator video plays in the Chromium the e2e tests use (Debian's has H.264; Playwright's own build has not)."""

from __future__ import annotations

import pytest

from tests.support.simulator import create, wait_done

PLAY = """async (url) => {
  const v = document.createElement('video');
  v.muted = true; v.src = url; document.body.appendChild(v);
  await new Promise((ok, fail) => {
    v.onloadeddata = ok;
    v.onerror = () => fail(new Error('media error ' + (v.error && v.error.code)));
    setTimeout(() => fail(new Error('timeout')), 10000);
  });
  await v.play();
  // Wait for the playhead to move (however slow the machine), not for a fixed time.
  await new Promise((ok, fail) => {
    const moved = () => { if (v.currentTime > 0) ok(); };
    v.addEventListener('timeupdate', moved); moved();
    setTimeout(() => fail(new Error('the playhead never moved')), 30000);
  });
  return {width: v.videoWidth, height: v.videoHeight, duration: v.duration, time: v.currentTime};
}"""


@pytest.mark.slow
def test_video_plays_in_chromium(sim, http, browser):
    url = wait_done(http, create(http, prompt="Browser check", quality="720p", aspect_ratio="9:16")["id"])["results"][0]
    page = browser.new_page()
    try:
        page.goto(sim.base_url + "/v1/credits")  # same origin as the video
        result = page.evaluate(PLAY, url)
    finally:
        page.close()
    assert (result["width"], result["height"], result["duration"]) == (720, 1280, 4)
    assert result["time"] > 0  # it actually played
