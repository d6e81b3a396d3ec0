"""Cost estimates: every model x quality x video input x content filter, checked against rates.toml by hand."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time
import tomllib
from fractions import Fraction

import av
import numpy as np
import pytest

from lib import catalog, pricing
from lib.pricing import batch_total, estimate, format_credits, format_usd, load_rates, probe_video_seconds
from lib.schema import GenerationRequest

IMG = "https://example.com/a.png"
VID = "https://example.com/a.mp4"

with open(pricing.DEFAULT_RATES_PATH, "rb") as f:
    TOML = tomllib.load(f)


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
        assert "Content filter off" in label and extra == pytest.approx(expected / 11)


def test_rate_card_covers_every_model_and_quality_and_nothing_it_cannot_sell():
    card = load_rates()
    offered = {(spec.tier, q) for spec in catalog.MODELS.values() for q in spec.qualities}
    assert offered == set(card.rates)
    assert ("fast", "1080p") not in card.rates and ("mini", "1080p") not in card.rates


# --- hand-written absolute numbers ------------------------------------------------------


def test_standard_text_720p_8s():
    req = make("seedance-2.0-text-to-video", duration=8, quality="720p")
    est = estimate(req)
    assert est.credits == pytest.approx(108.0)
    assert est.exact
    assert est.lines == [("Output video: 8 s × 13.5 credits/s (standard 720p)", 108.0)]
    assert format_credits(est.credits) == "108.00 credits"
    assert format_usd(est.usd) == "$1.59"


def test_content_filter_off_is_its_own_line():
    est = estimate(make("seedance-2.0-text-to-video", duration=8, quality="720p", content_filter=False))
    assert est.credits == pytest.approx(118.8)
    assert [c for _, c in est.lines] == pytest.approx([108.0, 10.8])
    assert est.lines[1].label == "Content filter off: × 1.1"
    assert format_credits(est.credits) == "118.80 credits"


def test_fast_480p_5s():
    est = estimate(make("seedance-2.0-fast-text-to-video", duration=5, quality="480p"))
    assert est.credits == pytest.approx(25.315)
    assert format_credits(est.credits) == "25.32 credits"  # half up, despite float 25.31499...


def test_defaults_are_the_apis_5s_720p():
    assert estimate(make("seedance-2.0-text-to-video")).credits == pytest.approx(5 * 13.5)


def test_providers_worked_example_with_video_input():
    # "(10 + 10) x $0.1209 = $2.42"
    req = make("seedance-2.0-reference-to-video", video=True, duration=10, quality="720p")
    est = estimate(req, input_video_seconds=10)
    assert est.credits == pytest.approx(20 * 8.222) == pytest.approx(164.44)
    assert est.billable_seconds == 20
    assert est.usd == pytest.approx(2.42, abs=0.005)
    assert format_usd(est.usd) == "$2.42"
    assert est.exact


def test_input_video_longer_than_output_is_billed_in_full():
    req = make("seedance-2.0-reference-to-video", video=True, duration=5, quality="480p")
    est = estimate(req, input_video_seconds=12)
    assert est.billable_seconds == 17
    assert est.credits == pytest.approx(17 * 3.807)


def test_short_input_video_is_billed_as_the_output_length():
    req = make("seedance-2.0-reference-to-video", video=True, duration=8, quality="480p")
    assert estimate(req, input_video_seconds=3).billable_seconds == 16


def test_unknown_input_video_length_uses_the_minimum_and_is_not_exact():
    req = make("seedance-2.0-reference-to-video", video=True, duration=8, quality="720p")
    est = estimate(req)
    assert est.billable_seconds == 16
    assert est.credits == pytest.approx(16 * 8.222)
    assert not est.exact
    assert any("unknown" in n for n in est.notes)


def test_input_video_seconds_ignored_without_video_urls():
    req = make("seedance-2.0-reference-to-video", duration=8, quality="720p")  # images only
    est = estimate(req, input_video_seconds=10)
    assert est.credits == pytest.approx(8 * 13.5) and est.exact


def test_negative_input_length_is_refused():
    with pytest.raises(ValueError):
        estimate(make("seedance-2.0-text-to-video"), input_video_seconds=-1)


@pytest.mark.parametrize(
    "model,quality,exact",
    [
        ("seedance-2.0-text-to-video", "1080p", False),
        ("seedance-2.0-image-to-video", "1080p", False),
        ("seedance-2.0-mini-text-to-video", "480p", False),
        ("seedance-2.0-mini-reference-to-video", "720p", False),
        ("seedance-2.0-text-to-video", "720p", True),
        ("seedance-2.0-fast-image-to-video", "480p", True),
    ],
)
def test_estimated_rates_are_flagged_with_their_reason(model, quality, exact):
    est = estimate(make(model, quality=quality))
    assert est.exact is exact
    assert bool(est.notes) is (not exact)
    if not exact:
        assert "estimate" in est.notes[0] and "Volcengine" in est.notes[0]


def test_estimated_rates_follow_their_stated_formulas():
    r = TOML["rates"]
    for case in ("without_video", "with_video"):
        assert r["standard"]["1080p"][case] == pytest.approx(r["standard"]["720p"][case] * 2.49, abs=5e-4)
        for q in ("480p", "720p"):
            assert r["mini"][q][case] == pytest.approx(r["standard"][q][case] * 0.5)


def test_web_search_is_a_note_not_a_cost():
    plain = estimate(make("seedance-2.0-text-to-video", duration=8))
    searching = estimate(make("seedance-2.0-text-to-video", duration=8, web_search=True))
    assert searching.credits == plain.credits
    assert any(n.startswith("Web search: +0.04 credits per search, only if triggered") for n in searching.notes)
    assert searching.exact


def test_audio_costs_nothing():
    on = estimate(make("seedance-2.0-fast-text-to-video", generate_audio=True))
    off = estimate(make("seedance-2.0-fast-text-to-video", generate_audio=False))
    assert on.credits == off.credits


def test_usd_per_credit_agrees_with_the_providers_usd_table():
    card = load_rates()
    for usd, credits in (
        (0.0919, 6.251),
        (0.1985, 13.50),
        (0.0560, 3.807),
        (0.1209, 8.222),
        (0.0745, 5.063),
        (0.1608, 10.935),
    ):
        assert usd / credits == pytest.approx(card.usd_per_credit, rel=0.01)


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
    assert ab.credits == pytest.approx(108.0 + 25.315)
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
    assert str(card.as_of) == "2026-07-04"
    assert any("Seedance-2.0-Gateway-Service" in s for s in card.sources)
    assert card.content_filter_off_multiplier == 1.1
    assert card.web_search_credits_per_search == 0.04
    assert "no official" in card.usd_per_credit_note.lower()


def test_an_edited_rate_card_changes_the_estimate(tmp_path):
    edited = pricing.DEFAULT_RATES_PATH.read_text(encoding="utf-8").replace(
        "without_video = 13.50", "without_video = 15.00"
    )
    path = tmp_path / "rates.toml"
    path.write_text(edited, encoding="utf-8")
    card = load_rates(path)
    assert estimate(make("seedance-2.0-text-to-video", duration=8), rates=card).credits == pytest.approx(120.0)
    assert load_rates().rate("standard", "720p").without_video == 13.5  # the default is untouched


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
            assert probe_video_seconds(url) == pytest.approx(3.0, abs=0.15)
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
    assert probe_video_seconds(f"http://127.0.0.1:{port}/clip.mp4", timeout=1) is None


def test_probe_gives_up_on_a_server_that_never_answers():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        start = time.monotonic()
        assert probe_video_seconds(f"http://127.0.0.1:{server.getsockname()[1]}/clip.mp4", timeout=0.5) is None
        assert time.monotonic() - start < 5
    finally:
        for conn, _ in accepted:
            conn.close()
        server.close()


def test_every_screen_rounds_the_same_way():
    """Studio, gallery, grids and batches all show credits through format_amount / format_credits."""
    assert pricing.format_amount(25.315) == "25.32"  # 5 s x 5.063: half up, not float-down to 25.31
    assert pricing.format_credits(25.315) == "25.32 credits"
    assert pricing.format_amount(1234.5) == "1,234.50"
