"""CSV batches: headers, booleans, blanks and defaults, bad rows with plain messages, file problems, the template."""

from __future__ import annotations

import doctest

import pytest

from lib import batch, catalog, pricing
from lib.batch import parse_csv

HEADER = "prompt,model,duration,quality,aspect_ratio,generate_audio,content_filter,web_search\n"


def _rows(text: str):
    return parse_csv(text).rows


def test_good_rows_become_requests_with_costs_and_a_total():
    b = parse_csv(
        HEADER
        + "A fox in snow,seedance-2.0-text-to-video,8,720p,16:9,yes,yes,no\n"
        + "A boat,seedance-2.0-fast-text-to-video,4,480p,9:16,no,,\n"
    )
    assert not b.problems and [r.valid for r in b.rows] == [True, True]
    first, second = b.rows
    assert first.request.duration == 8 and first.request.generate_audio is True and first.request.web_search is False
    assert second.request.generate_audio is False and second.request.content_filter is None
    assert first.estimate.credits == pytest.approx(8 * pricing.load_rates().rate("standard", "720p").without_video)
    assert b.total.credits == pytest.approx(first.estimate.credits + second.estimate.credits)
    assert [line.label for line in b.total.lines] == ["Row 2: A fox in snow", "Row 3: A boat"]


def test_headers_tolerate_case_whitespace_and_hyphens():
    b = parse_csv(" Prompt ,MODEL, Aspect-Ratio ,Generate Audio\nA cat,,1:1,TRUE\n")
    row = b.rows[0]
    assert row.valid and row.request.aspect_ratio == "1:1" and row.request.generate_audio is True
    assert row.request.model == catalog.DEFAULT_MODEL  # blank model = the default


