"""Reference-video probes: two small ranges at most, every request through the network guard (no network used)."""

from __future__ import annotations

import re
import socket
from fractions import Fraction

import av
import httpx
import numpy as np
import pytest

from lib import net, probe


def mp4(seconds: int = 3, fps: int = 10, faststart: bool = False, pad: int = 0) -> bytes:
    """An MP4 whose index (moov) is at the end unless ``faststart``; ``pad`` frames of noise make it long."""
    import tempfile
    from pathlib import Path

    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / "clip.mp4"  # faststart rewrites the file: a real one, not a buffer
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, fps)
        rng = np.random.default_rng(1)
        for i in range(seconds * fps):
            img = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) if pad else np.full((48, 64, 3), i, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with folder:
        return path.read_bytes()


class RangeServer:
    """Serves one file with (or without) Range support; notes every request."""

    def __init__(self, body: bytes, ranges: bool = True, redirects: dict[str, str] | None = None) -> None:
        self.body = body
        self.ranges = ranges
        self.redirects = redirects or {}
        self.seen: list[tuple[str, str | None]] = []
        self.sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((str(request.url), request.headers.get("range")))
        if request.url.path in self.redirects:
            return httpx.Response(302, headers={"location": self.redirects[request.url.path]})
        header = request.headers.get("range")
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", header or "")
        if not self.ranges or m is None:
            self.sent += len(self.body)
            return httpx.Response(200, content=self.body)
        first, last = int(m.group(1)), min(int(m.group(2)), len(self.body) - 1)
        part = self.body[first : last + 1]
        self.sent += len(part)
        return httpx.Response(206, content=part, headers={"content-range": f"bytes {first}-{last}/{len(self.body)}"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


URL = "https://cdn.example.com/ref.mp4"


def test_a_web_ready_file_is_read_from_its_head_alone():
    server = RangeServer(mp4(seconds=3, faststart=True, pad=1))
    assert len(server.body) > 4096
    seconds = probe.video_seconds(URL, client=server.client(), head_bytes=4096)
    assert seconds == pytest.approx(3.0, abs=0.15)
    assert [r for _, r in server.seen] == ["bytes=0-4095"]


def test_an_index_at_the_end_is_read_from_the_tail_never_the_middle():
    body = mp4(seconds=3, faststart=False, pad=1)
    server = RangeServer(body)
    seconds = probe.video_seconds(URL, client=server.client(), head_bytes=2048, tail_bytes=4096)
    assert seconds == pytest.approx(3.0, abs=0.15)
    assert [r for _, r in server.seen] == ["bytes=0-2047", f"bytes={len(body) - 4096}-{len(body) - 1}"]
    assert server.sent == 2048 + 4096 < len(body)


def test_without_range_support_only_the_head_is_kept():
    server = RangeServer(mp4(seconds=2, faststart=True), ranges=False)
    assert probe.video_seconds(URL, client=server.client()) == pytest.approx(2.0, abs=0.15)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    "hop", ["http://127.0.0.1:8501/api/health", "http://169.254.169.254/latest", "file:///etc/passwd"]
)
def test_a_redirect_off_the_public_internet_is_never_followed(hop):
    server = RangeServer(mp4(), redirects={"/ref.mp4": hop})
    assert probe.video_seconds(URL, client=server.client()) is None
    assert [u for u, _ in server.seen] == [URL]


def test_redirects_to_public_hosts_are_followed_hop_by_hop():
    server = RangeServer(mp4(seconds=2, faststart=True), redirects={"/ref.mp4": "https://cdn2.example.com/v.mp4"})
    assert probe.video_seconds(URL, client=server.client()) == pytest.approx(2.0, abs=0.15)
    assert [u for u, _ in server.seen] == [URL, "https://cdn2.example.com/v.mp4"]


def test_a_name_resolving_to_a_private_address_is_refused_without_connecting(monkeypatch):
    def no_connect(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_connect)
    client = net.guarded_client(resolve=lambda host, port: ["192.168.1.20"])
    assert probe.video_seconds("https://intranet.example/ref.mp4", client=client) is None


@pytest.mark.parametrize("url", ["ftp://cdn.example.com/a.mp4", "file:///etc/passwd", "http://localhost/a.mp4"])
def test_what_is_not_a_public_http_link_is_not_opened(url):
    server = RangeServer(mp4())
    assert probe.video_seconds(url, client=server.client()) is None
    assert server.seen == []


def test_garbage_and_errors_are_none():
    assert probe.video_seconds(URL, client=RangeServer(b"not a video" * 100).client()) is None
    gone = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    assert probe.video_seconds(URL, client=gone) is None
