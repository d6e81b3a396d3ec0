"""The Content-Security-Policy in a real Chromium: enforced, strict, and still letting the app work.

Every browser test fails on a console message about a violation (the ``page`` fixture),
so Studio (its Ctrl+Enter script), the Gallery's videos and Compare's synced player are
checked wherever those tests drive them; this module checks the policy itself.
"""

from __future__ import annotations

from tests.support.browser import CSP_WORDS, TIMEOUT_MS, no_exception, wait_idle

_INJECT = (
    "() => { const s = document.createElement('script');"
    " s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"
)


def _bare_page(browser):
    """A page without the ``page`` fixture's violation check: these tests provoke violations."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def test_an_inline_script_the_app_did_not_ship_is_blocked(app_server, browser):
    context, page = _bare_page(browser)
    try:
        page.goto(app_server.url)
        wait_idle(page)
        with page.expect_console_message(lambda m: CSP_WORDS in m.text) as message:
            page.evaluate(_INJECT)
        assert "script-src" in message.value.text
        assert page.evaluate("() => window.__injected === undefined")
        no_exception(page)
    finally:
        context.close()


def test_another_site_cannot_frame_the_app(app_server, browser):
    context, page = _bare_page(browser)
    try:
        with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as message:
            page.set_content(f'<iframe id="app" src="{app_server.url}/" width="800" height="600"></iframe>')
        assert app_server.url in message.value.text
        assert page.frame_locator("#app").locator("[data-testid='stApp']").count() == 0
    finally:
        context.close()


def test_the_studio_works_under_the_policy(app_server, page):
    """The favicon, fonts, icons and the WebSocket all come from the app itself."""
    page.goto(app_server.url)
    wait_idle(page)
    page.wait_for_selector(".st-key-prompt textarea")
    no_exception(page)
