"""Every demo slate says it is simulated in English and in 中文, on one line that stays inside the frame."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from lib import catalog
from lib.simulator import render
from lib.simulator.render import RenderJob

ACCENT = (255, 0, 255)  # the caption's colour here: nothing else on the slate is magenta
PROMPT = "A lighthouse keeper climbs a spiral staircase at dusk, slow dolly in, warm lamp light, waves below"
SIZES = [(ratio, quality, *size) for ratio, sizes in catalog.PIXELS.items() for quality, size in sizes.items()]


def _job(width: int, height: int, **extra) -> RenderJob:
    fields = {
        "path": "unused.mp4",
        "width": width,
        "height": height,
        "duration": 4,
        "audio": False,
        "prompt": PROMPT,
        "model": "seedance-2.0-text-to-video",
        "quality": "480p",
        "aspect_ratio": "9:16",
        "label": "task-unified-1761200000-ab12cd34",
    }
    return RenderJob(**{**fields, **extra})


def _slate(width: int, height: int) -> np.ndarray:
    img = Image.new("RGB", (width, height), (0, 0, 0))
    render._draw_text(img, _job(width, height), ACCENT)
    return np.asarray(img).astype(int)


def _caption_ink(slate: np.ndarray) -> np.ndarray:
    r, g, b = slate[..., 0], slate[..., 1], slate[..., 2]
    return (r > 128) & (b > 128) & (g < 40)


def _word(text: str, size: int) -> np.ndarray:
    """``text`` alone in the slate's font, as ink (True) cropped to its box."""
    img = Image.new("L", (size * (len(text) + 2) * 2, size * 3), 0)
    ImageDraw.Draw(img).text((size, size // 2), text, font=render._font(size), fill=255)
    ink = np.asarray(img) > 128
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _found(word: np.ndarray, ink: np.ndarray) -> float:
    """How well ``word`` matches somewhere in ``ink`` (intersection over union of the best place)."""
    best = 0.0
    h, w = word.shape
    for y in range(ink.shape[0] - h + 1):
        for x in range(ink.shape[1] - w + 1):
            patch = ink[y : y + h, x : x + w]
            union = (patch | word).sum()
            if union:
                best = max(best, (patch & word).sum() / union)
    return best


def test_the_caption_says_simulated_in_english_and_in_chinese():
    width, height = catalog.PIXELS["9:16"]["480p"]  # the narrowest slate
    slate = _slate(width, height)
    ink = _caption_ink(slate)
    rows = np.nonzero(ink.any(axis=1))[0]
    band = ink[rows.min() - 2 : rows.max() + 3]
    size = render._px(min(width, height) // 28)
    # Drawn glyph by glyph from the same font, then found on the slate: the words are there, not just ink.
    for text in ("SIMULATED", "模拟"):
        assert _found(_word(text, size), band) > 0.9, text
    for text in ("演示", "水"):  # words the caption does not have are not found
        assert _found(_word(text, size), band) < 0.6, text


@pytest.mark.parametrize(("ratio", "quality", "width", "height"), SIZES, ids=[f"{r}-{q}" for r, q, *_ in SIZES])
def test_the_caption_fits_every_slate_above_the_prompt(ratio, quality, width, height):
    slate = _slate(width, height)
    ink = _caption_ink(slate)
    assert ink.any()
    margin = max(12, min(width, height) // 18)
    cols = np.nonzero(ink.any(axis=0))[0]
    assert cols.min() >= margin - 2 and cols.max() <= width - margin // 2, (cols.min(), cols.max(), width)
    rows = np.nonzero(ink.any(axis=1))[0]
    prompt_rows = np.nonzero((slate[..., 1] > 120).any(axis=1))[0]  # the prompt and the settings, in white
    assert rows.max() < prompt_rows.min()  # the caption does not run into the prompt


def test_a_rendered_video_carries_the_caption(tmp_path):
    width, height = catalog.PIXELS["9:16"]["480p"]
    job = _job(width, height, path=str(tmp_path / "slate.mp4"))
    render.render(job)
    with av.open(job.path) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    unit = min(width, height)
    margin, size = max(12, unit // 18), render._px(unit // 28)
    band = frame[margin - 4 : margin + int(size * 1.6)]
    ink = np.abs(band - np.median(band, axis=(0, 1))).sum(axis=2) > 150  # the accent on the slate's gradient
    assert _found(_word("模拟", size), ink) > 0.6
    assert _found(_word("SIMULATED", size), ink) > 0.6


def test_a_caption_too_wide_for_one_line_takes_a_line_per_part():
    font = render._font(17)
    assert render.caption_lines(font, 10_000) == ["SIMULATED · 模拟 · Seedance Prompt Studio demo"]
    narrow = render.caption_lines(font, 200)
    assert narrow[0] == "SIMULATED · 模拟" and " ".join(narrow[1:]) == "Seedance Prompt Studio demo"
    assert all(font.getlength(line) <= 200 for line in narrow)
