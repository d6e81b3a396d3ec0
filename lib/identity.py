"""Who a browser is, without accounts: a random participant id kept in an HttpOnly cookie.

``IdentityCookie`` is an ASGI middleware (server.py adds it): every HTML page served
to a browser that has no valid id gets ``studio_pid=<random id>`` for a year. Scripts
read it back with ``st.context.cookies`` (``components/identity.py``). The id names a
browser, not a person: it is never put in a URL, a page, a log or an export, and an
invite link never carries one, so a copied link cannot make anyone someone else.

Example:
    >>> pid = new_participant_id()
    >>> valid_participant_id(pid), valid_participant_id("alice"), valid_participant_id(None)
    (True, False, False)
    >>> cookie_header(pid, secure=False).startswith(f"{COOKIE}={pid}; Path=/; Max-Age=31536000; HttpOnly")
    True
    >>> public_id(pid, "ws_1") == public_id(pid, "ws_1") != public_id(pid, "ws_2"), len(public_id(pid, "ws_1"))
    (True, 12)
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

COOKIE = "studio_pid"
MAX_AGE = 365 * 24 * 3600  # a year: a workshop series, not a login
_PID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_participant_id() -> str:
    """A fresh random id (url-safe, 32 characters): unguessable, so it cannot be borrowed by guessing."""
    return secrets.token_urlsafe(24)


def valid_participant_id(value: object) -> bool:
    """True for strings shaped like ``new_participant_id()``; check before trusting a cookie or session value."""
    return isinstance(value, str) and bool(_PID.fullmatch(value))


def public_id(participant_id: str, workspace_id: str) -> str:
    """The participant as exports name them: stable within a workspace, useless as a cookie.

    The id itself is what a browser presents to be that participant, so it never leaves
    the server; this digest tells participants apart without letting anyone become one.
    """
    return hashlib.sha256(f"{workspace_id}:{participant_id}".encode()).hexdigest()[:12]


def cookie_header(participant_id: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` value that makes a browser keep ``participant_id``."""
    value = f"{COOKIE}={participant_id}; Path=/; Max-Age={MAX_AGE}; HttpOnly; SameSite=Lax"
    return value + "; Secure" if secure else value


def from_cookie_header(header: str | None) -> str | None:
    """The valid participant id in a ``Cookie`` request header, else None."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and valid_participant_id(morsel.value) else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_secure(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    # Behind a TLS-terminating proxy the app sees http; the proxy says what the browser used.
    return (_header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower() == "https"


class IdentityCookie:
    """Give every browser that has no valid participant id one, on the HTML pages it loads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or from_cookie_header(_header(scope, b"cookie")) is not None:
            await self.app(scope, receive, send)
            return
        cookie = cookie_header(new_participant_id(), secure=_is_secure(scope)).encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.lower().startswith(b"text/html"):
                    message["headers"] = [*headers, (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
