"""Rendered videos are real, browser-playable MP4s of exactly the requested size, length and tracks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from lib import catalog
from lib.simulator.render import FPS, SAMPLE_RATE, RenderJob, render, tone_pattern
from tests.support.simulator import AUTH, probe
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]

# A small sample across models x qualities x ratios; 4 s each but one.
SAMPLE = [
    ("seedance-2.0-text-to-video", "1080p", "16:9", 4, True),
    ("seedance-2.0-fast-text-to-video", "720p", "9:16", 4, False),
    ("seedance-2.0-mini-image-to-video", "480p", "21:9", 4, True),
    ("seedance-2.0-reference-to-video", "720p", "4:3", 6, False),
    ("seedance-2.0-fast-reference-to-video", "480p", "1:1", 4, True),
]


def _job(tmp_path, model, quality, ratio, duration, audio, prompt="A fox in the snow") -> RenderJob:
    width, height = catalog.PIXELS[ratio][quality]
    return RenderJob(
        path=str(tmp_path / f"{model}-{quality}-{ratio.replace(':', 'x')}.mp4"),
        width=width,
        height=height,
        duration=duration,
        audio=audio,
        prompt=prompt,
        model=model,
        quality=quality,
        aspect_ratio=ratio,
        label="task-unified-1-abcdefgh",
    )


@pytest.mark.slow
@pytest.mark.parametrize("model,quality,ratio,duration,audio", SAMPLE)
def test_render_matches_the_request_exactly(tmp_path, model, quality, ratio, duration, audio):
    job = _job(tmp_path, model, quality, ratio, duration, audio)
    render(job)
    info = probe(job.path)
    assert info["size"] == catalog.PIXELS[ratio][quality]
    assert info["fps"] == FPS and info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["frames"] == duration * FPS
    assert abs(info["video_seconds"] - duration) <= 1 / FPS
    assert info["audio"] is audio
    if audio:
        assert info["audio_codec"] == "aac" and abs(info["audio_seconds"] - duration) <= 1 / FPS
    data = Path(job.path).read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # faststart: playable while downloading
    assert not Path(job.path + ".part").exists()


def test_frames_move_and_prompts_look_different(tmp_path):
    import av

    a = _job(tmp_path, "seedance-2.0-text-to-video", "480p", "16:9", 4, False, prompt="first prompt")
    b = _job(tmp_path, "seedance-2.0-fast-text-to-video", "480p", "16:9", 4, False, prompt="a different prompt")
    render(a)
    render(b)

    def frames(path: str) -> list[np.ndarray]:
        with av.open(path) as c:
            return [f.to_ndarray(format="rgb24") for i, f in zip(range(30), c.decode(video=0), strict=False)]

    fa, fb = frames(a.path), frames(b.path)
    assert np.abs(fa[0].astype(int) - fa[29].astype(int)).mean() > 0.5  # something moves
    assert np.abs(fa[0].astype(int) - fb[0].astype(int)).mean() > 5  # colours follow the prompt


def test_tone_pattern_is_exact_length_and_prompt_specific():
    one, other = tone_pattern("rain", 5), tone_pattern("sun", 5)
    assert one.shape == (5 * SAMPLE_RATE,) and one.dtype == np.float32
    assert np.abs(one).max() <= 1.0 and np.abs(one).max() > 0.05
    assert not np.array_equal(one, other) and np.array_equal(one, tone_pattern("rain", 5))


def test_cli_serves_the_api(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "lib.simulator",
        "--port",
        str(port),
        "--speed",
        "10",
        "--balance",
        "123",
        "--data-dir",
        str(tmp_path),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )

    def answer() -> httpx.Response | None:
        assert proc.poll() is None, "the simulator exited"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/v1/credits", headers=AUTH, timeout=2)
        except httpx.TransportError:
            return None

    try:
        resp = wait_until(answer, interval=0.1, message="the simulator did not start")
        assert resp.json()["data"]["token"]["remaining_credits"] == 123
    finally:
        proc.terminate()
        proc.wait(10)
