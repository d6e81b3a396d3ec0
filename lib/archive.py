"""Save a finished video before its 24-hour link expires: streamed, size-capped, verified, stored under a random token.

The file name is always ``secrets.token_urlsafe`` output, never anything from the
server, and ``media_path`` accepts only that exact shape, so ``/api/media/<token>``
cannot be steered to another file. The link and every redirect hop pass ``lib.net``'s
guard before they are opened (``net.guarded_client``: resolved once, connected to the
address that was checked): a server's link cannot make us fetch from our own network.

Saving is a failure like any other: no room below ``min_free`` bytes (checked before a
download), ENOSPC, EIO or a permission error while writing all raise ``StorageError``,
which the worker counts as an attempt. A download is written in a scratch folder of
its own under ``tmp/``, locked while in use; ``remove_stale_parts`` (at start) deletes
the folders nobody holds, i.e. what a crashed process left behind.

Example:
    >>> media_path("/data", "../../etc/passwd") is None
    True
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import av
import httpx

from lib import catalog, net, posters
from lib.messages import say
from lib.schema import GenerationRequest

log = logging.getLogger("studio.archive")

MAX_BYTES = 500 * 1024 * 1024  # far above a 15 s 1080p clip; stops a runaway download
DURATION_TOLERANCE = 1.0  # seconds either way
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_REDIRECTS = 5
CHUNK = 256 * 1024
MEDIA_DIR = "media"
TMP_DIR = "tmp"
SUFFIX = ".mp4"

_TOKEN_BYTES = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")  # token_urlsafe(24) is exactly 32 characters
_EXPIRED_STATUSES = (403, 404, 410)


class ArchiveError(Exception):
    """The video could not be saved; ``retry`` says whether trying again may help, ``code`` names it."""

    retry = True
    code = "archive_failed"


class LinkExpired(ArchiveError):
    """The link answered 403, 404 or 410: the video is gone for good."""

    retry = False


class Refused(ArchiveError):
    """The link (or a redirect) is not http(s) or leads to a non-public host: it was not opened."""

    retry = False


class TooLarge(ArchiveError):
    """The download passed the size cap."""

    retry = False


class NotAVideo(ArchiveError):
    """The bytes are not a playable video."""


class WrongVideo(ArchiveError):
    """A video, but not the one asked for (duration or pixel size)."""


class StorageError(ArchiveError):
    """This server could not write the file (EIO, permissions, ...): the link was fine."""

    code = "storage_error"


class DiskFull(StorageError):
    """No room on this server's disk: less than the free-space floor left, or ENOSPC while writing."""

    code = "disk_full"


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def storage_error(exc: OSError) -> StorageError:
    """The ``StorageError`` for an ``OSError`` raised while saving, in words for the screen.

    >>> storage_error(OSError(28, "No space left on device")).code
    'disk_full'
    """
    if exc.errno in _FULL:
        return DiskFull(say("disk_full"))
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return StorageError(say("disk_error", name=name))


def check_free_space(data_dir: str | os.PathLike, min_free: int, needed: int = 0) -> None:
    """Raise ``DiskFull`` unless ``needed`` more bytes leave at least ``min_free`` free where videos go."""
    try:
        free = shutil.disk_usage(_existing(Path(data_dir))).free
    except OSError as exc:
        raise storage_error(exc) from exc
    if free - needed < min_free:
        raise DiskFull(say("disk_nearly_full", free=_mb(free), floor=_mb(min_free)))


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


@dataclass(frozen=True)
class Expectation:
    """What the request promises: seconds, and pixels unless the ratio is adaptive."""

    duration: float | None = None
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class Archived:
    token: str
    size: int  # bytes
    duration: float
    width: int
    height: int


def expectation(request: GenerationRequest) -> Expectation:
    """The duration and pixel size a finished video of ``request`` must have."""
    size = catalog.resolution(request.effective("aspect_ratio"), request.effective("quality"))
    return Expectation(duration=float(request.effective("duration")), size=size)


def media_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / MEDIA_DIR


def valid_token(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN.fullmatch(token))


