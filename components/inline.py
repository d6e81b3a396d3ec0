"""The app's own inline scripts: each one's text lives in ``components/scripts/<name>.js``.

The server's Content-Security-Policy (``lib.headers``) allows an inline script only by
the hash of its exact text, and it hashes every file in that folder at start: a script
written anywhere else is blocked by the browser. Change a script there, never inline.
"""

from __future__ import annotations

import functools
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "scripts"


@functools.cache
def script_text(name: str) -> str:
    """The text of ``components/scripts/<name>.js``, exactly as the policy hashed it."""
    return (FOLDER / f"{name}.js").read_text(encoding="utf-8")


def script_tag(name: str) -> str:
    """``<script>…</script>`` around ``script_text(name)``, for ``st.html`` or an iframe's document."""
    return f"<script>{script_text(name)}</script>"
