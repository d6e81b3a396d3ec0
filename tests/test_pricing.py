"""Cost estimates: every model x quality x video input x content filter, checked against rates.toml by hand.

No rate is written here: every expected figure is computed from the rate card, so
the tests assert the billing rules and still pass after rates.toml is edited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
import functools
import http.server
import re
import socket
import threading
import time
import tomllib
from fractions import Fraction

import av
import numpy as np
import pytest

from lib import catalog, pricing
from lib.pricing import (
    batch_total,
    estimate,
    format_credits,
    format_usd,
    load_rates,
    price_words,
    probe_video_seconds,
    use_rates,
)
from lib.schema import GenerationRequest

IMG = "https://example.com/a.png"
VID = "https://example.com/a.mp4"

with open(pricing.DEFAULT_RATES_PATH, "rb") as f:
    TOML = tomllib.load(f)
CARD = load_rates()
MULTIPLIER = CARD.content_filter_off_multiplier


def rate(tier: str, quality: str, *, video: bool = False) -> float:
    """Credits per second from the bundled rate card."""
    entry = CARD.rate(tier, quality)
    return entry.with_video if video else entry.without_video


def make(model: str, *, video: bool = False, **kw) -> GenerationRequest:
    spec = catalog.MODELS[model]
    media = {}
    if video:
        media["video_urls"] = [VID]
    elif spec.images.accepted:  # image and reference models need a picture when there is no video
        media["image_urls"] = [IMG]
    return GenerationRequest(model=model, prompt="A red fox runs through snow", **media, **kw)


def _combos():
    for model, spec in catalog.MODELS.items():
        for quality in spec.qualities:
            for video in (False, True) if spec.videos.accepted else (False,):
                for content_filter in (True, False):
                    yield pytest.param(
                        model,
                        quality,
                        video,
                        content_filter,
                        id=f"{model}-{quality}-{'video' if video else 'novideo'}"
                        f"-{'filter' if content_filter else 'nofilter'}",
                    )


@pytest.mark.parametrize("model,quality,video,content_filter", list(_combos()))
def test_every_combination_matches_the_rate_card(model, quality, video, content_filter):
    spec = catalog.MODELS[model]
    entry = TOML["rates"][spec.tier][quality]
    duration, input_seconds = 6, 9.5
    req = make(model, video=video, duration=duration, quality=quality, content_filter=content_filter)

    est = estimate(req, input_video_seconds=input_seconds)

    # By hand: per output second; with video, output + max(input, output) at the with-video rate.
    if video:
        seconds = duration + max(input_seconds, duration)
        expected = seconds * entry["with_video"]
    else:
        seconds = duration
        expected = seconds * entry["without_video"]
    if not content_filter:
        expected *= TOML["content_filter_off_multiplier"]
    assert est.credits == pytest.approx(expected)
    assert est.usd == pytest.approx(expected * TOML["usd_per_credit"])
    assert est.billable_seconds == seconds
    assert est.exact is (not entry.get("estimate", False))
    assert sum(c for _, c in est.lines) == pytest.approx(est.credits)
    assert len(est.lines) == 1 + video + (not content_filter)
    if not content_filter:
        label, extra = est.lines[-1]
        assert "Content filter off" in label and extra == pytest.approx(expected - expected / MULTIPLIER)


def test_rate_card_covers_every_model_and_quality_and_nothing_it_cannot_sell():
    card = load_rates()
    offered = {(spec.tier, q) for spec in catalog.MODELS.values() for q in spec.qualities}
    assert offered == set(card.rates)
    assert ("fast", "1080p") not in card.rates and ("mini", "1080p") not in card.rates


# --- the billing rules, one at a time -------------------------------------------------------


def test_standard_text_720p_8s():
    req = make("seedance-2.0-text-to-video", duration=8, quality="720p")
    est = estimate(req)
    per_s = rate("standard", "720p")
    assert est.credits == pytest.approx(8 * per_s)
    assert est.usd == pytest.approx(8 * per_s * CARD.usd_per_credit)
    assert est.exact
    assert est.lines == [(f"Output video: 8 s × {per_s:g} credits/s (standard 720p)", pytest.approx(8 * per_s))]


def test_content_filter_off_is_its_own_line():
    est = estimate(make("seedance-2.0-text-to-video", duration=8, quality="720p", content_filter=False))
    subtotal = 8 * rate("standard", "720p")
    assert est.credits == pytest.approx(subtotal * MULTIPLIER)
    assert [c for _, c in est.lines] == pytest.approx([subtotal, subtotal * (MULTIPLIER - 1)])
    assert est.lines[1].label == f"Content filter off: ×{MULTIPLIER:g}"


def test_defaults_are_the_apis_duration_and_quality():
    default = catalog.DEFAULTS["duration"] * rate("standard", catalog.DEFAULTS["quality"])
    assert estimate(make("seedance-2.0-text-to-video")).credits == pytest.approx(default)


def test_video_input_is_billed_as_long_as_the_output_at_the_with_video_rate():
    req = make("seedance-2.0-reference-to-video", video=True, duration=10, quality="720p")
    est = estimate(req, input_video_seconds=10)
    per_s = rate("standard", "720p", video=True)
    assert est.billable_seconds == 20
    assert est.credits == pytest.approx(20 * per_s)
    assert est.usd == pytest.approx(20 * per_s * CARD.usd_per_credit)
    assert [label.split(":")[0] for label, _ in est.lines] == ["Output video", "Input video"]
    assert est.exact


def test_input_video_longer_than_output_is_billed_in_full():
    req = make("seedance-2.0-reference-to-video", video=True, duration=5, quality="480p")
    est = estimate(req, input_video_seconds=12)
    assert est.billable_seconds == 17
    assert est.credits == pytest.approx(17 * rate("standard", "480p", video=True))


def test_short_input_video_is_billed_as_the_output_length():
    req = make("seedance-2.0-reference-to-video", video=True, duration=8, quality="480p")
    assert estimate(req, input_video_seconds=3).billable_seconds == 16


def test_unknown_input_video_length_uses_the_minimum_and_is_not_exact():
    req = make("seedance-2.0-reference-to-video", video=True, duration=8, quality="720p")
    est = estimate(req)
    assert est.billable_seconds == 16
    assert est.credits == pytest.approx(16 * rate("standard", "720p", video=True))
    assert not est.exact
    assert any("unknown" in n for n in est.notes)


def test_input_video_seconds_ignored_without_video_urls():
    req = make("seedance-2.0-reference-to-video", duration=8, quality="720p")  # images only
    est = estimate(req, input_video_seconds=10)
    assert est.credits == pytest.approx(8 * rate("standard", "720p")) and est.exact


def test_negative_input_length_is_refused():
    with pytest.raises(ValueError):
        estimate(make("seedance-2.0-text-to-video"), input_video_seconds=-1)


@pytest.mark.parametrize(
    "model,quality",
    [(model, quality) for model, spec in catalog.MODELS.items() for quality in spec.qualities],
)
def test_estimated_rates_are_flagged_with_their_reason(model, quality):
    entry = CARD.rate(catalog.MODELS[model].tier, quality)
    est = estimate(make(model, quality=quality))
    assert est.exact is (not entry.estimate)
    assert bool(est.notes) is entry.estimate
    if entry.estimate:
        assert "estimate" in est.notes[0] and entry.why in est.notes[0]


def test_the_card_marks_unpublished_rates_as_estimates_with_a_reason():
    assert all(entry.why for entry in CARD.rates.values() if entry.estimate)
    assert not CARD.rate("standard", "720p").estimate  # the provider publishes this one


def test_estimated_rates_follow_their_stated_formulas():
    # The card's own notes: 1080p is 2.49 x the 720p rate, mini is 0.5 x standard (while unpublished).
    r = TOML["rates"]
    for case in ("without_video", "with_video"):
        if r["standard"]["1080p"].get("estimate"):
            assert r["standard"]["1080p"][case] == pytest.approx(r["standard"]["720p"][case] * 2.49, abs=5e-4)
        for q in ("480p", "720p"):
            if r["mini"][q].get("estimate"):
                assert r["mini"][q][case] == pytest.approx(r["standard"][q][case] * 0.5)


def test_web_search_is_a_note_not_a_cost():
    plain = estimate(make("seedance-2.0-text-to-video", duration=8))
    searching = estimate(make("seedance-2.0-text-to-video", duration=8, web_search=True))
    assert searching.credits == plain.credits
    per_search = f"+{CARD.web_search_credits_per_search:g} credits per search"
    assert any(n.startswith(f"Web search: {per_search}, only if triggered") for n in searching.notes)
    assert searching.exact


def test_audio_costs_nothing():
    on = estimate(make("seedance-2.0-fast-text-to-video", generate_audio=True))
    off = estimate(make("seedance-2.0-fast-text-to-video", generate_audio=False))
    assert on.credits == off.credits


# The provider's published table of 2026-07-04: USD per second for each credit rate the
# card cites, and its worked example "(10 + 10) x $0.1209 = $2.42". A card from a later
# table is checked against that table's own figures when it is written.
PROVIDER_TABLE_OF = dt.date(2026, 7, 4)
PROVIDER_USD = {
    ("standard", "480p", "without_video"): 0.0919,
    ("standard", "720p", "without_video"): 0.1985,
    ("standard", "480p", "with_video"): 0.0560,
    ("standard", "720p", "with_video"): 0.1209,
    ("fast", "480p", "without_video"): 0.0745,
    ("fast", "720p", "without_video"): 0.1608,
}
from_the_cited_table = pytest.mark.skipif(CARD.as_of != PROVIDER_TABLE_OF, reason="the card cites a newer table")


@from_the_cited_table
def test_usd_per_credit_agrees_with_the_providers_usd_table():
    for (tier, quality, case), usd in PROVIDER_USD.items():
        per_s = getattr(CARD.rate(tier, quality), case)
        assert usd / per_s == pytest.approx(CARD.usd_per_credit, rel=0.01)


@from_the_cited_table
def test_providers_worked_example_with_video_input():
    req = make("seedance-2.0-reference-to-video", video=True, duration=10, quality="720p")
    est = estimate(req, input_video_seconds=10)
    assert format_usd(est.usd) == "$2.42"


# --- formatting and batches -----------------------------------------------------------------


@pytest.mark.parametrize(
    "x,credits,usd",
    [
        (0, "0.00 credits", "$0.00"),
        (118.80000000000001, "118.80 credits", "$118.80"),
        (2.417268, "2.42 credits", "$2.42"),
        (0.005, "0.01 credits", "$0.01"),
        (0.0049, "0.00 credits", "$0.00"),
        (1234.5, "1,234.50 credits", "$1,234.50"),
    ],
)
def test_formatting_rounds_to_two_decimals(x, credits, usd):
    assert format_credits(x) == credits
    assert format_usd(x) == usd


def test_batch_total_sums_and_is_exact_only_if_all_are():
    a = estimate(make("seedance-2.0-text-to-video", duration=8))
    b = estimate(make("seedance-2.0-fast-text-to-video", duration=5, quality="480p"))
    c = estimate(make("seedance-2.0-mini-text-to-video", duration=4, quality="480p"))
    ab = batch_total([a, b])
    assert ab.credits == pytest.approx(8 * rate("standard", "720p") + 5 * rate("fast", "480p"))
    assert ab.usd == pytest.approx(a.usd + b.usd)
    assert ab.exact and ab.billable_seconds == 13
    assert ab.lines == [("Run 1", a.credits), ("Run 2", b.credits)]

    abc = batch_total([a, b, c, c], labels=["fox", "fast", "mini", "mini again"])
    assert not abc.exact
    assert [label for label, _ in abc.lines] == ["fox", "fast", "mini", "mini again"]
    assert abc.notes == c.notes  # the mini note once, not twice
    assert abc.credits == pytest.approx(a.credits + b.credits + 2 * c.credits)


def test_batch_total_of_nothing_is_zero():
    empty = batch_total([])
    assert (empty.credits, empty.usd, empty.lines, empty.exact) == (0, 0, [], True)


def test_batch_total_wants_one_label_per_run():
    with pytest.raises(ValueError):
        batch_total([estimate(make("seedance-2.0-text-to-video"))], labels=[])


# --- the rate card file --------------------------------------------------------------------


def test_default_rates_are_loaded_once():
    card = load_rates()
    assert card is load_rates()
    assert card.as_of == TOML["as_of"]
    assert card.sources == tuple(TOML["sources"])
    assert card.content_filter_off_multiplier == TOML["content_filter_off_multiplier"]
    assert card.web_search_credits_per_search == TOML["web_search_credits_per_search"]
    assert card.usd_per_credit_note == TOML["usd_per_credit_note"]


def _edited_card(tmp_path, **values) -> str:
    """The bundled rates.toml with top-level numbers replaced, as a new file; returns its path."""
    text = pricing.DEFAULT_RATES_PATH.read_text(encoding="utf-8")
    for key, value in values.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, key
    path = tmp_path / "rates.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_an_edited_rate_card_changes_the_estimate(tmp_path):
    path = tmp_path / "rates.toml"
    per_s = rate("standard", "720p") + 1.5
    path.write_text(
        re.sub(
            r'(\[rates\.standard\."720p"\]\s*\nwithout_video = )[\d.]+',
            rf"\g<1>{per_s}",
            pricing.DEFAULT_RATES_PATH.read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    card = load_rates(path)
    assert estimate(make("seedance-2.0-text-to-video", duration=8), rates=card).credits == pytest.approx(8 * per_s)
    assert load_rates().rate("standard", "720p").without_video == rate("standard", "720p")  # default untouched


def test_an_edited_rate_card_changes_every_price_sentence(tmp_path):
    card = load_rates(_edited_card(tmp_path, content_filter_off_multiplier=1.25, web_search_credits_per_search=0.07))
    words = price_words(card)
    assert (words.filter_off, words.filter_off_change, words.web_search) == (
        "×1.25",
        "25% more",
        "+0.07 credits per search",
    )
    est = estimate(make("seedance-2.0-text-to-video", content_filter=False, web_search=True), rates=card)
    assert est.lines[-1].label == "Content filter off: ×1.25"
    assert est.notes == ["Web search: +0.07 credits per search, only if triggered (not included above)."]
    assert price_words() == price_words(CARD) != words  # the bundled card is untouched


def test_price_words_follow_the_bundled_card():
    words = price_words()
    assert words.filter_off == f"×{MULTIPLIER:g}"
    assert words.web_search == f"+{CARD.web_search_credits_per_search:g} credits per search"
    cheaper = price_words(dataclasses.replace(CARD, content_filter_off_multiplier=0.9))
    free = price_words(dataclasses.replace(CARD, content_filter_off_multiplier=1.0))
    assert (cheaper.filter_off_change, free.filter_off_change) == ("10% less", "no extra cost")


def test_use_rates_swaps_the_card_for_every_estimate_and_restores_it(tmp_path):
    edited = load_rates(_edited_card(tmp_path, content_filter_off_multiplier=2))
    req = make("seedance-2.0-text-to-video", duration=8, content_filter=False)
    with use_rates(edited) as card:
        assert load_rates() is card
        assert estimate(req).credits == pytest.approx(8 * rate("standard", "720p") * 2)
        assert price_words().filter_off == "×2"
    assert load_rates() is CARD
    assert estimate(req).credits == pytest.approx(8 * rate("standard", "720p") * MULTIPLIER)


@pytest.mark.parametrize(
    "text,words",
    [
        ('as_of = "July"\n[rates.standard."720p"]\nwithout_video = 1\nwith_video = 1\n', "as_of"),
        ("as_of = 2026-07-04\n", "no [rates"),
        (
            "as_of = 2026-07-04\nusd_per_credit = 1\ncontent_filter_off_multiplier = 1\n"
            "web_search_credits_per_search = 0\n"
            '[rates.standard."720p"]\nwithout_video = "13.5"\nwith_video = 1\n',
            'rates.standard."720p"] without_video',
        ),
        (
            "as_of = 2026-07-04\ncontent_filter_off_multiplier = 1\nweb_search_credits_per_search = 0\n"
            '[rates.standard."720p"]\nwithout_video = 1\nwith_video = 1\n',
            "usd_per_credit",
        ),
    ],
)
def test_a_broken_rate_card_says_what_to_fix(tmp_path, text, words):
    path = tmp_path / "rates.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_rates(path)
    assert words in str(err.value)


def test_missing_rate_names_the_table_to_add():
    card = load_rates()
    with pytest.raises(ValueError, match=r'rates\.fast\."1080p"'):
        card.rate("fast", "1080p")


# --- probing input video length ---------------------------------------------------------------


def _write_mp4(path, seconds=2, fps=10):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for i in range(seconds * fps):
            img = np.full((48, 64, 3), i * 10 % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def test_probe_reads_the_length_of_a_video(tmp_path):
    path = tmp_path / "clip.mp4"
    _write_mp4(path, seconds=2)
    assert probe_video_seconds(str(path)) == pytest.approx(2.0, abs=0.15)


def test_probe_reads_a_video_over_http(tmp_path):
    _write_mp4(tmp_path / "clip.mp4", seconds=3)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/clip.mp4"
            assert probe_video_seconds(url) is None  # the server's own network: refused by the guard
            assert probe_video_seconds(url, allow=["127.0.0.1"]) == pytest.approx(3.0, abs=0.15)
        finally:
            httpd.shutdown()


def test_probe_returns_none_for_a_missing_file(tmp_path):
    assert probe_video_seconds(str(tmp_path / "nope.mp4")) is None


def test_probe_returns_none_for_garbage(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"this is not a video" * 100)
    assert probe_video_seconds(str(path)) is None


def test_probe_returns_none_for_a_refused_connection():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the probe: nothing listens there
    assert probe_video_seconds(f"http://127.0.0.1:{port}/clip.mp4", timeout=1, allow=["127.0.0.1"]) is None


def test_probe_gives_up_on_a_server_that_never_answers():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        start = time.monotonic()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/clip.mp4"
        assert probe_video_seconds(url, timeout=0.5, allow=["127.0.0.1"]) is None
        assert time.monotonic() - start < 5
    finally:
        for conn, _ in accepted:
            conn.close()
        server.close()


def test_every_screen_rounds_the_same_way():
    """Studio, gallery, grids and batches all show credits through format_amount / format_credits."""
    assert round(2.675, 2) == 2.67  # the float is 2.67499..., so Python rounds it down
    assert pricing.format_amount(2.675) == "2.68"  # rounded half up as on paper
    assert pricing.format_credits(2.675) == "2.68 credits"
    assert pricing.format_amount(1234.5) == "1,234.50"


def test_doctests():
    result = doctest.testmod(pricing)
    assert result.attempted > 0 and result.failed == 0


def test_no_price_is_written_into_screen_code():
    """Prices on screen come from the rate card: no multiplier or per-search price typed into a page or component."""
    root = pricing.DEFAULT_RATES_PATH.parents[1]
    literal = re.compile(r"×\s?\d|\+\s?\d+(?:\.\d+)?\s+credits|\d+(?:\.\d+)?\s+credits/s")
    found = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("components", "pages")
        for path in sorted((root / folder).glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []
