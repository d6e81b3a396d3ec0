"""Fixes that keep the meaning: written words stay unspoken, settings move into their fields, titles in plain words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lib.hints
from lib.hints import TITLES, apply_fixes, lint, settings_of

from . import FAST_TEXT, TEXT, codes, hints_of

WRITTEN = [
    "A neon sign reading “OPEN” flickers above the door.",
    "A bar called “Moe’s” on a rainy corner, night.",
    "The book titled “Dune” lies on the table.",
    "A runner in a T-shirt that says “Hello” jogs past.",
    "Graffiti: a wall with the word «LIBERTÉ» sprayed in red.",
    "一块写着“营业中”的招牌在风中摇晃。",
]


@pytest.mark.parametrize("prompt", WRITTEN)
def test_fix_all_never_turns_written_words_into_dialogue(prompt):
    found = lint(prompt, model=TEXT)
    assert "curly-quotes" not in [h.code for h in found]
    [written] = hints_of(prompt, "quoted-text")
    assert written.fix is None and written.severity == "info" and "will not speak it" in written.message
    assert apply_fixes(prompt, found) == prompt


@pytest.mark.parametrize(
    ("prompt", "fixed"),
    [
        ("She says: “Open the door.”", 'She says: "Open the door."'),
        ("The sign painter shouts “Stop!” at the kids.", 'The sign painter shouts "Stop!" at the kids.'),
        ("Narrator: “The sign read OPEN.”", 'Narrator: "The sign read OPEN."'),
    ],
)
def test_speech_is_still_fixed_to_straight_quotes(prompt, fixed):
    assert apply_fixes(prompt, lint(prompt, model=TEXT)) == fixed


@pytest.mark.parametrize(
    ("prompt", "fixed", "settings"),
    [
        ("A dancer spins, 9:16 vertical", "A dancer spins", {"aspect_ratio": "9:16"}),
        ("A desert road in 2.35:1.", "A desert road.", {"aspect_ratio": "21:9"}),
        ("cinematic, 4K, shallow depth of field", "cinematic, shallow depth of field", {"quality": "1080p"}),
        ("A harbor at dawn, 1080p", "A harbor at dawn", {"quality": "1080p"}),
        ("A fox, 16:9, 480p", "A fox", {"aspect_ratio": "16:9", "quality": "480p"}),
    ],
)
def test_a_fix_moves_the_setting_into_its_field_as_it_removes_the_words(prompt, fixed, settings):
    found = lint(prompt, model=TEXT)
    assert apply_fixes(prompt, found) == fixed
    assert settings_of(found) == settings


def test_a_model_without_1080p_is_offered_its_best_quality():
    [hint] = hints_of("A fox in snow, 4K", "resolution-in-prompt", model=FAST_TEXT)
    assert hint.setting == ("quality", "720p")


def test_words_that_cannot_be_removed_still_offer_the_setting():
    [hint] = hints_of("A 16:9 shot of a cat", "aspect-ratio-in-prompt")
    assert hint.fix is None and hint.setting == ("aspect_ratio", "16:9")


def test_no_hint_asks_for_a_value_already_set():
    [ratio] = hints_of("A dancer spins, 9:16 vertical", "aspect-ratio-in-prompt", aspect_ratio="9:16")
    assert ratio.setting is None and ratio.fix == "" and "already 9:16" in ratio.message
    assert "Set Aspect ratio" not in ratio.message
    [quality] = hints_of("A harbor at dawn, 4K", "resolution-in-prompt", quality="1080p")
    assert quality.setting is None and "already 1080p" in quality.message
    # Another value set: the hint still asks for the one the words name.
    [ratio] = hints_of("A dancer spins, 9:16 vertical", "aspect-ratio-in-prompt", aspect_ratio="16:9")
    assert ratio.setting == ("aspect_ratio", "9:16") and "Set Aspect ratio to 9:16" in ratio.message
    assert "web-search-suggested" not in codes("The latest phone, close-up, soft light", web_search=True)


def test_every_hint_code_has_a_title_in_plain_words():
    sources = "".join(p.read_text(encoding="utf-8") for p in Path(lib.hints.__file__).parent.glob("*.py"))
    used = set(re.findall(r'code="([a-z-]+)"', sources)) | set(re.findall(r'Hint\("([a-z-]+)"', sources))
    assert used - {"x", "y"} <= set(TITLES), used - set(TITLES)
    for code, title in TITLES.items():
        assert title[0].isupper() and "-" not in title and title.lower() != code.replace("-", " ")
