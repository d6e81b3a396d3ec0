"""Runs end to end in Chromium: submit, watch them play in the gallery, survive reloads,
restarts and crashes, keep Studio state across page switches, and never leak the API key."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from lib.pricing import format_amount, load_rates
from lib.store import Store
from tests.support.browser import no_exception, rerun, submitted, wait_idle
from tests.support.server import AppProcess
from tests.support.waiting import Clock, wait_until

PROMPTS = (
    "A red kite over a green hill, wide shot, morning light, slow pan right.",
    "A lighthouse at dusk, waves crash on the rocks, slow dolly in, warm light.",
)
SECRET = "sk-live-SECRET123"
RUNS = "[data-run-id]"
# The Studio's default model at 720p, 6 s, content filter off.
CARD = load_rates()
SIX_S_FILTER_OFF = format_amount(6 * CARD.rate("standard", "720p").without_video * CARD.content_filter_off_multiplier)
# Every card's video with its poster: the card is playable once the poster shows and the source answers.
_VIDEOS = """() => [...document.querySelectorAll('[data-run-id]')].map(c => {
    const v = c.querySelector('video[poster]');
    return v ? {src: v.src, poster: v.poster} : null;
})"""


# --- helpers ------------------------------------------------------------------------------


def _type_prompt(page, text: str) -> None:
    box = page.locator(".st-key-prompt textarea")
    box.fill(text)
    rerun(page, lambda: box.press("Tab"))  # a text area commits its value on blur


def _submit(page, prompt: str) -> None:
    _type_prompt(page, prompt)
    submitted(page, lambda: page.click(".st-key-submit button:visible"))
    assert prompt not in page.url


def _ws(page) -> str:
    assert "ws=" in page.url, page.url
    return page.url.split("ws=", 1)[1].split("&", 1)[0]


def _sidebar(page, label: str) -> None:
    rerun(page, page.locator("[data-testid='stSidebarNav'] a", has_text=label).click)
    page.wait_for_url(f"**/{'' if label == 'Studio' else label.lower()}?ws=*")
    wait_idle(page)


def _wait_playable(page, count: int, timeout: float = 90_000) -> None:
    """Until ``count`` run cards each show a poster whose video answers: a click would play at once."""
    try:
        page.wait_for_function(
            "(n) => { const c = document.querySelectorAll('[data-run-id]'); "
            "return c.length === n && [...c].every(x => x.querySelector('video[poster]')); }",
            arg=count,
            timeout=timeout,
        )
    except Exception as exc:
        cards = [c.inner_text()[:200].replace("\n", " ") for c in page.locator(RUNS).all()]
        raise AssertionError(f"cards not playable in time: {cards}") from exc
    for video in page.evaluate(_VIDEOS):
        for url in (video["poster"], video["src"]):
            r = httpx.head(url, timeout=30)
            assert r.status_code == 200, (url, r.status_code)


def _wait_status(db: Store, ws: str, status: str, timeout: float = 90.0) -> list:
    def done() -> list | None:
        runs = db.list_runs(ws)
        wrong = [(r.status, r.error_code, r.error_message) for r in runs if r.finished and r.status != status]
        assert not wrong, f"expected every run {status}: {wrong}"
        return runs if runs and all(r.status == status for r in runs) else None

    return wait_until(done, timeout, interval=0.25, message=f"runs not all {status}")


@pytest.fixture(scope="module")
def provider_clock():
    """The live provider's clock: its tasks move on only when a test advances it."""
    return Clock(time.time())


@pytest.fixture(scope="module")
def live_sim(provider_clock):
    """A stand-in provider outside the app, so it outlives app crashes; ~6 s per 5 s run once its clock moves."""
    from lib.simulator import serve_in_thread

    handle = serve_in_thread(port=0, speed=10, clock=provider_clock)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory, chromium_path, live_sim):
    """The app in live mode with a server-side key, talking to ``live_sim``."""
    server = AppProcess(
        tmp_path_factory.mktemp("studio-live"), env={"EVOLINK_API_KEY": SECRET, "EVOLINK_BASE_URL": live_sim.base_url}
    ).start()
    yield server
    server.stop()


# --- demo mode ------------------------------------------------------------------------------


def test_two_runs_play_in_gallery_across_reload_and_restart(app_server, page):
    page.goto(app_server.url)
    wait_idle(page)
    for prompt in PROMPTS:
        _submit(page, prompt)
    ws = _ws(page)

    rerun(page, page.locator(".st-key-submit-ok a", has_text="Watch it in the gallery").click)
    page.wait_for_url(f"**/gallery?ws={ws}")
    wait_idle(page)
    _wait_playable(page, 2)
    text = page.inner_text("body")
    assert all(p in text for p in PROMPTS)
    no_exception(page)

    page.reload()
    wait_idle(page)
    _wait_playable(page, 2)
    assert _ws(page) == ws

    app_server.stop()
    app_server.start()  # same data dir, same port
    page.goto(f"{app_server.url}/gallery?ws={ws}")
    wait_idle(page)
    _wait_playable(page, 2)
    assert all(p in page.inner_text("body") for p in PROMPTS)
    no_exception(page)


