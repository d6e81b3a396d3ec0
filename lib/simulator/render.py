"""Render the simulator's stand-in video: an H.264/AAC MP4 slate that tells runs apart at a glance.

Runs in a worker process (see ``lib.simulator.engine``), never on the server's event
loop. Speed matters more than beauty: the background and all text are drawn once with
Pillow and converted to YUV once; each frame then only copies those planes and stamps
a moving circle, a progress bar and a frame counter with numpy.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FPS = 24
SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024  # AAC's fixed frame size
_COUNTER_CHARS = "0123456789/ "


@dataclass(frozen=True)
class RenderJob:
    """Everything the worker needs; plain values so it pickles cheaply."""

    path: str
    width: int
    height: int
    duration: int
    audio: bool
    prompt: str
    model: str
    quality: str
    aspect_ratio: str
    label: str = ""


# --- colours and shapes --------------------------------------------------------------------


def _digest(prompt: str) -> bytes:
    return hashlib.sha256(prompt.encode("utf-8")).digest()


def _palette(prompt: str) -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    """Two background colours and an accent, all from the prompt's hash."""
    import colorsys

    d = _digest(prompt)
    hue = d[0] / 255
    top = colorsys.hsv_to_rgb(hue, 0.55, 0.45)
    bottom = colorsys.hsv_to_rgb((hue + 0.08 + d[1] / 2550) % 1, 0.65, 0.18)
    accent = colorsys.hsv_to_rgb((hue + 0.5) % 1, 0.75, 0.95)
    to8 = lambda c: tuple(round(v * 255) for v in c)  # noqa: E731
    return to8(top), to8(bottom), to8(accent)


def _rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    # BT.601 limited range: what swscale uses for rgb24 -> yuv420p by default, so the
    # stamped shapes match the converted background.
    r, g, b = (v / 255 for v in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


def _px(size: int) -> int:
    return max(8, size)


# Noto Sans CJK SC cut down to Latin, punctuation and common Chinese (tools/make_slate_font.py; SIL OFL 1.1),
# so a Chinese prompt shows as characters, not as empty boxes.
FONT = Path(__file__).parent / "fonts" / "NotoSansSC-Slate.otf"


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(FONT), _px(size))


# --- the static slate ----------------------------------------------------------------------

# The slate's top line, in both of the app's languages: the simulator renders a video without
# knowing who will watch it. Its parts share one line where they fit, else take one each.
CAPTION = ("SIMULATED · 模拟", "Seedance Prompt Studio demo")


