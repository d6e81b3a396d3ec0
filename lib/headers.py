"""Security headers on every response the app's server sends: no sniffing, no framing by others, no referrer
leaks, and a Content-Security-Policy as strict as Streamlit allows.

What Streamlit 1.67 needs, found by loading every page in Chromium with this policy and
watching for violations (``tests/e2e/test_headers.py``):

- scripts: its own files (``'self'``), the one inline script of its ``index.html``
  (allowed by hash; ``server.py`` reads it, so lib never imports Streamlit), components
  v2, which load their code from ``blob:`` URLs, and the
  app's own inline scripts (``st.html`` and the Compare player's iframe), each allowed by
  the hash of its file in ``components/scripts/`` — an inline script anywhere else is
  blocked, which is the point;
- styles: ``'unsafe-inline'`` (Emotion writes ``<style>`` elements and ``style=`` at run time);
- images and fonts from itself and ``data:``; videos from ``/api/media`` (``'self'``) and ``blob:``;
- connections (the WebSocket, fetches, server-sent events) to itself only.

Example:
    >>> policy = content_security_policy(["console.log('ours')"])
    >>> "frame-ancestors 'self'" in policy, script_hash("console.log('ours')") in policy
    (True, True)
    >>> script_hash("alert(1)")
    "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script\s*>", re.S | re.I)

# Headers every response gets unless it set its own.
FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "SAMEORIGIN",  # frame-ancestors for browsers that predate it
}


def script_hash(text: str) -> str:
    """The CSP source that allows exactly this inline script (its SHA-256, base64)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def inline_scripts(html: str) -> list[str]:
    """The text of every inline ``<script>`` in an HTML document (not those with ``src``)."""
    return _INLINE_SCRIPT.findall(html)


def scripts_in(folder: str | Path) -> list[str]:
    """The text of every ``*.js`` file in ``folder``, sorted by name (none if there is no folder)."""
    path = Path(folder)
    return [p.read_text(encoding="utf-8") for p in sorted(path.glob("*.js"))] if path.is_dir() else []


def content_security_policy(inline: Iterable[str]) -> str:
    """The policy, allowing the ``inline`` scripts given (Streamlit's own and the app's), and nothing inline else."""
    hashes = sorted({script_hash(text) for text in inline})
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "blob:", *hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeaders:
    """ASGI middleware: ``FIXED`` and the policy on every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in {**FIXED, "content-security-policy": csp}.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
