"""Files from the computer as reference media: checked against the provider's limits, kept for 24 h, served by link.

The provider fetches every image, video and audio input from a link, so a file a user
uploads is stored in the data directory under a random token (never its own name) and
offered at ``<base>/api/uploads/<token>`` (``UPLOAD_PREFIX``). ``inspect`` reads what
the file really is — format from its content, pixel size, aspect ratio, length, frame
rate — and refuses with a plain sentence what the provider would refuse
(``lib.catalog.FILE_LIMITS``); ``check_count`` applies the model's count and the
total-length rules. A link works for ``TTL`` seconds and stops once every run that
uses it has finished (``servable``). ``cleanup`` removes expired files; the disk used
is capped (``MAX_STORED_BYTES``, ``MAX_STORED_FILES``).

Example:
    >>> link("https://studio.example/", "a" * 32)
    'https://studio.example/api/uploads/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    >>> token_of("https://studio.example/api/uploads/" + "a" * 32), token_of("https://x.test/a.png")
    ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', None)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lib import catalog
from lib.i18n import t
from lib.settings import UPLOAD_PREFIX

TTL = 24 * 3600  # seconds a link works (the provider's own result links last as long)
MAX_STORED_BYTES = 2_000_000_000  # all uploads together, so a busy workshop cannot fill the disk
MAX_STORED_FILES = 500
NAME_MAX = 80  # characters of the original file name kept, for display only
DIR = "uploads"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")  # token_urlsafe(24)

# What each format is stored as and served with: (suffix, content type).
_IMAGE_FORMATS = {"JPEG": (".jpg", "image/jpeg"), "PNG": (".png", "image/png"), "WEBP": (".webp", "image/webp")}
_AUDIO_FORMATS = {"wav": (".wav", "audio/wav"), "mp3": (".mp3", "audio/mpeg")}
_VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime"}


class UploadRejected(ValueError):
    """The file is not one the provider would accept; the message says why in plain words."""


@dataclass(frozen=True)
class Measured:
    """What a file really is, read from its content."""

    kind: str
    suffix: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None


@dataclass(frozen=True)
class Upload:
    """One stored upload (its metadata file next to it)."""

    token: str
    kind: str
    suffix: str
    content_type: str
    size: int
    name: str  # the original name, for display only: never a path
    created_at: float
    width: int | None = None
    height: int | None = None
    seconds: float | None = None

    @property
    def expires_at(self) -> float:
        return self.created_at + TTL


def valid_token(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN.fullmatch(token))


def link(base_url: str, token: str) -> str:
    """The upload's link under ``base_url`` (this server's public or local address)."""
    return f"{base_url.rstrip('/')}{UPLOAD_PREFIX}{token}"


def token_of(url: str) -> str | None:
    """The token of one of our upload links (whatever the host), else None."""
    path = urlsplit(url.strip()).path
    if not path.startswith(UPLOAD_PREFIX):
        return None
    token = path[len(UPLOAD_PREFIX) :]
    return token if valid_token(token) else None


# --- what a file is ------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


def _check_range(what: str, value: float, bounds: tuple[float, float] | None, unit: str) -> None:
    if bounds is None:
        return
    lo, hi = bounds
    if not lo <= value <= hi:
        raise UploadRejected(
            t(
                "{what}: the provider takes {lo}–{hi}{unit}; this file has {value}{unit}.",
                what=t(what),
                lo=f"{lo:g}",
                hi=f"{hi:g}",
                unit=unit,
                value=f"{value:g}",
            )
        )


def _check_picture(width: int, height: int, limits: catalog.FileLimits) -> None:
    _check_range("Width", width, limits.side_px, " px")
    _check_range("Height", height, limits.side_px, " px")
    if limits.ratio is not None:
        lo, hi = limits.ratio
        ratio = width / height
        if not lo <= ratio <= hi:
            raise UploadRejected(
                t(
                    "Aspect ratio: the provider takes width ÷ height from {lo} to {hi}; "
                    "this file is {width}×{height} ({ratio}).",
                    lo=f"{lo:g}",
                    hi=f"{hi:g}",
                    width=width,
                    height=height,
                    ratio=f"{ratio:.2f}",
                )
            )


def _image(data: bytes, limits: catalog.FileLimits) -> Measured:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only: no decompression bomb
            fmt, (width, height) = img.format or "", img.size
    except Image.DecompressionBombError:  # PIL refuses to even open one this large
        raise UploadRejected(
            t(
                "Pixel size: this image is far larger than the provider takes (at most {max} px a side).",
                max=limits.side_px[1] if limits.side_px else "",
            )
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise UploadRejected(
            t("This is not an image the provider takes ({formats}).", formats=", ".join(limits.formats))
        ) from None
    if fmt not in _IMAGE_FORMATS:
        raise UploadRejected(
            t(
                "Format: the provider takes {formats} images; this one is {fmt}.",
                formats=", ".join(limits.formats),
                fmt=fmt,
            )
        )
    _check_picture(width, height, limits)
    suffix, ctype = _IMAGE_FORMATS[fmt]
    return Measured("image", suffix, ctype, len(data), width, height)


def _av(data: bytes):
    import av

    try:
        return av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, OSError, ValueError):
        return None


def _seconds(container) -> float | None:
    import av

    if container.duration:
        return float(container.duration) / av.time_base
    for stream in container.streams:
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return None


def _video(data: bytes, name: str, limits: catalog.FileLimits) -> Measured:
    container = _av(data)
    if container is None or "mp4" not in container.format.name or not container.streams.video:
        raise UploadRejected(
            t("This is not a video the provider takes ({formats}).", formats=", ".join(limits.formats))
        )
    with container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        seconds = _seconds(container)
    if seconds is None:
        raise UploadRejected(t("Length: this video does not say how long it is, so it cannot be checked."))
    _check_range("Length", round(seconds, 2), limits.seconds, " s")
    _check_picture(width, height, limits)
    if limits.frame_pixels is not None:
        lo, hi = limits.frame_pixels
        if not lo <= width * height <= hi:
            raise UploadRejected(
                t(
                    "Frame size: the provider takes {lo}–{hi} pixels a frame (e.g. 640×640 to 2206×946); "
                    "this video is {width}×{height}.",
                    lo=f"{lo:,}",
                    hi=f"{hi:,}",
                    width=width,
                    height=height,
                )
            )
    if fps is not None:
        _check_range("Frame rate", round(fps, 2), limits.fps, " fps")
    suffix = ".mov" if name.lower().endswith(".mov") else ".mp4"
    return Measured("video", suffix, _VIDEO_TYPES[suffix], len(data), width, height, seconds, fps)


def _audio(data: bytes, limits: catalog.FileLimits) -> Measured:
    container = _av(data)
    fmt = container.format.name.split(",")[0] if container is not None else ""
    if container is None or fmt not in _AUDIO_FORMATS or not container.streams.audio:
        if container is not None:
            container.close()
        raise UploadRejected(t("This is not audio the provider takes ({formats}).", formats=", ".join(limits.formats)))
    with container:
        seconds = _seconds(container)
    if seconds is None:
        raise UploadRejected(t("Length: this audio does not say how long it is, so it cannot be checked."))
    _check_range("Length", round(seconds, 2), limits.seconds, " s")
    suffix, ctype = _AUDIO_FORMATS[fmt]
    return Measured("audio", suffix, ctype, len(data), seconds=seconds)


def inspect(data: bytes, name: str, kind: str) -> Measured:
    """What the file is, if the provider would take it as ``kind`` (image, video, audio); else ``UploadRejected``.

    The size is checked before anything is read; the format comes from the content,
    never from the file name.
    """
    limits = catalog.FILE_LIMITS[kind]
    if len(data) > limits.max_bytes:
        raise UploadRejected(
            t(
                "File size: the provider takes {kind} files up to {limit}; this one is {size}.",
                kind=t(catalog.MEDIA[kind].one),
                limit=_mb(limits.max_bytes),
                size=_mb(len(data)),
            )
        )
    if not data:
        raise UploadRejected(t("This file is empty."))
    if kind == "image":
        return _image(data, limits)
    if kind == "video":
        return _video(data, name, limits)
    return _audio(data, limits)


def check_count(spec: catalog.ModelSpec, kind: str, already: int, adding: int) -> None:
    """The model's count rule for ``kind`` (``already`` links of it in the request, ``adding`` more)."""
    limits = spec.limits(kind)
    media = catalog.MEDIA[kind]
    if not limits.accepted:
        raise UploadRejected(t("{model} takes no {media}.", model=t(spec.label), media=t(media.many)))
    if already + adding > limits.max:
        raise UploadRejected(
            t(
                "{media}: {model} takes at most {max}; this would make {n}.",
                media=t(media.many.capitalize()),
                model=t(spec.label),
                max=limits.max,
                n=already + adding,
            )
        )


