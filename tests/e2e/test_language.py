"""The screen language in a real browser: it follows the browser's own language, a choice changes the page,
and the choice survives a reload."""

from __future__ import annotations

from tests.support.browser import TIMEOUT_MS, no_exception, rerun, wait_idle

NAV = "[data-testid='stSidebarNav']"


def _nav(page) -> str:
    return page.locator(NAV).inner_text()


def test_choosing_chinese_changes_the_page_and_a_reload_keeps_it(app_server, page):
    page.goto(app_server.url)
    wait_idle(page)
    page.wait_for_selector(".st-key-prompt")
    assert "Studio" in _nav(page) and "Gallery" in _nav(page)

    rerun(page, lambda: page.locator(".st-key-lang").get_by_text("中文", exact=True).click())
    page.wait_for_function(f"() => document.querySelector(\"{NAV}\").innerText.includes('作品库')", timeout=TIMEOUT_MS)
    assert "Gallery" not in _nav(page)

    page.reload()
    wait_idle(page)
    page.wait_for_selector(".st-key-prompt")
    assert "作品库" in _nav(page) and "Gallery" not in _nav(page)
    assert "生成视频" in page.inner_text("body") and "Generate video" not in page.inner_text("body")
    no_exception(page)

    # The gallery's cards are drawn by the page's own script, with words the server gave it.
    page.locator(NAV).get_by_text("作品库").click()
    page.wait_for_function("() => document.body.innerText.includes('还没有任务')", timeout=TIMEOUT_MS)
    no_exception(page)

    rerun(page, lambda: page.locator(".st-key-lang").get_by_text("English", exact=True).click())
    page.wait_for_function(f"() => document.querySelector(\"{NAV}\").innerText.includes('Gallery')", timeout=TIMEOUT_MS)


def test_a_chinese_browser_opens_in_chinese_without_choosing(app_server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app_server.url)
        wait_idle(page)
        page.wait_for_selector(".st-key-prompt")
        assert "作品库" in _nav(page)
        no_exception(page)
    finally:
        context.close()