def test_demo_run_in_flight_survives_a_crash(tmp_path, page):
    """Demo mode: the simulator dies with the app process; its tasks are kept in the data dir.

    Its clock is the app's own, so the run is made slow (about 17 s) to be still in
    flight when the app is killed right after submitting it.
    """
    server = AppProcess(tmp_path / "data", env={"STUDIO_DEMO_SPEED": "3"}).start()
    try:
        page.goto(server.url)
        wait_idle(page)
        _submit(page, PROMPTS[0])
        ws = _ws(page)
        server.kill()
        assert Store(server.data_dir).list_runs(ws)[0].status in ("pending", "processing")
        page.close()  # nobody watching: the worker alone must finish it
        server.start()
        _wait_status(Store(server.data_dir), ws, "archived")
    finally:
        server.stop()


# --- live mode against an outside simulator -------------------------------------------------


def test_run_in_flight_is_archived_after_a_crash_with_no_browser(tmp_path, page, live_sim, provider_clock):
    server = AppProcess(tmp_path / "data", env={"EVOLINK_API_KEY": SECRET, "EVOLINK_BASE_URL": live_sim.base_url})
    server.start()
    try:
        page.goto(server.url)
        wait_idle(page)
        _submit(page, PROMPTS[1])
        ws = _ws(page)
        server.kill()  # no shutdown hooks, the run mid-flight
        db = Store(server.data_dir)
        [run] = db.list_runs(ws)
        assert run.status in ("pending", "processing") and run.task_id
        page.context.close()  # no browser at all from here on
        server.start()
        provider_clock.advance(60)  # the provider finishes the task only now
        [run] = _wait_status(db, ws, "archived")
        assert run.media_token and (server.data_dir / "media" / f"{run.media_token}.mp4").is_file()
    finally:
        server.stop()


def test_studio_state_survives_gallery_round_trips_with_a_live_card(live_app, page, provider_clock):
    page.goto(live_app.url)
    wait_idle(page)
    _type_prompt(page, PROMPTS[0])
    thumb = page.locator(".st-key-duration").get_by_role("slider")
    thumb.focus()
    rerun(page, lambda: thumb.press("ArrowRight"))
    rerun(page, page.locator(".st-key-content_filter label").click)
    assert SIX_S_FILTER_OFF in page.inner_text(".st-key-cost")
    page.click(".st-key-submit button:visible")
    page.wait_for_selector(".st-key-submit-ok")
    wait_idle(page)
    ws = _ws(page)

    _sidebar(page, "Gallery")
    assert _ws(page) == ws
    status = page.locator(f"{RUNS} .sp-status").first
    status.wait_for()
    first = page.locator(f"{RUNS} .sp-progress").first.get_attribute("aria-valuenow")
    provider_clock.advance(3)  # halfway through the task: the worker's next poll sees new progress
    # No timer on the page: the server pushes the new progress, and the card shows it.
    page.wait_for_function(
        "([sel, before]) => { const p = document.querySelector(sel); "
        "return p && p.getAttribute('aria-valuenow') !== before; }",
        arg=[f"{RUNS} .sp-progress", first],
        timeout=60_000,
    )
    no_exception(page)

    _sidebar(page, "Studio")
    assert _ws(page) == ws
    assert page.locator(".st-key-prompt textarea").input_value() == PROMPTS[0]
    assert page.locator(".st-key-duration").get_by_role("slider").input_value() == "6"
    assert not page.locator(".st-key-content_filter input").is_checked()
    assert SIX_S_FILTER_OFF in page.inner_text(".st-key-cost")
    no_exception(page)

    provider_clock.advance(60)  # the task finishes
    _sidebar(page, "Gallery")
    assert _ws(page) == ws
    _wait_playable(page, 1)
    no_exception(page)


def test_api_key_never_reaches_html_url_log_or_database(live_app, page, provider_clock):
    page.goto(live_app.url)
    wait_idle(page)
    _submit(page, PROMPTS[1])
    provider_clock.advance(60)  # the task finishes
    ws = _ws(page)
    assert "Demo mode" not in page.inner_text("body")
    pages = [page.content()]
    rerun(page, page.locator(".st-key-submit-ok a").click)
    _wait_status(Store(live_app.data_dir), ws, "archived")
    _wait_playable(page, len(Store(live_app.data_dir).list_runs(ws)))
    page.locator("[data-testid='stExpander'] summary", has_text="Use my own API key").click()
    wait_idle(page)
    pages.append(page.content())
    for html in pages:
        assert SECRET not in html
        assert "SECRET123" not in html
    assert SECRET not in page.url
    leaks = [p.name for p in Path(live_app.data_dir).rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []  # the database (and its WAL), archived media, hook secret and server log
    assert any(p.name.startswith("studio.db") for p in Path(live_app.data_dir).iterdir())
    assert live_app.log_path.is_file()
