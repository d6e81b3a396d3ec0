"""Chinese prompts on the demo slates are drawn with real glyphs, not with empty boxes."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from lib.simulator import render
from lib.simulator.render import RenderJob


def _slate(prompt: str) -> np.ndarray:
    job = RenderJob(
        path="unused.mp4",
        width=854,
        height=480,
        duration=4,
        audio=False,
        prompt=prompt,
        model="seedance-2.0-text-to-video",
        quality="480p",
        aspect_ratio="16:9",
    )
    img = Image.new("RGB", (job.width, job.height), (0, 0, 0))
    render._draw_text(img, job, (200, 200, 200))
    return np.asarray(img).astype(int)


def _glyph(ch: str) -> np.ndarray:
    img = Image.new("L", (80, 80), 0)
    ImageDraw.Draw(img).text((4, 4), ch, font=render._font(64), fill=255)
    return np.asarray(img).astype(int)


def test_two_chinese_characters_draw_as_two_different_shapes():
    # A font without the glyphs draws the same empty box for both.
    shan, shui, missing = _glyph("山"), _glyph("水"), _glyph("\U000f0000")  # the last: a private-use point
    assert (shan > 128).sum() > 100 and (shui > 128).sum() > 100  # both have ink
    assert np.abs(shan - shui).mean() > 10
    assert np.abs(shan - missing).mean() > 10 and np.abs(shui - missing).mean() > 10


def test_a_chinese_prompt_changes_the_slate_where_its_words_are():
    one, other = _slate("一只狐狸在雪地里奔跑"), _slate("一只猫在雨中的屋顶上睡觉")
    same_a, same_b = _slate("一只狐狸在雪地里奔跑"), _slate("一只狐狸在雪地里奔跑")
    assert np.array_equal(same_a, same_b)
    differs = np.abs(one - other).sum(axis=2) > 0
    assert differs.sum() > 500  # whole characters differ, not a box outline here and there
    rows = np.nonzero(differs.any(axis=1))[0]
    assert rows.min() > 480 // 10 and rows.max() < 480 * 2 // 3  # in the prompt's lines, not the caption


def test_common_chinese_characters_and_mixed_text_all_have_glyphs():
    missing = _glyph("\U000f0000")
    text = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    for ch in text + "Seedance2.0·16:9…，。！？「」":
        drawn = _glyph(ch)
        assert (drawn > 128).any() and not np.array_equal(drawn, missing), ch
