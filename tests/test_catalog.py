"""The model catalog against the provider's own tables (copied into tests/data from its API reference)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib import catalog
from lib.catalog import MODELS, PIXELS, MediaLimits, resolution

DATA = Path(__file__).resolve().parent / "data"
ALL_MODELS_SEED = DATA / "evolink-all-models-reference.txt"
TEXT_TO_VIDEO_SEED = DATA / "evolink-text-to-video-pixels.md"


def _seed_model_ids() -> list[str]:
    """The ids listed under the model's "Available options:" in the all-models reference."""
    text = ALL_MODELS_SEED.read_text(encoding="utf-8")
    block = text.split("Available options:", 1)[1].split("Example:", 1)[0]
    return [item.strip() for item in block.replace("\n", "").split(",") if item.strip()]


def _seed_pixel_table() -> dict[str, dict[str, tuple[int, int]]]:
    """The markdown table "| 16:9 | 864×496 | 1280×720 | 1920×1080 |" of the text-to-video reference."""
    text = TEXT_TO_VIDEO_SEED.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[0] == "Aspect Ratio"
    qualities = header[1:]
    table: dict[str, dict[str, tuple[int, int]]] = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= {"-", ":"}:
            continue  # the |---| separator row
        sizes = {}
        for quality, cell in zip(qualities, cells[1:], strict=True):
            m = re.fullmatch(r"(\d+)\s*[×x]\s*(\d+)", cell)
            assert m, f"unparsable pixel cell {cell!r}"
            sizes[quality] = (int(m.group(1)), int(m.group(2)))
        table[cells[0]] = sizes
    return table


