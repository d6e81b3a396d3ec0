"""The Studio in a real Chromium: hints and their fix, the estimate following the duration, Generate on a phone."""

import re

from lib.pricing import format_amount, load_rates
from tests.support.browser import no_exception, rerun, wait_idle

PER_S = load_rates().rate("standard", "720p").without_video  # the Studio's default model and quality

CURLY = "Close-up of a sailor at dawn. He says “We sail at noon.” Soft light, slow dolly in."
STRAIGHT = 'Close-up of a sailor at dawn. He says "We sail at noon." Soft light, slow dolly in.'


def _credits(page) -> str:
    text = page.inner_text(".st-key-cost [data-testid='stMetricValue']")
    match = re.search(r"[\d,]+\.\d\d", text)
    assert match, text
    return match.group(0)


def test_curly_quotes_fix_and_estimate_follows_duration(app_server, page):
    page.goto(app_server.url)
    wait_idle(page)
    prompt = page.locator(".st-key-prompt textarea")
    prompt.fill(CURLY)
    rerun(page, lambda: prompt.press("Tab"))  # a text area commits its value on blur

    hints = page.locator(".st-key-hints")
    assert "Curly quotes are not spoken" in hints.inner_text()  # a title in plain words, not the code
    assert hints.locator("[class*='st-key-hint-curly-quotes-']").count() == 1
    assert _credits(page) == format_amount(5 * PER_S)

    rerun(page, hints.locator(".st-key-fix_all button:visible").click)
    assert prompt.input_value() == STRAIGHT
    assert hints.locator("[class*='st-key-hint-curly-quotes-']").count() == 0

    # The thumb is an <input type=range> (implicit role "slider"): keyboard is exact.
    thumb = page.locator(".st-key-duration").get_by_role("slider")
    thumb.focus()
    rerun(page, lambda: thumb.press("ArrowRight"))
    assert thumb.input_value() == "6"
    assert _credits(page) == format_amount(6 * PER_S)
    assert prompt.input_value() == STRAIGHT  # the rerun kept the fixed prompt
    assert "?ws=" in page.url
    no_exception(page)


def test_ctrl_enter_in_the_editor_submits_exactly_one_run_with_the_typed_prompt(app_server, page):
    from lib.store import Store

    page.goto(app_server.url)
    wait_idle(page)
    ws = page.url.split("ws=")[1].split("&")[0]
    typed = "A red fox runs through fresh snow, wide shot, golden light"
    page.click(".st-key-prompt textarea")
    page.keyboard.type(typed)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".st-key-submit-ok")
    wait_idle(page)
    runs = Store(app_server.data_dir).list_runs(ws)
    assert [r.request.prompt for r in runs] == [typed]
    no_exception(page)


def test_on_a_phone_generate_is_within_one_screen_of_the_prompt(app_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(app_server.url)
        wait_idle(page)
        prompt = page.locator(".st-key-prompt textarea")
        prompt.wait_for()
        button = page.locator(".st-key-submit button:visible")
        button.wait_for()
        top, bottom = prompt.bounding_box(), button.bounding_box()
        assert bottom["y"] + bottom["height"] - top["y"] <= 844, (top, bottom)
        assert bottom["x"] >= 0 and bottom["x"] + bottom["width"] <= 390  # on screen, not beside it
        no_exception(page)
    finally:
        context.close()
