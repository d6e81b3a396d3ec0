"""The media route's addresses: which paths name a file, stills made for old videos, and download names."""

from __future__ import annotations

import pytest

from lib import media, posters
from tests.support.media import make_mp4

TOKEN = "Tok3n_-" + "a" * 25


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        (TOKEN, (TOKEN, "video")),
        (f"{TOKEN}/poster.jpg", (TOKEN, "poster")),
        (f"{TOKEN}/sheet.jpg", (TOKEN, "sheet")),
        (f"{TOKEN}/", None),
        (f"{TOKEN}/poster.png", None),
        (f"{TOKEN}/../studio.db", None),
        (f"{TOKEN}/poster.jpg/x", None),
        (f"{TOKEN}.mp4", None),
        ("short", None),
        ("", None),
        ("../../etc/passwd", None),
        ("a" * 33, None),
    ],
)
def test_parse_names_only_a_tokens_video_and_stills(rest, expected):
    assert media.parse(rest) == expected


def test_urls_round_trip_through_parse():
    for kind in ("video", "poster", "sheet"):
        url = media.url(TOKEN, kind)
        assert url.startswith("/api/media/")
        assert media.parse(url.removeprefix("/api/media/")) == (TOKEN, kind)


def test_a_missing_still_of_a_saved_video_is_made_when_asked_for(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / f"{TOKEN}.mp4").write_bytes(make_mp4(2, 320, 180))
    assert not posters.poster_path(tmp_path, TOKEN).exists()
    poster = media.file_for(tmp_path, TOKEN, "poster")
    assert poster == posters.poster_path(tmp_path, TOKEN) and poster.read_bytes()[:2] == b"\xff\xd8"
    assert media.file_for(tmp_path, TOKEN, "sheet") == posters.sheet_path(tmp_path, TOKEN)
    assert media.file_for(tmp_path, TOKEN, "video") == tmp_path / "media" / f"{TOKEN}.mp4"


def test_no_still_without_a_video_and_an_unreadable_video_is_tried_once(tmp_path, monkeypatch):
    assert media.file_for(tmp_path, TOKEN, "poster") is None  # no video: nothing made, nothing found
    (tmp_path / "media").mkdir()
    bad = "B" * 32
    (tmp_path / "media" / f"{bad}.mp4").write_bytes(b"not a video at all")
    tries = []
    real = posters.ensure
    monkeypatch.setattr(posters, "ensure", lambda *a: tries.append(a) or real(*a))
    assert media.file_for(tmp_path, bad, "poster") is None
    assert media.file_for(tmp_path, bad, "sheet") is None
    assert len(tries) == 1  # not decoded again on every request


@pytest.mark.parametrize(
    ("prompt", "ascii_name"),
    [
        ("A red kite over dunes, wide shot", "a-red-kite-over-dunes-wide-shot-r4nd0m1d.mp4"),
        ("Ein Fuchs läuft über den Schnee", "ein-fuchs-lauft-uber-den-schnee-r4nd0m1d.mp4"),
        ('"quoted"; filename=evil.exe\r\nX-Injected: 1', "quoted-filename-evil-exe-x-injected-1-r4nd0m1d.mp4"),
        ("../../etc/passwd", "etc-passwd-r4nd0m1d.mp4"),
        ("夜の東京、雨", "run-r4nd0m1d.mp4"),
        ("", "run-r4nd0m1d.mp4"),
        ("one two three four five six seven eight nine ten", "one-two-three-four-five-six-seven-eight-r4nd0m1d.mp4"),
    ],
)
def test_download_names_are_safe_ascii_from_the_prompt_and_run(prompt, ascii_name):
    assert media.download_name(prompt, "r4nd0m1d") == ascii_name
    header = media.content_disposition(prompt, "r4nd0m1d")
    assert header.startswith(f'attachment; filename="{ascii_name}"')
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert header.count('"') == 2  # nothing from the prompt closes the quoted name


def test_words_beyond_ascii_go_into_filename_star():
    header = media.content_disposition("夜の東京、雨", "r4nd0m1d")
    assert header == (
        "attachment; filename=\"run-r4nd0m1d.mp4\"; filename*=UTF-8''"
        "%E5%A4%9C%E3%81%AE%E6%9D%B1%E4%BA%AC%E9%9B%A8-r4nd0m1d.mp4"
    )
    plain = media.content_disposition("A red kite", "r4nd0m1d")
    assert plain == 'attachment; filename="a-red-kite-r4nd0m1d.mp4"'  # nothing to add for plain ASCII
