"""Debian's headless Chromium for the browser tests, and waiting for a Streamlit page to be idle.

Elements are found by their widget key (Streamlit renders ``key`` as the CSS class
``st-key-<key>``), never by waiting a fixed time.
"""

from __future__ import annotations

import os
import shutil
import time
import weakref
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


# Script runs the server finished for each page, counted from its websocket. The page's
# own "running" state is not enough: when a run is short and the browser is busy, the
# page may draw "running" and "not running" in one go, so the attribute never changes.
_FINISHED: weakref.WeakKeyDictionary[object, list[int]] = weakref.WeakKeyDictionary()


def _script_finished(payload: object) -> bool:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if not isinstance(payload, bytes):
        return False
    try:
        return ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished"
    except Exception:  # not a message of ours to read
        return False


def watch_runs(page) -> None:
    """Count the script runs the server finishes for ``page``; call before it connects (a context's "page" event)."""
    if page in _FINISHED:
        return
    count = _FINISHED[page] = [0]

    def on_socket(socket) -> None:
        def on_frame(payload: object) -> None:
            if _script_finished(payload):
                count[0] += 1

        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)


def script_runs(page) -> int:
    """How many script runs (the app's or a fragment's) the server has finished for ``page`` (``watch_runs``)."""
    counted = _FINISHED.get(page)
    assert counted is not None, "the page's script runs are not counted: make it in the browser fixture's contexts"
    return counted[0]


def watch_contexts(browser) -> None:
    """Every page of every context ``browser`` makes from now on counts its script runs (``watch_runs``)."""
    make = browser.new_context

    def new_context(*args, **kwargs):
        context = make(*args, **kwargs)
        context.on("page", watch_runs)
        return context

    browser.new_context = new_context


def rerun(page, action, timeout: float = TIMEOUT_MS) -> None:
    """Do ``action`` (a click, a key press) and wait for the script run it causes to finish.

    Waiting for "idle" alone could see the state from before the action; this waits
    for a run after it — one the server reports finished on the page's websocket, or
    one the page shows running — then for the page to be idle.
    """
    page.evaluate(_WATCH_RUNS)
    counted = _FINISHED.get(page)
    before = counted[0] if counted is not None else 0
    action()
    deadline = time.monotonic() + timeout / 1000
    while not (counted is not None and counted[0] > before) and not page.evaluate("() => window.__studioRuns > 0"):
        if time.monotonic() > deadline:
            raise AssertionError(f"no script run followed the action within {timeout / 1000:.0f} s")
        page.wait_for_timeout(50)  # lets Playwright deliver the page's events while we wait
    wait_idle(page, timeout)


_SUBMITTED = """() => {
  const box = document.querySelector("[class*='st-key-submitted-']");
  const found = box && /st-key-submitted-(\\S+)/.exec(box.className);
  return found ? found[1] : null;
}"""


def submitted(page, action) -> str:
    """Do ``action`` (a click on Generate) and wait for *its* success message; returns the new run's id.

    The message of an earlier submission may still be on the page: this waits for one
    naming another run, then for the page to be idle.
    """
    before = page.evaluate(_SUBMITTED)
    action()
    handle = page.wait_for_function(
        f"(before) => {{ const id = ({_SUBMITTED})(); return id && id !== before && id; }}", arg=before
    )
    wait_idle(page)
    return handle.json_value()


def no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