def check_total_seconds(kind: str, seconds: Iterable[float]) -> None:
    """Every video (or audio clip) of one request together: the provider's total-length rule."""
    cap = catalog.FILE_LIMITS[kind].total_seconds
    total = sum(seconds)
    if cap is not None and total > cap + 1e-6:
        media = catalog.MEDIA[kind]
        raise UploadRejected(
            t(
                "{media}: at most {cap} s together; these would make {total} s.",
                media=t(media.many.capitalize()),
                cap=f"{cap:g}",
                total=f"{total:.1f}",
            )
        )


# --- storing and serving -----------------------------------------------------------------------


def _dir(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / DIR


def _meta_path(data_dir: str | os.PathLike[str], token: str) -> Path:
    return _dir(data_dir) / f"{token}.json"


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:NAME_MAX] or "upload"


def load(data_dir: str | os.PathLike[str], token: str) -> Upload | None:
    """The stored upload ``token`` (expired or not), or None."""
    if not valid_token(token):
        return None
    try:
        meta = json.loads(_meta_path(data_dir, token).read_text("utf-8"))
        return Upload(**meta)
    except (OSError, ValueError, TypeError):
        return None


def file_path(data_dir: str | os.PathLike[str], upload: Upload) -> Path:
    return _dir(data_dir) / f"{upload.token}{upload.suffix}"