def _wrap(text: str, font, width: int) -> list[str]:
    """Greedy wrap by pixel width; long words (or CJK runs without spaces) split by character."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:
                if font.getlength(line + ch) > width and line:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return lines


def caption_lines(font, width: int) -> list[str]:
    """The caption as drawn ``width`` pixels wide: one line where it fits, else a line per part (wrapped)."""
    whole = " · ".join(CAPTION)
    if font.getlength(whole) <= width:
        return [whole]
    return [line for part in CAPTION for line in _wrap(part, font, width)]


def _fit_lines(lines: list[str], max_lines: int) -> list[str]:
    if len(lines) <= max_lines:
        return lines
    # The slate is for telling runs apart, not for reading the whole prompt.
    return [*lines[: max_lines - 1], lines[max_lines - 1].rstrip() + " …"]


def _background(job: RenderJob, top, bottom) -> Image.Image:
    w, h = job.width, job.height
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rgb = (1 - ramp) * np.array(top, np.float32) + ramp * np.array(bottom, np.float32)
    rgb = np.broadcast_to(rgb, (h, w, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(rgb), "RGB")


def _draw_text(img: Image.Image, job: RenderJob, accent) -> None:
    w, h = job.width, job.height
    unit = min(w, h)
    margin = max(12, unit // 18)
    draw = ImageDraw.Draw(img)
    small_px, body_px = _px(unit // 28), _px(unit // 20)
    small, body = _font(small_px), _font(body_px)
    small_h = int(small_px * 1.3)
    caption = caption_lines(small, w - 2 * margin)
    for i, line in enumerate(caption):
        draw.text((margin, margin + i * small_h), line, font=small, fill=accent)
    info = f"{job.model} · {job.quality} · {job.aspect_ratio} · {job.duration} s · audio {'on' if job.audio else 'off'}"
    info_lines = _wrap(info, small, w - 2 * margin)
    line_h = int(body_px * 1.25)
    top = margin + small_h * (len(caption) - 1) + int(small_px * 2.2)
    bottom_reserved = margin + int(small_px * 1.3) * (len(info_lines) + (2 if job.label else 1)) + unit // 10
    max_lines = max(1, (h - top - bottom_reserved) // line_h)
    for i, line in enumerate(_fit_lines(_wrap(job.prompt.strip(), body, w - 2 * margin), max_lines)):
        draw.text((margin, top + i * line_h), line, font=body, fill=(245, 245, 245))
    y = h - margin - unit // 12 - int(small_px * 1.3) * (len(info_lines) + (1 if job.label else 0))
    for line in info_lines + ([job.label] if job.label else []):
        draw.text((margin, y), line, font=small, fill=(230, 230, 230))
        y += int(small_px * 1.3)


def _to_yuv420(img: Image.Image) -> np.ndarray:
    """The slate as one flat yuv420p buffer (Y plane, then U, then V)."""
    frame = av.VideoFrame.from_ndarray(np.asarray(img), format="rgb24").reformat(format="yuv420p")
    return np.ascontiguousarray(frame.to_ndarray()).reshape(-1)


# --- per-frame stamps ----------------------------------------------------------------------


class _Planes:
    """Views of a flat yuv420p buffer as its three planes."""

    def __init__(self, flat: np.ndarray, w: int, h: int):
        n = w * h
        self.y = flat[:n].reshape(h, w)
        self.u = flat[n : n + n // 4].reshape(h // 2, w // 2)
        self.v = flat[n + n // 4 :].reshape(h // 2, w // 2)


def _disc_mask(radius: int) -> np.ndarray:
    """An anti-aliased disc of diameter 2*radius (even), alpha 0..1."""
    size = 2 * radius
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    dist = np.hypot(xx - radius, yy - radius)
    return np.clip(radius - dist + 0.5, 0.0, 1.0)


def _blend(plane: np.ndarray, x: int, y: int, alpha: np.ndarray, value: int) -> None:
    region = plane[y : y + alpha.shape[0], x : x + alpha.shape[1]]
    a = alpha[: region.shape[0], : region.shape[1]]
    region[...] = (region * (1 - a) + value * a).astype(np.uint8)


def _glyphs(size: int) -> tuple[dict[str, np.ndarray], int]:
    """Each counter character pre-rendered once as an alpha mask in a fixed-width cell."""
    font = _font(size)
    cell_w = int(max(font.getlength(c) for c in _COUNTER_CHARS)) + 2
    cell_h = int(size * 1.25)
    cell_w += cell_w % 2
    cell_h += cell_h % 2
    out = {}
    for ch in _COUNTER_CHARS:
        im = Image.new("L", (cell_w, cell_h), 0)
        ImageDraw.Draw(im).text((1, 0), ch, font=font, fill=255)
        out[ch] = np.asarray(im, dtype=np.float32) / 255
    return out, cell_w


class _Stamper:
    """Draws the moving parts of one frame into the planes: cheap numpy only."""

    def __init__(self, job: RenderJob, accent):
        w, h = job.width, job.height
        unit = min(w, h)
        self.w, self.h = w, h
        self.frames = job.duration * FPS
        self.radius = max(8, unit // 14) // 2 * 2
        self.disc = _disc_mask(self.radius)
        self.disc_uv = self.disc[::2, ::2]
        self.accent = _rgb_to_yuv(accent)
        self.glyphs, self.cell_w = _glyphs(max(10, unit // 26))
        self.bar_h = max(4, unit // 60) // 2 * 2
        self.bar_y = (h - self.bar_h - max(12, unit // 18) // 2) // 2 * 2
        phase = _digest(job.prompt)[2] / 255
        self.phase = phase * 2 * np.pi

    def stamp(self, p: _Planes, i: int) -> None:
        self._disc(p, i)
        self._bar(p, i)
        self._counter(p, i)

    def _disc(self, p: _Planes, i: int) -> None:
        t = i / FPS
        d = 2 * self.radius
        # A Lissajous path: smooth, never leaves the frame, differs per prompt (phase).
        cx = 0.5 + 0.42 * np.sin(2 * np.pi * t / 4.0 + self.phase)
        cy = 0.55 + 0.25 * np.sin(2 * np.pi * t / 2.6 + 2 * self.phase)
        x = int(cx * (self.w - d)) // 2 * 2
        y = int(cy * (self.h - d)) // 2 * 2
        yv, uv, vv = self.accent
        _blend(p.y, x, y, self.disc, yv)
        _blend(p.u, x // 2, y // 2, self.disc_uv, uv)
        _blend(p.v, x // 2, y // 2, self.disc_uv, vv)

    def _bar(self, p: _Planes, i: int) -> None:
        filled = int(self.w * (i + 1) / self.frames) // 2 * 2
        y0, y1 = self.bar_y, self.bar_y + self.bar_h
        yv, uv, vv = self.accent
        p.y[y0:y1, :filled] = yv
        p.u[y0 // 2 : y1 // 2, : filled // 2] = uv
        p.v[y0 // 2 : y1 // 2, : filled // 2] = vv

    def _counter(self, p: _Planes, i: int) -> None:
        text = f"{i + 1:>4}/{self.frames}"
        margin = max(12, min(self.w, self.h) // 18)
        x = self.w - margin - self.cell_w * len(text)
        y = margin
        for ch in text:
            mask = self.glyphs[ch]
            if ch != " ":
                _blend(p.y, x, y, mask, 235)
            x += self.cell_w


# --- audio --------------------------------------------------------------------------------


def tone_pattern(prompt: str, duration: int) -> np.ndarray:
    """A mono float32 melody, exactly ``duration`` seconds: pentatonic notes picked by the prompt's hash."""
    d = _digest(prompt)
    n = duration * SAMPLE_RATE
    note_len = SAMPLE_RATE // (2 + d[3] % 3)  # 1/2 .. 1/4 s per note
    base = 196.0 * 2 ** ((d[4] % 12) / 12)
    steps = np.array([0, 2, 4, 7, 9, 12, 14, 16], dtype=np.float32)
    notes = np.array([d[(5 + k) % len(d)] % len(steps) for k in range(-(-n // note_len))])
    freqs = base * 2 ** (steps[notes] / 12)
    idx = np.arange(n)
    freq = freqs[idx // note_len]
    pos = (idx % note_len) / note_len
    envelope = np.minimum(1.0, pos * 20) * (1 - pos) ** 1.5
    # Phase from each note's own start keeps the waveform continuous within a note.
    wave = np.sin(2 * np.pi * freq * (idx % note_len) / SAMPLE_RATE)
    return (0.25 * envelope * wave).astype(np.float32)


def _audio_stream(container):
    stream = container.add_stream("aac", rate=SAMPLE_RATE)
    stream.layout = "mono"
    stream.bit_rate = 64_000
    # A tone needs none of the default coder's search.
    stream.codec_context.options = {"aac_coder": "fast"}
    return stream


def _audio_frames(samples: np.ndarray):
    for start in range(0, len(samples), AUDIO_FRAME):
        chunk = samples[start : start + AUDIO_FRAME]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        yield frame


# --- the whole file -----------------------------------------------------------------------


def _video_stream(container, job: RenderJob):
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height = job.width, job.height
    stream.pix_fmt = "yuv420p"
    # One thread: renders already run side by side in the pool (``lib.simulator.queue``), where
    # x264's own threads would only contend with the other renders for the same cores.
    stream.codec_context.options = {"preset": "ultrafast", "crf": "26", "g": str(2 * FPS), "threads": "1"}
    return stream


def render(job: RenderJob) -> dict:
    """Write ``job.path`` atomically (temp file, then rename) and report how long it took."""
    started = time.perf_counter()
    top, bottom, accent = _palette(job.prompt)
    slate = _background(job, top, bottom)
    _draw_text(slate, job, accent)
    base = _to_yuv420(slate)
    stamper = _Stamper(job, accent)

    tmp = f"{job.path}.part"
    with av.open(tmp, "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = _video_stream(container, job)
        audio = _audio_stream(container) if job.audio else None
        _write_video(container, video, job, base, stamper)
        if audio is not None:
            for frame in _audio_frames(tone_pattern(job.prompt, job.duration)):
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    os.replace(tmp, job.path)
    return {"path": job.path, "seconds": time.perf_counter() - started, "bytes": Path(job.path).stat().st_size}


def _write_video(container, stream, job: RenderJob, base: np.ndarray, stamper: _Stamper) -> None:
    buf = np.empty_like(base)
    planes = _Planes(buf, job.width, job.height)
    shape = (job.height * 3 // 2, job.width)
    for i in range(job.duration * FPS):
        np.copyto(buf, base)
        stamper.stamp(planes, i)
        frame = av.VideoFrame.from_ndarray(buf.reshape(shape), format="yuv420p")
        frame.pts = i
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
