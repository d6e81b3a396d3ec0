"""The app under Streamlit's AppTest (no browser, no server): demo mode, its own data dir, a fake provider.

``DemoApp`` is what the ``demo_app`` fixture hands a test. Every API client the app
makes gets the fake provider's transport through ``lib.settings.override``, so a page
test sees exactly the requests the page sends, with nothing patched.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from lib.settings import override
from lib.store import Store, dispose_engines
from tests.support.database import migrated
from tests.support.provider import FakeProvider

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds for one script run: generous, a busy machine is slow, not wrong


def like_one_server() -> None:
    """Let the AppTests of this session share what one Streamlit server does once for all its sessions.

    A server scans the installed packages for components when it starts and compiles
    each script of the app once, the entry script and every page. Each AppTest did both
    again, and compiled the entry script again on every run (the scan read the metadata
    of every installed distribution, most of a page test's time). Nothing is installed
    and no script of the app changes while the tests run, so the first answers hold.
    AppTest scripts made from a string are named by a hash of their text.

    And as a server learns of a finished script run from the run's own event, AppTest
    is told by that event too (``_wait_for_the_run``), instead of looking every millisecond.
    """
    from streamlit.components.v2 import manifest_scanner
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    global _SCRIPTS
    if _SCRIPTS is None:
        _SCRIPTS = ScriptCache()
        manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)
        app_test.ScriptCache = lambda: _SCRIPTS  # type: ignore[misc,assignment]
        local_script_runner.ScriptCache = lambda: _SCRIPTS  # type: ignore[misc,assignment]
        local_script_runner.require_widgets_deltas = _wait_for_the_run


_SCRIPTS = None


def _wait_for_the_run(runner: Any, timeout: float = 3) -> None:
    """AppTest's wait for a script run to end (``require_widgets_deltas``), on the run's SHUTDOWN event.

    AppTest's own loop sleeps a millisecond and looks again, waking up a thousand times a
    second to take the interpreter's lock from the thread that runs the script: page tests
    spent about a fifth of their time on it. The condition and the timeout are the same.
    """
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    ended = threading.Event()

    def heard(_sender: Any, event: Any = None, **_kwargs: Any) -> None:
        if event == ScriptRunnerEvent.SHUTDOWN:
            ended.set()

    runner.on_event.connect(heard, weak=False)
    try:
        if runner.script_stopped() or ended.wait(timeout):
            return
    finally:
        runner.on_event.disconnect(heard)
    # As AppTest does: stop the runner so the script does not hang on, then say so.
    runner.request_stop()
    runner.join()
    raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")


def _clear_caches() -> None:
    import streamlit as st

    # settings() and store() are cache_resource: without this a test would see the previous one's data dir.
    st.cache_resource.clear()
    st.cache_data.clear()


class DemoApp:
    """Opens the app's scripts with AppTest; the app's settings point at ``data_dir`` and ``provider``."""

    def __init__(self, data_dir: Path, provider: FakeProvider) -> None:
        self.data_dir = data_dir
        self.provider = provider
        self._stack = ExitStack()
        self._store: Store | None = None

    def __enter__(self) -> DemoApp:
        migrated(self.data_dir)
        self.configure(
            api_key=None,
            base_url=None,
            database_url=None,
            public_url=None,
            data_dir=self.data_dir,
            transport=self.provider.transport,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        _clear_caches()
        dispose_engines()

    def configure(self, **settings: Any) -> None:
        """Change settings for the rest of the test (e.g. ``api_key=...`` for live mode)."""
        self._stack.enter_context(override(**settings))
        _clear_caches()

    @property
    def store(self) -> Store:
        """The app's database, read directly."""
        if self._store is None:
            self._store = Store(self.data_dir)
        return self._store

    def open(
        self,
        script: str | Callable[[], None] = "app.py",
        *,
        query_params: dict[str, str] | None = None,
        session_state: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        check: bool = True,
    ):
        """An AppTest of ``script`` (a path from the repository root, or a function), run once.

        ``context`` sets what ``st.context`` says (e.g. ``{"url": ...}``, the browser's
        address); with ``check`` the first run must end without an exception.
        """
        from streamlit.testing.v1 import AppTest

        like_one_server()
        if callable(script):
            at = AppTest.from_function(script, default_timeout=TIMEOUT)
        else:
            at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
        for key, value in (context or {}).items():
            at.context[key] = value
        for key, value in (query_params or {}).items():
            at.query_params[key] = value
        for key, value in (session_state or {}).items():
            at.session_state[key] = value
        at.run()
        if check:
            assert not at.exception, at.exception
        return at


def walk(node) -> Iterator:
    """Every element of an AppTest tree (``at._tree``), depth first."""
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)