@pytest.mark.parametrize(
    "word, value",
    [
        ("yes", True),
        ("No", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        (" on ", True),
        ("off", False),
        ("", None),
    ],
)
def test_switch_words(word, value):
    assert batch.parse_switch("generate_audio", word) is value


def test_blank_cells_mean_the_api_defaults():
    row = _rows(HEADER + "A cat,,,,,,,\n")[0]
    assert row.valid
    assert row.request.to_payload() == {"model": catalog.DEFAULT_MODEL, "prompt": "A cat"}
    assert row.estimate.credits == pytest.approx(pricing.estimate(row.request).credits)


def test_duration_written_as_a_spreadsheet_float_is_accepted():
    assert _rows("prompt,duration\nA cat,8.0\n")[0].request.duration == 8


def test_bad_rows_say_why_and_are_not_sent():
    b = parse_csv(
        HEADER
        + "Too long,,16,,,,,\n"
        + "Unknown model,seedance-3.0-ultra,,,,,,\n"
        + "Fast in HD,seedance-2.0-fast-text-to-video,,1080p,,,,\n"
        + ",,5,,,,,\n"
        + "Maybe audio,,,,,maybe,,\n"
        + "Fine,,,,,,,\n"
    )
    by_prompt = {r.prompt: r for r in b.rows}
    assert by_prompt["Too long"].errors == {
        "duration": "Duration: a whole number of seconds from 4 to 15 (you gave 16)."
    }
    assert (
        by_prompt["Unknown model"]
        .errors["model"]
        .startswith(
            "Model: 'seedance-3.0-ultra' is not a Seedance 2.0 model. Write it as the Studio shows it (Text to video"
        )
    )
    assert by_prompt["Fast in HD"].errors["quality"] == (
        "Quality: Text to video · fast offers 480p or 720p; 1080p needs a standard model."
    )
    assert by_prompt[""].errors["prompt"] == "Prompt: write what should happen in the video; it cannot be empty."
    assert (
        by_prompt["Maybe audio"].errors["generate_audio"]
        == "Generate audio: write yes or no (or true/false, 1/0), not 'maybe'."
    )
    assert [r.line for r in b.rows if not r.valid] == [2, 3, 4, 5, 6]
    assert [r.line for r in b.valid_rows] == [7]
    assert all(r.estimate is None for r in b.rows if not r.valid)
    assert len(b.total.lines) == 1


def test_words_as_duration_are_named_in_the_message():
    row = _rows("prompt,duration\nA cat,eight\n")[0]
    assert row.errors["duration"] == "Duration: a whole number of seconds from 4 to 15 (you gave 'eight')."


def test_a_one_megabyte_cell_is_refused_without_flooding_the_screen():
    huge = "word " * 200_000  # 1 MB of prompt
    b = parse_csv("prompt,duration\n" + huge + ",5\nA cat,5\n")
    big, small = b.rows
    assert not big.valid and big.errors["prompt"].startswith("Prompt: about 250,000 tokens, over the limit of 10,000")
    assert len(big.preview) <= batch.PREVIEW_CHARS and big.hints == []
    assert len(big.label) < 60
    assert small.valid


def test_hints_are_attached_to_rows():
    row = _rows("prompt\nShe says “Hello.” 9:16 vertical\n")[0]
    codes = [h.code for h in row.hints]
    assert "curly-quotes" in codes and "aspect-ratio-in-prompt" in codes


def test_file_level_problems():
    assert parse_csv("").problems == ["The file is empty: it needs a header row with a prompt column."]
    assert "needs a column named prompt" in parse_csv("text,duration\nA cat,5\n").problems[0]
    assert "not UTF-8" in parse_csv(b"prompt\n\xff\xfe\xfa caf\xe9\n").problems[0]
    unknown = parse_csv("prompt,colour\nA cat,red\n")
    assert unknown.rows[0].valid and "'colour' is not a setting" in unknown.problems[0]
    assert parse_csv("prompt\n").problems == ["The file has no rows with a prompt."]
    assert "at most 5 MB" in parse_csv(b"prompt\n" + b"x" * (batch.MAX_BYTES + 1)).problems[0]


def test_blank_lines_and_empty_rows_are_skipped_and_rows_are_capped():
    b = parse_csv("prompt,duration\n\nA cat,5\n,\n")
    assert [(r.line, r.prompt) for r in b.rows] == [(3, "A cat")]  # line numbers as the file has them
    many = parse_csv("prompt\n" + "".join(f"Cat {i}\n" for i in range(batch.MAX_ROWS + 5)))
    assert len(many.rows) == batch.MAX_ROWS and "only the first 200" in many.problems[0]


def test_utf8_bom_and_cjk_prompts():
    row = parse_csv("\ufeffprompt\n一只猫在雪地里奔跑\n".encode()).rows[0]
    assert row.valid and row.request.prompt == "一只猫在雪地里奔跑"


def test_template_parses_cleanly():
    b = parse_csv(batch.template_csv())
    assert not b.problems and len(b.rows) == 3 and all(r.valid for r in b.rows)
    assert b.rows[2].request.image_urls == (catalog.MEDIA["image"].example,)  # an image model needs its image
    assert batch.template_csv().decode().splitlines()[0] == ",".join(batch.COLUMNS)


def test_doctests():
    result = doctest.testmod(batch)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("written", "model"),
    [
        ("Text to video · fast", "seedance-2.0-fast-text-to-video"),
        ("text to video · FAST", "seedance-2.0-fast-text-to-video"),
        ("Seedance-2.0-Mini-Text-To-Video", "seedance-2.0-mini-text-to-video"),
        ("Reference to video · standard", "seedance-2.0-reference-to-video"),
    ],
)
def test_models_as_the_studio_shows_them_are_accepted(written, model):
    [row] = _rows(f"prompt,model,image_urls\nA cat naps,{written},https://example.com/cat.png\n")
    assert row.values["model"] == model


def test_an_unknown_model_is_named_in_the_rows_problem():
    [row] = _rows("prompt,model\nA cat naps,Sora\n")
    assert not row.valid and "Sora" in " ".join(row.errors.values())


def test_a_long_unknown_model_is_named_shortened_with_an_ellipsis():
    written = "Seedance " + "ultra " * 20
    [row] = _rows(f"prompt,model\nA cat naps,{written}\n")
    problem = row.errors["model"]
    assert f"{written.strip()[:39]}…" in problem and written.strip() not in problem


def test_link_columns_let_image_and_reference_models_be_batched():
    b = parse_csv(
        "prompt,model,images,video_urls,audio links\n"
        "@image1 waves,seedance-2.0-image-to-video,https://example.com/a.png | https://example.com/b.png,,\n"
        "@video1 in the style of @image1,Reference to video · fast,https://example.com/s.png,https://example.com/m.mp4,"
        "https://example.com/v.mp3\n"
        "@image1 waves,seedance-2.0-image-to-video,,,\n"
    )
    image, reference, missing = b.rows
    assert image.valid and image.request.image_urls == ("https://example.com/a.png", "https://example.com/b.png")
    assert reference.valid and reference.request.video_urls == ("https://example.com/m.mp4",)
    assert reference.request.audio_urls == ("https://example.com/v.mp3",)
    assert "media-reference" not in [h.code for h in image.hints + reference.hints]  # the links are counted
    assert not missing.valid and "takes 1 to 2 images" in " ".join(missing.errors.values())