def _stored(data_dir: str | os.PathLike[str]) -> list[Upload]:
    out = []
    for meta in _dir(data_dir).glob("*.json"):
        upload = load(data_dir, meta.stem)
        if upload is not None:
            out.append(upload)
    return out


def cleanup(data_dir: str | os.PathLike[str], *, now: float | None = None) -> int:
    """Remove expired uploads (and stray files a crash left); returns how many uploads went."""
    now = time.time() if now is None else now
    folder = _dir(data_dir)
    if not folder.is_dir():
        return 0
    removed = 0
    keep: set[str] = set()
    for upload in _stored(data_dir):
        if upload.expires_at <= now:
            _remove(data_dir, upload)
            removed += 1
        else:
            keep.update({f"{upload.token}.json", f"{upload.token}{upload.suffix}"})
    for path in folder.iterdir():
        # A file with no metadata (a crash between the two writes) is older than a minute: nothing uses it.
        if path.name not in keep and path.is_file() and path.stat().st_mtime < now - 60:
            with contextlib.suppress(OSError):
                path.unlink()
    return removed


def _remove(data_dir: str | os.PathLike[str], upload: Upload) -> None:
    for path in (file_path(data_dir, upload), _meta_path(data_dir, upload.token)):
        with contextlib.suppress(OSError):
            path.unlink()


def save(
    data_dir: str | os.PathLike[str], data: bytes, name: str, measured: Measured, *, now: float | None = None
) -> Upload:
    """Store a checked file under a new random token; refuses (``UploadRejected``) when the space is full."""
    now = time.time() if now is None else now
    cleanup(data_dir, now=now)
    stored = _stored(data_dir)
    if len(stored) >= MAX_STORED_FILES or sum(u.size for u in stored) + len(data) > MAX_STORED_BYTES:
        raise UploadRejected(
            t("The space for uploads on this server is full; uploads are removed 24 hours after they were made.")
        )
    folder = _dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    upload = Upload(
        token=secrets.token_urlsafe(24),
        kind=measured.kind,
        suffix=measured.suffix,
        content_type=measured.content_type,
        size=len(data),
        name=_safe_name(name),
        created_at=now,
        width=measured.width,
        height=measured.height,
        seconds=measured.seconds,
    )
    target = file_path(data_dir, upload)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    meta = _meta_path(data_dir, upload.token)
    tmp_meta = meta.with_name(meta.name + ".part")
    tmp_meta.write_text(json.dumps(asdict(upload)), "utf-8")
    os.replace(tmp_meta, meta)  # last: an upload exists once its metadata does
    return upload


def servable(
    data_dir: str | os.PathLike[str],
    token: str,
    runs_finished: Callable[[str], bool],
    *,
    now: float | None = None,
) -> tuple[Path, Upload] | None:
    """The file to serve for ``token``, or None: unknown, older than ``TTL``, or every run using it has finished.

    ``runs_finished(token)`` says whether some run uses the link and all of them have
    finished (a new remix that reuses the link opens it again, within the 24 h).
    """
    now = time.time() if now is None else now
    upload = load(data_dir, token)
    if upload is None or upload.expires_at <= now:
        return None
    path = file_path(data_dir, upload)
    if not path.is_file() or runs_finished(token):
        return None
    return path, upload


def reachable(data_dir: str | os.PathLike[str], url: str, *, now: float | None = None) -> bool:
    """Whether the provider could fetch ``url`` if it is one of our upload links (any other link: True).

    The demo's simulator, in this process, reads the app's uploads this way instead of
    downloading them; the run asking is still in flight, so only the 24 hours count.
    """
    token = token_of(url)
    if token is None:
        return True
    return servable(data_dir, token, lambda _token: False, now=now) is not None


def seconds_of(data_dir: str | os.PathLike[str], url: str) -> float | None:
    """The measured length of the upload a link names (None for any other link)."""
    token = token_of(url)
    upload = load(data_dir, token) if token else None
    return upload.seconds if upload is not None else None
