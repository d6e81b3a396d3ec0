"""Wake one fragment when a run it shows changes: a listener on the workspace's event stream, no timers.

The server pushes run notices for a workspace (``/api/events/<workspace>``, see
``lib/sse.py``). The page opens one ``EventSource`` per workspace, kept on ``window`` and
shared by every listener on the page (``live.js``). Mount ``listen`` inside an
``st.fragment``: it sets its trigger only when a notice about the runs and kinds it was
given arrives, so only that fragment reruns; a page where nothing changes costs the
server nothing. A ``resync`` (the page fell behind, or its stream reconnected) always
wakes it.

    @st.fragment
    def progress(run_id):
        live.listen(ws.id, key=f"run-{run_id}", runs=[run_id], kinds=("updated", "finished"))
        ...  # read the run and show it
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import streamlit as st

from lib import events, i18n
from lib.settings import EVENTS_PREFIX

HERE = Path(__file__).resolve().parent
HUB_JS = (HERE / "live.js").read_text(encoding="utf-8")  # the shared stream, for every component that listens

KEY_PREFIX = "live-"
# A listener shows nothing: its element (keyed live-...) takes no room, not even the gap around it.
# (More than one line: Streamlit reads a one-line string with brackets as a file path.)
_CSS = """
[class*="st-key-live-"] {
  display: none;
}
"""

_listener = st.components.v2.component(
    "studio_live",
    css=_CSS,
    js=HUB_JS + "\n" + (HERE / "live_listener.js").read_text(encoding="utf-8"),
    isolate_styles=False,
)


def events_url(workspace_id: str) -> str:
    """The root-relative address of a workspace's event stream; its cards come in this page's language."""
    language = i18n.current()
    return f"{EVENTS_PREFIX}{workspace_id}" + ("" if language == i18n.DEFAULT else f"?lang={language}")


def heard() -> int:
    """Take this before reading the store: the page then hears again every notice after it (``since``).

    A page switch keeps the page's stream open, so notices can go by while none of its
    listeners is mounted; a listener that joins replays those newer than its ``since``.
    """
    return events.last_seq()


def _ignore() -> None:
    """Nothing to do in a callback: the trigger reruns the fragment, which reads the store."""


def listen(
    workspace_id: str,
    *,
    key: str,
    runs: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    on_notice: Callable[[], Any] | None = None,
    since: int | None = None,
) -> dict[str, Any] | None:
    """Rerun the enclosing fragment on a notice about ``runs`` (None: any run) of the given ``kinds`` (None: any).

    The element is keyed ``live-<key>``. Returns the notice that woke this run
    (``{"run", "kind", "seq"}``), or None. ``since``: ``heard()`` taken before the
    fragment read the store (None: now, for a fragment that reads after this call).
    """
    result = _listener(
        key=KEY_PREFIX + key,
        data={
            "url": events_url(workspace_id),
            "runs": None if runs is None else sorted(runs),
            "kinds": None if kinds is None else sorted(kinds),
            "since": heard() if since is None else since,
        },
        height=0,
        on_notice_change=on_notice or _ignore,
    )
    notice = result.get("notice") if result is not None else None
    return notice if isinstance(notice, dict) else None