def media_path(data_dir: str | os.PathLike, token: str) -> Path | None:
    """The archived file for ``token``, or None if the token is malformed or unknown.

    >>> media_path("/data", "a" * 32)  # well-formed but no such file
    """
    if not valid_token(token):
        return None
    path = media_dir(data_dir) / f"{token}{SUFFIX}"
    return path if path.is_file() else None


def download_client(timeout: httpx.Timeout | float = DOWNLOAD_TIMEOUT, *, allow: Iterable[str] = ()) -> httpx.Client:
    """A guarded HTTP client for result downloads (``archive_video`` follows redirects itself, hop by hop)."""
    return net.guarded_client(allow=allow, timeout=timeout)


def write_chunk(out: IO[bytes], chunk: bytes) -> None:
    """Every downloaded byte is written here (tests make it raise ENOSPC to simulate a full disk)."""
    out.write(chunk)


@contextlib.contextmanager
def _scratch(data_dir: str | os.PathLike) -> Iterator[Path]:
    """A folder of its own under ``tmp/`` for one download, locked while in use, removed after."""
    tmp_dir = Path(data_dir) / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_dir, prefix="dl-"))
    fd = os.open(work, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # remove_stale_parts leaves a held folder alone
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.close(fd)


def _held(folder: Path) -> bool:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock this call took
    return False


def remove_stale_parts(data_dir: str | os.PathLike) -> int:
    """Delete what interrupted downloads left under ``tmp/`` (up to 500 MB each); returns how many.

    Downloads in progress, in this process or another sharing the data dir, hold a lock
    on their folder and are left alone.
    """
    tmp_dir = Path(data_dir) / TMP_DIR
    removed = 0
    try:
        entries = list(tmp_dir.iterdir())
    except OSError:
        return 0
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            if _held(entry):
                continue
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)  # a loose partial file, as older versions wrote them
        removed += 1
    return removed


def archive_video(
    url: str,
    data_dir: str | os.PathLike,
    expect: Expectation | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    client: httpx.Client | None = None,
    timeout: httpx.Timeout | float = DOWNLOAD_TIMEOUT,
    metadata: dict[str, str] | None = None,
    allowed_hosts: Iterable[str] = (),
    min_free: int = 0,
) -> Archived:
    """Download ``url``, check it is the video asked for, and store it under a new token.

    ``metadata`` (e.g. ``metadata_for(request)``) is written into the MP4's tags, so a
    downloaded file still says which prompt and settings made it. ``allowed_hosts``
    may be reached although they are not public (e.g. a simulator on 127.0.0.1).
    Nothing is downloaded unless ``min_free`` bytes stay free on the data dir's disk.

    Raises an ``ArchiveError`` subclass (``StorageError`` for anything the disk refused);
    nothing is left behind on failure.
    """
    allowed = tuple(allowed_hosts)
    _check(url, allowed)
    expect = expect or Expectation()
    check_free_space(data_dir, min_free)
    try:
        with _scratch(data_dir) as work:
            tmp = work / f"video{SUFFIX}.part"
            with tmp.open("wb") as out:
                size = _download(url, out, max_bytes=max_bytes, client=client, timeout=timeout, allowed=allowed)
            duration, width, height = verify_video(tmp, expect)
            if metadata:
                size = _tag(tmp, metadata) or size
            token = secrets.token_urlsafe(_TOKEN_BYTES)
            final = media_dir(data_dir) / f"{token}{SUFFIX}"
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)  # atomic: the media route never sees half a file
    except OSError as exc:  # ENOSPC, EIO, EACCES, ...: the disk refused, not the link
        raise storage_error(exc) from exc
    try:
        # The poster now, for the card; the contact sheet when the run's details first ask for it.
        posters.make(final, data_dir, token, with_sheet=False)
    except (posters.PosterError, OSError):
        log.warning("archive: no poster for a saved video; cards show it without one")
    return Archived(token=token, size=size, duration=duration, width=width, height=height)


def metadata_for(request: GenerationRequest) -> dict[str, str]:
    """MP4 tags for a run: the prompt as the title, the exact request body as the comment."""
    body = {k: v for k, v in request.to_payload().items() if k != "callback_url"}
    return {
        "title": request.prompt[:2000],
        "comment": json.dumps(body, ensure_ascii=False)[:8000],
        "encoder": "Seedance Prompt Studio",
    }