def _splits(digits_and_times: str, ratio: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Every way to read "8644961280..." as w×h pairs whose shape is ``ratio`` (within 3 %)."""
    if not digits_and_times:
        return [[]]
    out = []
    m = re.match(r"(\d+)×(\d+)", digits_and_times)
    if not m:
        return []
    w, tail = int(m.group(1)), m.group(2) + digits_and_times[m.end() :]
    for cut in range(1, len(m.group(2)) + 1):
        h = int(tail[:cut])
        if h and abs(w / h - ratio[0] / ratio[1]) <= 0.03 * ratio[0] / ratio[1]:
            out += [[(w, h), *rest] for rest in _splits(tail[cut:], ratio)]
    return out


def _seed_compact_pixel_rows() -> dict[str, dict[str, tuple[int, int]]]:
    """Rows like "16:9864×4961280×7201920×1080" of the all-models reference, by aspect ratio.

    The cells run together, so the text alone is ambiguous ("9:16496×864" could start
    "9:1"); the reading kept is the only one where every size has the ratio's shape.
    """
    text = ALL_MODELS_SEED.read_text(encoding="utf-8")
    header = re.search(r"Aspect Ratio(\d+p)(\d+p)(\d+p)", text)
    assert header, "pixel table header not found in the seed"
    qualities = header.groups()
    rows: dict[str, dict[str, tuple[int, int]]] = {}
    for line in text.splitlines():
        line = line.strip()
        m = re.fullmatch(r"(\d+):(\d+×.*)", line)
        if not m:
            continue
        readings = []
        for cut in range(1, len(m.group(2)) + 1):
            b = m.group(2)[:cut]
            if not b.isdigit():
                break
            for sizes in _splits(m.group(2)[cut:], (int(m.group(1)), int(b))):
                if len(sizes) == 3:
                    readings.append((f"{m.group(1)}:{b}", sizes))
        assert len(readings) == 1, f"pixel row {line!r} read as {readings}"
        ratio, sizes = readings[0]
        rows[ratio] = dict(zip(qualities, sizes, strict=True))
    return rows


# --- the nine models --------------------------------------------------------------------

EXPECTED = [
    # id, mode, tier, qualities, web search
    ("seedance-2.0-text-to-video", "text", "standard", ("480p", "720p", "1080p"), True),
    ("seedance-2.0-image-to-video", "image", "standard", ("480p", "720p", "1080p"), False),
    ("seedance-2.0-reference-to-video", "reference", "standard", ("480p", "720p", "1080p"), False),
    ("seedance-2.0-fast-text-to-video", "text", "fast", ("480p", "720p"), True),
    ("seedance-2.0-fast-image-to-video", "image", "fast", ("480p", "720p"), False),
    ("seedance-2.0-fast-reference-to-video", "reference", "fast", ("480p", "720p"), False),
    ("seedance-2.0-mini-text-to-video", "text", "mini", ("480p", "720p"), False),
    ("seedance-2.0-mini-image-to-video", "image", "mini", ("480p", "720p"), False),
    ("seedance-2.0-mini-reference-to-video", "reference", "mini", ("480p", "720p"), False),
]


def test_exactly_the_nine_models():
    assert set(MODELS) == {row[0] for row in EXPECTED}
    assert len(MODELS) == 9


def test_model_ids_match_the_seed_available_options():
    ids = _seed_model_ids()
    assert len(ids) == 9
    assert set(ids) == set(MODELS)


@pytest.mark.parametrize(("model_id", "mode", "tier", "qualities", "web_search"), EXPECTED)
def test_model_spec(model_id, mode, tier, qualities, web_search):
    spec = MODELS[model_id]
    assert spec.id == model_id
    assert spec.mode == mode
    assert spec.tier == tier
    assert spec.qualities == qualities
    assert spec.web_search is web_search
    assert ("1080p" in spec.qualities) == (tier == "standard")
    assert spec.label and spec.summary


@pytest.mark.parametrize("model_id", [row[0] for row in EXPECTED if row[1] == "text"])
def test_text_models_take_no_media(model_id):
    spec = MODELS[model_id]
    assert spec.images == spec.videos == spec.audios == MediaLimits(0, 0)
    assert not spec.takes_media
    assert not spec.needs_image_or_video


@pytest.mark.parametrize("model_id", [row[0] for row in EXPECTED if row[1] == "image"])
def test_image_models_take_one_or_two_images_only(model_id):
    spec = MODELS[model_id]
    assert (spec.images.min, spec.images.max) == (1, 2)
    assert spec.videos == spec.audios == MediaLimits(0, 0)
    assert not spec.videos.accepted and not spec.audios.accepted
    assert spec.takes_media
    assert not spec.needs_image_or_video


@pytest.mark.parametrize("model_id", [row[0] for row in EXPECTED if row[1] == "reference"])
def test_reference_models_media_limits(model_id):
    spec = MODELS[model_id]
    assert (spec.images.min, spec.images.max) == (0, 9)
    assert (spec.videos.min, spec.videos.max) == (0, 3)
    assert (spec.audios.min, spec.audios.max) == (0, 3)
    assert spec.needs_image_or_video  # audio never alone; at least one image or video
    assert spec.takes_media


def test_model_specs_are_immutable_data():
    spec = MODELS["seedance-2.0-text-to-video"]
    with pytest.raises(AttributeError):
        spec.web_search = False  # type: ignore[misc]
    assert catalog.DEFAULT_MODEL in MODELS


@pytest.mark.parametrize(
    ("limits", "accepted"), [(MediaLimits(), False), (MediaLimits(0, 3), True), (MediaLimits(1, 2), True)]
)
def test_media_limits_accepted(limits, accepted):
    assert limits.accepted is accepted


# --- enums and defaults -----------------------------------------------------------------


def test_enums_and_defaults_match_the_reference():
    assert catalog.QUALITIES == ("480p", "720p", "1080p")
    assert catalog.ASPECT_RATIOS == ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive")
    assert (catalog.DURATION_MIN, catalog.DURATION_MAX) == (4, 15)
    assert catalog.DEFAULTS == {
        "duration": 5,
        "quality": "720p",
        "aspect_ratio": "16:9",
        "generate_audio": True,
        "content_filter": True,
        "web_search": False,
    }
    assert catalog.PROMPT_MAX_TOKENS == 10_000
    assert set(catalog.ASPECT_RATIO_LABELS) == set(catalog.ASPECT_RATIOS)


# --- pixel sizes --------------------------------------------------------------------------


def test_pixels_match_the_seed_markdown_table():
    table = _seed_pixel_table()
    assert set(table) == set(catalog.ASPECT_RATIOS) - {"adaptive"}
    assert table == PIXELS


def test_pixels_match_the_all_models_reference_rows():
    rows = _seed_compact_pixel_rows()
    assert len(rows) == 6
    assert rows == PIXELS


PIXEL_CASES = [
    ("16:9", "480p", (864, 496)),
    ("16:9", "720p", (1280, 720)),
    ("16:9", "1080p", (1920, 1080)),
    ("4:3", "480p", (752, 560)),
    ("4:3", "720p", (1112, 834)),
    ("4:3", "1080p", (1664, 1248)),
    ("1:1", "480p", (640, 640)),
    ("1:1", "720p", (960, 960)),
    ("1:1", "1080p", (1440, 1440)),
    ("3:4", "480p", (560, 752)),
    ("3:4", "720p", (834, 1112)),
    ("3:4", "1080p", (1248, 1664)),
    ("9:16", "480p", (496, 864)),
    ("9:16", "720p", (720, 1280)),
    ("9:16", "1080p", (1080, 1920)),
    ("21:9", "480p", (992, 432)),
    ("21:9", "720p", (1470, 630)),
    ("21:9", "1080p", (2206, 946)),
]


@pytest.mark.parametrize(("ratio", "quality", "size"), PIXEL_CASES)
def test_resolution(ratio, quality, size):
    assert resolution(ratio, quality) == size


def test_every_ratio_and_quality_has_a_size():
    assert len(PIXEL_CASES) == 6 * 3
    for ratio in catalog.ASPECT_RATIOS:
        for quality in catalog.QUALITIES:
            size = resolution(ratio, quality)
            if ratio == "adaptive":
                assert size is None
            else:
                w, h = size
                assert w > 0 and h > 0


@pytest.mark.parametrize("quality", catalog.QUALITIES)
def test_adaptive_has_no_fixed_size(quality):
    assert resolution("adaptive", quality) is None


@pytest.mark.parametrize(("ratio", "quality"), [("2:1", "720p"), ("16:9", "4k"), ("", ""), ("16:9", "720")])
def test_resolution_of_unknown_values_raises(ratio, quality):
    with pytest.raises(ValueError):
        resolution(ratio, quality)
