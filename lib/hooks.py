"""Provider callbacks: the per-data-directory secret in the callback URL, and the URL itself.

A callback is only a nudge to poll its run now; its body is never trusted.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> secret_matches(d, hook_secret(d))
    True
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from lib.settings import HOOK_PREFIX

SECRET_FILE = "hook_secret"


def hook_secret(data_dir: str | os.PathLike) -> str:
    """The random secret of this data directory, created on first use (file mode 0600).

    Written whole under a temporary name, then renamed into place: a crash never leaves
    an empty or half-written secret, and when two processes race, the first one's wins.
    """
    path = Path(data_dir) / SECRET_FILE
    with contextlib.suppress(FileNotFoundError):
        if existing := path.read_text().strip():
            return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    # Racing processes take turns on a lock held on the directory itself (it leaves no file).
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError):
            if existing := path.read_text().strip():
                return existing  # another process settled it while this one waited
        value = secrets.token_urlsafe(24)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{SECRET_FILE}.", suffix=".part")  # mode 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(value)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)  # whole or not at all; an empty file an older version left is replaced
        finally:
            Path(tmp).unlink(missing_ok=True)
        return value
    finally:
        os.close(dir_fd)  # closing releases the lock


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