def _tag(path: Path, metadata: dict[str, str]) -> int | None:
    """Rewrite ``path`` with ``metadata`` in its container (a remux: no re-encoding).

    Returns the new size, or None if tagging failed and the untagged file was kept.
    """
    tagged = path.with_suffix(".tagged.mp4")
    try:
        with (
            av.open(str(path)) as src,
            av.open(str(tagged), "w", format="mp4", options={"movflags": "faststart"}) as dst,
        ):
            dst.metadata.update(metadata)
            streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
            for packet in src.demux(*[s for s in src.streams if s.index in streams]):
                if packet.dts is None:
                    continue
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
        os.replace(tagged, path)
        return path.stat().st_size
    except (av.FFmpegError, OSError, ValueError):
        tagged.unlink(missing_ok=True)
        return None


def _check(url: str, allowed: tuple[str, ...]) -> None:
    try:
        net.check_url(url, allow=allowed)
    except net.BlockedAddress as exc:
        raise Refused(say("link_refused", reason=exc)) from None


def _download(
    url: str,
    out: IO[bytes],
    *,
    max_bytes: int,
    client: httpx.Client | None,
    timeout: httpx.Timeout | float,
    allowed: tuple[str, ...],
) -> int:
    owned = client is None
    http = client or download_client(timeout, allow=allowed)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with http.stream("GET", url, follow_redirects=False) as resp:
                if resp.is_redirect:
                    # Each hop is checked before it is opened, like the link itself.
                    try:
                        url = str(resp.url.join(resp.headers["location"]))
                    except httpx.InvalidURL:
                        raise Refused(say("redirect_not_url")) from None
                    _check(url, allowed)
                    continue
                return _save(resp, out, max_bytes)
        raise ArchiveError(say("too_many_redirects", n=MAX_REDIRECTS))
    except net.BlockedAddress as exc:  # the guarded transport's own check, after resolving the name
        raise Refused(say("link_refused", reason=exc)) from None
    except httpx.HTTPError as exc:
        # Covers timeouts, dropped connections, malformed redirects.
        raise ArchiveError(say("download_failed", name=type(exc).__name__)) from exc
    finally:
        if owned:
            http.close()


def _save(resp: httpx.Response, out: IO[bytes], max_bytes: int) -> int:
    if resp.status_code in _EXPIRED_STATUSES:
        raise LinkExpired(say("link_gone", status=resp.status_code))
    if not resp.is_success:
        raise ArchiveError(say("download_status", status=resp.status_code))
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(_too_large(max_bytes))
    size = 0
    for chunk in resp.iter_bytes(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(_too_large(max_bytes))
        write_chunk(out, chunk)
    if size == 0:
        raise NotAVideo(say("empty_download"))
    return size


def _too_large(max_bytes: int) -> str:
    return say("too_large", mb=max_bytes // (1024 * 1024))


def verify_video(path: str | os.PathLike, expect: Expectation | None = None) -> tuple[float, int, int]:
    """Open with PyAV, decode one frame, check duration and pixels; return (seconds, w, h)."""
    expect = expect or Expectation()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotAVideo(say("no_video_stream"))
            stream = container.streams.video[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise NotAVideo(say("no_video_frame"))
            width, height = frame.width, frame.height
            duration = _duration(container, stream)
    except av.FFmpegError as exc:
        raise NotAVideo(say("unreadable_video")) from exc
    if duration is None or duration <= 0:
        raise NotAVideo(say("no_duration"))
    if expect.duration is not None and abs(duration - expect.duration) > DURATION_TOLERANCE:
        raise WrongVideo(say("wrong_duration", got=f"{duration:.1f}", asked=f"{expect.duration:g}"))
    if expect.size is not None and (width, height) != tuple(expect.size):
        got, asked = f"{width}×{height}", f"{expect.size[0]}×{expect.size[1]}"
        raise WrongVideo(say("wrong_size", got=got, asked=asked))
    return duration, width, height


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return None
