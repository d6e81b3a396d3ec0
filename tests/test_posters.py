"""Posters and contact sheets: taken from the video itself, at the right moments, sized for a card."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from lib import posters

TOKEN = "T" * 32


def _video(path: Path, seconds: int = 6, size: tuple[int, int] = (1280, 720), fps: int = 4) -> Path:
    """Frames whose brightness encodes the second they belong to (second s is grey level 40·s)."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"preset": "ultrafast", "crf": "10"}
        for i in range(seconds * fps):
            level = 40 * (i // fps)
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), level, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _level(image: Image.Image) -> float:
    return float(np.asarray(image.convert("L")).mean())


def test_poster_and_sheet_come_from_the_video_at_their_moments(tmp_path):
    (tmp_path / "media").mkdir()
    video = _video(tmp_path / "media" / f"{TOKEN}.mp4")
    posters.make(video, tmp_path, TOKEN)
    poster = Image.open(posters.poster_path(tmp_path, TOKEN))
    assert max(poster.size) == posters.POSTER_MAX and poster.size == (640, 360)  # the video's shape, card-sized
    # 30% into a 6 s video is second 1 (grey 40), give or take the encoder's rounding.
    assert _level(poster) == pytest.approx(40 * int(6 * posters.POSTER_AT), abs=8)
    sheet = Image.open(posters.sheet_path(tmp_path, TOKEN))
    tile_w, tile_h = sheet.width // posters.SHEET_COLUMNS, sheet.height // 2
    levels = [
        _level(sheet.crop((c * tile_w, r * tile_h, (c + 1) * tile_w, (r + 1) * tile_h)))
        for r in range(2)
        for c in range(posters.SHEET_COLUMNS)
    ]
    # One tile per sixth of the video, in order: the sheet shows how the video moves.
    assert levels == pytest.approx([40 * s for s in range(6)], abs=8)


def test_ensure_makes_missing_stills_once_and_reports_unreadable_videos(tmp_path):
    (tmp_path / "media").mkdir()
    _video(tmp_path / "media" / f"{TOKEN}.mp4", seconds=4, size=(496, 864))
    assert posters.ensure(tmp_path, TOKEN) is True
    made = posters.poster_path(tmp_path, TOKEN).stat().st_mtime_ns
    assert posters.ensure(tmp_path, TOKEN) is True
    assert posters.poster_path(tmp_path, TOKEN).stat().st_mtime_ns == made  # not made again
    assert Image.open(posters.poster_path(tmp_path, TOKEN)).size == (
        round(496 * 640 / 864),
        640,
    )  # portrait stays portrait

    other = "U" * 32
    (tmp_path / "media" / f"{other}.mp4").write_bytes(b"not a video")
    assert posters.ensure(tmp_path, other) is False
    assert posters.ensure(tmp_path, "V" * 32) is False  # no video at all
    assert not posters.poster_path(tmp_path, other).exists()
    assert not list((tmp_path / "media").glob("*.part"))
