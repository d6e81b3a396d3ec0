"""How long a reference video is, read from at most its first and last megabyte, fetched through the network guard.

The cost of a reference-to-video run depends on the length of its input videos. A
link comes from a user, so it is fetched like any other outside link: by
``lib.net.guarded_client`` (resolved once, connected to the checked address, every
redirect hop checked again), never by ffmpeg, which would resolve names and follow
redirects on its own. Only two ranges are fetched: the head (where a web-ready MP4
keeps its index) and, if the length is not there, the tail (where other MP4s keep it),
written into a sparse file of the right size that PyAV then reads locally.

Example:
    >>> video_seconds("file:///etc/passwd") is None  # not http(s), not a path either: nothing opened
    True
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

from lib import net

HEAD_BYTES = 1024 * 1024
TAIL_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the probe ran out of time")
        return left


def video_seconds(
    url: str,
    *,
    timeout: float = 5.0,
    allow: Iterable[str] = (),
    client: httpx.Client | None = None,
    head_bytes: int = HEAD_BYTES,
    tail_bytes: int = TAIL_BYTES,
) -> float | None:
    """Length in seconds of the video at ``url`` (http(s), or a local path), None if it cannot be read in time.

    Never raises. ``allow`` names hosts that may be reached although they are not
    public; ``client`` replaces the guarded client (tests).
    """
    text = str(url)
    if not text.lower().startswith(("http://", "https://")):
        if "://" in text:
            return None
        return _seconds_of(Path(text))
    owned = client is None
    http = client or net.guarded_client(allow=allow, timeout=timeout)
    try:
        with tempfile.TemporaryDirectory(prefix="studio-probe-") as tmp:
            path = Path(tmp) / "video"
            deadline = _Deadline(timeout)
            total = _fetch(http, text, path, 0, head_bytes - 1, allow=tuple(allow), deadline=deadline)
            seconds = _seconds_of(path)
            if seconds is None and total is not None and total > head_bytes:
                start = max(head_bytes, total - tail_bytes)
                _fetch(http, text, path, start, total - 1, allow=tuple(allow), deadline=deadline, total=total)
                seconds = _seconds_of(path)
            return seconds
    except (net.BlockedAddress, httpx.HTTPError, OSError, ValueError):
        return None
    finally:
        if owned:
            http.close()


def _fetch(
    http: httpx.Client,
    url: str,
    path: Path,
    first: int,
    last: int,
    *,
    allow: tuple[str, ...],
    deadline: _Deadline,
    total: int | None = None,
) -> int | None:
    """Write bytes ``first``..``last`` of ``url`` at their place in ``path``; returns the file's full size if known."""
    for _ in range(MAX_REDIRECTS + 1):
        net.check_url(url, allow=allow)
        headers = {"Range": f"bytes={first}-{last}"}
        with http.stream("GET", url, headers=headers, timeout=deadline.left(), follow_redirects=False) as resp:
            if resp.is_redirect:
                url = str(resp.url.join(resp.headers["location"]))
                continue
            if resp.status_code not in (200, 206):
                raise ValueError(f"HTTP {resp.status_code}")
            offset, size = first, total
            if resp.status_code == 206:
                match = _CONTENT_RANGE.fullmatch(resp.headers.get("content-range", "").strip())
                if match is None:
                    raise ValueError("a partial answer without a readable Content-Range")
                offset = int(match.group(1))
                size = int(match.group(3)) if match.group(3) != "*" else total
            else:  # no ranges here: the whole file from its start; keep only the head
                offset = 0
                if first > 0:
                    return total
            _write(resp, path, offset, last - offset + 1, size, deadline)
            return size
    raise ValueError("too many redirects")


def _write(resp: httpx.Response, path: Path, offset: int, limit: int, size: int | None, deadline: _Deadline) -> None:
    mode = "r+b" if path.exists() else "wb"
    with path.open(mode) as out:
        if size is not None and size > 0:
            out.truncate(size)  # sparse: the middle of the file is never fetched
        out.seek(offset)
        written = 0
        for chunk in resp.iter_bytes(64 * 1024):
            deadline.left()
            chunk = chunk[: limit - written]
            out.write(chunk)
            written += len(chunk)
            if written >= limit:
                break


def _seconds_of(path: Path) -> float | None:
    """The length PyAV reads from a local file, or None."""
    try:
        import av  # imported here: PyAV is heavy and only this needs it

        if not path.is_file():
            return None
        with av.open(str(path), timeout=5.0, options={"protocol_whitelist": "file"}) as container:
            if container.duration is not None and container.duration > 0:
                seconds = container.duration / av.time_base
            else:
                seconds = max(
                    (float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base),
                    default=0.0,
                )
        return seconds if math.isfinite(seconds) and seconds > 0 else None
    except Exception:
        return None
