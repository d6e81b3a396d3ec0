"""Debian's headless Chromium for the browser tests, and waiting for a Streamlit page to be idle.

Elements are found by their widget key (Streamlit renders ``key`` as the CSS class
``st-key-<key>``), never by waiting a fixed time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
MISSING = (
    "Browser tests need Chromium: install Debian's package (`sudo apt-get install chromium`) "
    "or set CHROMIUM_PATH, then run `make test` again."
)
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CSP_WORDS = "Content Security Policy"  # in every console message Chromium writes about a violation
TIMEOUT_MS = 60_000  # one page action on a busy machine


def find_chromium() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


# Set before an action: counts the script runs that start after it. The whole document is
# watched, since Streamlit may replace its app element when the page changes. A run is
# counted by the state it left ("notRunning"), not by the state the element is in when
# the observer's callback gets to it: on a busy machine a short run is over by then.
_WATCH_RUNS = """() => {
  if (window.__studioRunsObserver) window.__studioRunsObserver.disconnect();
  window.__studioRuns = 0;
  window.__studioRunsObserver = new MutationObserver((changes) => {
    for (const change of changes) {
      const now = change.target.getAttribute('data-test-script-state');
      if (change.oldValue === 'notRunning' || now === 'running' || now === 'rerunRequested') window.__studioRuns += 1;
    }
  });
  window.__studioRunsObserver.observe(document.documentElement, {
    attributes: true, attributeOldValue: true, subtree: true, attributeFilter: ['data-test-script-state'],
  });
}"""


def wait_idle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector(IDLE, timeout=timeout)


def rerun(page, action, timeout: float = TIMEOUT_MS) -> None:
    """Do ``action`` (a click, a key press) and wait for the script run it causes to finish.

    Waiting for "idle" alone could see the state from before the action; this waits
    for a run to start after it, then for the page to be idle.
    """
    page.evaluate(_WATCH_RUNS)
    action()
    page.wait_for_function("() => window.__studioRuns > 0", timeout=timeout)
    wait_idle(page, timeout)


def no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
