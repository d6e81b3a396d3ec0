"""Provider callbacks: the per-data-directory secret in the callback URL, and the URL itself.

A callback is only a nudge to poll its run now; its body is never trusted.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> secret_matches(d, hook_secret(d))
    True
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from lib.settings import HOOK_PREFIX

SECRET_FILE = "hook_secret"


def hook_secret(data_dir: str | os.PathLike) -> str:
    """The random secret of this data directory, created on first use (file mode 0600)."""
    path = Path(data_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def secret_matches(data_dir: str | os.PathLike, candidate: str) -> bool:
    """Is ``candidate`` (the last part of a callback's path) this data directory's secret? Constant time."""
    path = Path(data_dir) / SECRET_FILE
    if not path.is_file() or not isinstance(candidate, str):
        return False
    return hmac.compare_digest(path.read_text().strip().encode(), candidate.encode())


def callback_url(public_url: str | None, data_dir: str | os.PathLike) -> str | None:
    """The https callback URL for new runs, or None when there is no public https address."""
    if not public_url or not public_url.lower().startswith("https://"):
        return None
    return f"{public_url.rstrip('/')}{HOOK_PREFIX}{hook_secret(data_dir)}"
