"""The embedded demo's access: a key only this process knows, the fingerprint demo runs carry, and fair-share words.

In demo mode ``server.py`` mounts the simulator at ``/sim`` and it accepts one bearer
token only: ``key()``, made at random when this process first asks, held in memory,
given to the app's own clients and its worker, never written anywhere. Anyone else
calling ``/sim`` gets 401, so nobody outside the app can spend the demo's credits or
fill its render queue.

Demo runs store ``FINGERPRINT`` rather than the fingerprint of this process's key
(``lib.client.key_fingerprint`` maps one to the other), so after a restart the
worker, holding a new key under the same fingerprint, follows them on.

The app's demo clients also send ``WORKSPACE_HEADER``: the simulator queues renders
per workspace and takes them in turn, so one workspace's burst cannot hold up another.

Example:
    >>> is_key(key()), is_key("sk-anything-else")
    (True, False)
    >>> key() == key()  # one per process
    True
"""

from __future__ import annotations

import hmac
import secrets
import threading

# The fingerprint demo runs have always carried, kept so older demo runs resume too.
FINGERPRINT = "k_ec098db51153"
# The header naming the workspace a demo request is for (only the app's demo clients send it).
WORKSPACE_HEADER = "X-Studio-Workspace"
# Credits the demo account starts with, fresh at every start: far more than a workshop spends.
BALANCE = 1_000_000.0

_key: str | None = None
_lock = threading.Lock()


def key() -> str:
    """This process's demo key (made on first use; memory only)."""
    global _key
    with _lock:
        if _key is None:
            _key = "demo-" + secrets.token_urlsafe(32)
        return _key


def is_key(candidate: object) -> bool:
    """Is ``candidate`` this process's demo key? (Constant time.)"""
    return isinstance(candidate, str) and hmac.compare_digest(candidate.strip().encode(), key().encode())
