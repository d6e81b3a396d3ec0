"""Tiny real video files for tests that download, verify or serve one."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

_made: dict[tuple, bytes] = {}


def make_mp4(seconds: float = 4, width: int = 864, height: int = 496, fps: int = 4) -> bytes:
    """A real H.264 MP4 with few frames, so it encodes in milliseconds (made once per size, then reused)."""
    key = (seconds, width, height, fps)
    if key not in _made:
        buf = io.BytesIO()
        with av.open(buf, "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = Fraction(1, fps)
            stream.options = {"preset": "ultrafast"}
            for i in range(int(seconds * fps)):
                img = np.full((height, width, 3), (i * 20) % 255, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = i
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        _made[key] = buf.getvalue()
    return _made[key]
