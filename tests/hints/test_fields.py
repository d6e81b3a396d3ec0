"""Settings written into the prompt: aspect ratios, resolutions, web search, media references."""

from __future__ import annotations

import pytest

from lib import catalog

from . import FAST_TEXT, IMAGE, REFERENCE, TEXT, codes, hints_of

# --------------------------------------------------------------------------------------
# Messages name the value to choose
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "advice"),
    [
        ("A dancer spins, 9:16 vertical", "Set Aspect ratio to 9:16 instead"),
        ("A cat, 1:1 square", "Set Aspect ratio to 1:1 instead"),
        ("A desert road in 2.35:1.", "21:9 is the closest"),
        ("A desert road, 2.39:1", "21:9 is the closest"),
        ("A desert road, 1.85:1", "16:9 is the closest"),
    ],
)
def test_aspect_ratio_message_names_field_value(prompt, advice):
    (h,) = hints_of(prompt, "aspect-ratio-in-prompt")
    assert advice in h.message
    assert h.severity == "warning"


@pytest.mark.parametrize(
    ("model", "prompt", "advice"),
    [
        (TEXT, "A forest, 1080p", "Set Quality to 1080p instead"),
        (TEXT, "A forest, 720p", "Set Quality to 720p instead"),
        (FAST_TEXT, "A forest, 1080p", "up to 720p"),
        (TEXT, "A forest, 4K", "set Quality to 1080p"),
        (FAST_TEXT, "A forest, 8K", "set Quality to 720p"),
    ],
)
def test_resolution_message_names_quality(model, prompt, advice):
    (h,) = hints_of(prompt, "resolution-in-prompt", model=model)
    assert advice in h.message


# --------------------------------------------------------------------------------------
# Web search: only on models that have it, only while it is off
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", list(catalog.MODELS))
def test_web_search_suggested_only_where_available(model_id):
    prompt = "The latest phone on a table today, close-up, neon light"
    fired = "web-search-suggested" in codes(prompt, model=model_id, images=1)
    assert fired == catalog.MODELS[model_id].web_search
    assert fired == (model_id in (TEXT, FAST_TEXT))


@pytest.mark.parametrize(
    ("prompt", "word"),
    [
        ("The latest phone spins on a table", "latest"),
        ("Fireworks over the river tonight", "tonight"),
        ("A parade this week in Paris", "this week"),
        ("Breaking news on a giant screen", "Breaking"),
        ("今年最受欢迎的球鞋在旋转", "今年"),
        ("目前最热门的手机", "目前"),
    ],
)
def test_web_search_span_is_the_time_word(prompt, word):
    (h,) = hints_of(prompt, "web-search-suggested")
    assert prompt[h.start : h.end] == word
    assert h.severity == "info" and h.fix is None


def test_web_search_quiet_when_already_on_or_timeless():
    assert "web-search-suggested" not in codes("The latest phone on a table", web_search=True)
    assert "web-search-suggested" not in codes("A phone spins on a marble table")


# --------------------------------------------------------------------------------------
# Media references
# --------------------------------------------------------------------------------------

MEDIA_CASES = [
    # (model, prompt, images, videos, audios, flagged references)
    (TEXT, "@image1 walks toward @video1 to @audio1", 0, 0, 0, ["@image1", "@video1", "@audio1"]),
    (IMAGE, "@image1 turns into @image2", 2, 0, 0, []),
    (IMAGE, "@image1 turns into @image2", 1, 0, 0, ["@image2"]),
    (IMAGE, "@image1 dances to @audio1 like @video1", 1, 0, 0, ["@audio1", "@video1"]),
    (REFERENCE, "@image1 dances like @video1 to @audio1", 1, 1, 1, []),
    (REFERENCE, "@image1 and @image3 dance", 2, 1, 0, ["@image3"]),
    (REFERENCE, "@image0 dances like @video2", 1, 1, 0, ["@image0", "@video2"]),
    (REFERENCE, "@Image1 dances to @audio1", 1, 0, 0, ["@audio1"]),
    (REFERENCE, "@image dances", 1, 0, 0, ["@image"]),
    (REFERENCE, "mail me at me@image1.com, @image1 waves", 1, 0, 0, []),
]


@pytest.mark.parametrize(("model", "prompt", "images", "videos", "audios", "flagged"), MEDIA_CASES)
def test_media_references(model, prompt, images, videos, audios, flagged):
    found = hints_of(prompt, "media-reference", model=model, images=images, videos=videos, audios=audios)
    assert [prompt[h.start : h.end] for h in found] == flagged
    assert all(h.severity == "error" and h.fix is None for h in found)


def test_media_reference_messages_are_specific():
    (h,) = hints_of("@image3 waves", "media-reference", model=REFERENCE, images=2)
    assert "3rd image" in h.message and "only 2 images" in h.message
    (h,) = hints_of("@image1 waves", "media-reference", model=TEXT)
    assert "Text-to-video takes no images" in h.message
