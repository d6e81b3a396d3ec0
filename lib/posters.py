"""Still images of an archived video: a poster frame and a 6-frame contact sheet, made once with PyAV.

A gallery card shows the poster until someone presses play, so a page of 200 runs
fetches 200 small JPEGs and no video bytes; the contact sheet lets people compare
motion at a glance. Both sit beside the video, named by its token::

    media/<token>.mp4   media/<token>.poster.jpg   media/<token>.sheet.jpg

Example:
    >>> poster_path("/data", "a" * 32).name
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.poster.jpg'
"""

from __future__ import annotations

import os
from pathlib import Path

import av
from PIL import Image

POSTER_SUFFIX = ".poster.jpg"
SHEET_SUFFIX = ".sheet.jpg"
SHEET_FRAMES = 6
SHEET_COLUMNS = 3
POSTER_MAX = 640  # px, the longer side: a card is never wider than this
SHEET_TILE_MAX = 320  # px, the longer side of one tile
POSTER_AT = 0.3  # a frame this far into the video: past fades in, still the opening shot
JPEG_QUALITY = 82

KINDS = {"poster": POSTER_SUFFIX, "sheet": SHEET_SUFFIX}


class PosterError(Exception):
    """The video could not be read to make its stills."""


def poster_path(data_dir: str | os.PathLike[str], token: str) -> Path:
    return Path(data_dir) / "media" / f"{token}{POSTER_SUFFIX}"


def sheet_path(data_dir: str | os.PathLike[str], token: str) -> Path:
    return Path(data_dir) / "media" / f"{token}{SHEET_SUFFIX}"


def still_path(data_dir: str | os.PathLike[str], token: str, kind: str) -> Path:
    """``kind`` is "poster" or "sheet" (the media route's words)."""
    return Path(data_dir) / "media" / f"{token}{KINDS[kind]}"


def _fit(image: Image.Image, longest: int) -> Image.Image:
    scale = longest / max(image.size)
    if scale >= 1:
        return image
    return image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
    )


def _frames_at(video: Path, fractions: list[float]) -> list[Image.Image]:
    """One decoded frame at (or just after) each fraction of the video's length."""
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            base = stream.time_base
            if base is None:
                raise PosterError("The video has no time base.")
            duration = (container.duration or 0) / av.time_base or float((stream.duration or 0) * base)
            out: list[Image.Image] = []
            for fraction in fractions:
                target = max(0.0, min(duration * fraction, max(duration - 0.05, 0.0)))
                container.seek(int(target / base), stream=stream, backward=True)
                shown = None  # the frame on screen at ``target``: the last one that starts by then
                for frame in container.decode(stream):
                    if shown is not None and frame.time is not None and frame.time > target + 1e-3:
                        break
                    shown = frame
                if shown is not None:
                    out.append(shown.to_image())
    except (av.FFmpegError, IndexError, StopIteration, TypeError, ValueError) as exc:
        raise PosterError("The video could not be read to make its poster.") from exc
    if not out:
        raise PosterError("The video has no frame to make a poster from.")
    return out


def _save(image: Image.Image, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    try:
        image.convert("RGB").save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True)
        os.replace(tmp, path)  # the media route never serves half an image
    finally:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half image behind


def make(
    video: str | os.PathLike[str], data_dir: str | os.PathLike[str], token: str, *, with_sheet: bool = True
) -> None:
    """Write the poster and (unless ``with_sheet`` is False) the contact sheet of ``video`` for ``token``.

    Raises ``PosterError``. The poster alone is one decoded frame: what a card needs at
    once; the sheet (six more) can wait until someone opens the run's details.
    """
    video = Path(video)
    fractions = [POSTER_AT] + ([(i + 0.5) / SHEET_FRAMES for i in range(SHEET_FRAMES)] if with_sheet else [])
    frames = _frames_at(video, fractions)
    poster_file = poster_path(data_dir, token)
    poster_file.parent.mkdir(parents=True, exist_ok=True)
    _save(_fit(frames[0], POSTER_MAX), poster_file)
    if not with_sheet:
        return
    tiles = [_fit(f, SHEET_TILE_MAX) for f in frames[1:]] or [_fit(frames[0], SHEET_TILE_MAX)]
    w, h = tiles[0].size
    rows = -(-len(tiles) // SHEET_COLUMNS)
    sheet = Image.new("RGB", (w * min(len(tiles), SHEET_COLUMNS), h * rows), "black")
    for i, tile in enumerate(tiles):
        sheet.paste(tile.resize((w, h)), ((i % SHEET_COLUMNS) * w, (i // SHEET_COLUMNS) * h))
    _save(sheet, sheet_path(data_dir, token))


def ensure(data_dir: str | os.PathLike[str], token: str) -> bool:
    """Make the stills of an archived video that has none yet (runs saved before posters existed).

    Returns True when both exist afterwards; False if the video is missing or unreadable.
    """
    video = Path(data_dir) / "media" / f"{token}.mp4"
    if poster_path(data_dir, token).is_file() and sheet_path(data_dir, token).is_file():
        return True
    if not video.is_file():
        return False
    try:
        make(video, data_dir, token)
    except (PosterError, OSError):
        return False
    return True
