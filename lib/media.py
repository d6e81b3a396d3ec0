"""What the media route serves: the addresses of a run's video and stills, the file each names, and download names.

Three files per archived video, all named by its random token::

    /api/media/<token>              the MP4 (with Range requests)
    /api/media/<token>/poster.jpg   one frame, shown on the card until someone presses play
    /api/media/<token>/sheet.jpg    six frames in a grid, to compare motion without playing

Anything else under the prefix is not found. A download is named after the run's
prompt and id, as plain ASCII with the exact words in RFC 5987's ``filename*``.

Example:
    >>> url("a" * 32, "poster")
    '/api/media/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/poster.jpg'
    >>> parse("a" * 32 + "/sheet.jpg"), parse("../../etc/passwd")
    (('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'sheet'), None)
    >>> download_name("Ein Fuchs läuft über den Schnee", "r4nd0m1d")
    'ein-fuchs-lauft-uber-den-schnee-r4nd0m1d.mp4'
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from lib import archive, posters
from lib.settings import MEDIA_PREFIX

Kind = Literal["video", "poster", "sheet"]
# The still's file name in the URL, per kind (the video has none: it is the token itself).
STILL_NAMES: dict[str, Kind] = {"poster.jpg": "poster", "sheet.jpg": "sheet"}
MEDIA_TYPES: dict[Kind, str] = {"video": "video/mp4", "poster": "image/jpeg", "sheet": "image/jpeg"}

NAME_WORDS = 8  # words of the prompt in a download's name
NAME_CHARS = 60  # characters of the prompt part, at most
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]+")

# Stills made on demand for videos archived before posters existed: one at a time, and a
# video that could not be read is not tried again until the server restarts.
_making = threading.Lock()
_unreadable: set[str] = set()


def url(token: str, kind: Kind = "video") -> str:
    """The root-relative address of a token's video or still."""
    if kind == "video":
        return f"{MEDIA_PREFIX}{token}"
    return f"{MEDIA_PREFIX}{token}/{kind}.jpg"


def parse(rest: str) -> tuple[str, Kind] | None:
    """``(token, kind)`` for the part of a path after the media prefix, or None if it names nothing."""
    token, _, still = rest.partition("/")
    if not archive.valid_token(token):
        return None
    if not still:
        return None if rest.endswith("/") else (token, "video")
    kind = STILL_NAMES.get(still)
    return (token, kind) if kind else None


def file_for(data_dir: str | os.PathLike[str], token: str, kind: Kind) -> Path | None:
    """The file to serve, or None. A missing still of a saved video is made now (once, bounded)."""
    video = archive.media_path(data_dir, token)
    if video is None:
        return None
    if kind == "video":
        return video
    path = posters.still_path(data_dir, token, kind)
    if path.is_file():
        return path
    if token in _unreadable:
        return None
    with _making:
        if not posters.ensure(data_dir, token):
            _unreadable.add(token)
            return None
    return path if path.is_file() else None


def _slug(prompt: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode().lower()
    words = [w for w in _NOT_ASCII_WORD.split(ascii_text) if w][:NAME_WORDS]
    return "-".join(words)[:NAME_CHARS].strip("-")


def download_name(prompt: str, run_id: str) -> str:
    """A safe ASCII file name from the prompt's first words and the run id (``run-<id>.mp4`` if none are ASCII)."""
    slug = _slug(prompt)
    return f"{slug}-{run_id}.mp4" if slug else f"run-{run_id}.mp4"


def content_disposition(prompt: str, run_id: str) -> str:
    """``attachment`` with the ASCII name, plus the prompt's own words as UTF-8 (``filename*``) when they differ.

    >>> print(content_disposition("夜の東京", "r4nd0m1d"))
    attachment; filename="run-r4nd0m1d.mp4"; filename*=UTF-8''%E5%A4%9C%E3%81%AE%E6%9D%B1%E4%BA%AC-r4nd0m1d.mp4
    """
    ascii_name = download_name(prompt, run_id)
    words = "-".join(prompt.split()[:NAME_WORDS])[:NAME_CHARS]
    # Only characters that are safe in a file name on every system go into the UTF-8 name too.
    words = "".join(ch for ch in words if ch.isalnum() or ch in "-_").strip("-")
    utf8_name = f"{words}-{run_id}.mp4" if words else ascii_name
    header = f'attachment; filename="{ascii_name}"'
    if utf8_name.lower() != ascii_name:
        header += f"; filename*=UTF-8''{quote(utf8_name, safe='')}"
    return header
