"""Fixtures shared by every test directory: Debian's headless Chromium driven by Playwright.

One sync Playwright per session: a second one inside the same run would find the
first one's event loop and refuse to start.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def _require_chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    message = (
        "Browser tests need Chromium: install Debian's package (`sudo apt-get install chromium`) "
        "or set CHROMIUM_PATH, then run `make test` again."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)  # in CI the browser tests must run, never skip
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _require_chromium()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
