"""Uploads: the provider's limits checked from the file's content, random tokens, 24 h links, bounded disk."""

from __future__ import annotations

import io
import wave

import pytest
from PIL import Image

from lib import catalog, uploads
from lib.schema import GenerationRequest
from lib.store import Store
from lib.uploads import UploadRejected
from tests.support.media import make_mp4

REFERENCE = catalog.MODELS["seedance-2.0-reference-to-video"]
IMAGE_MODEL = catalog.MODELS["seedance-2.0-image-to-video"]


def png(width: int = 640, height: int = 480, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buf, format=fmt)
    return buf.getvalue()


def wav(seconds: float = 3.0, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


def test_a_good_image_is_measured_from_its_content_not_its_name():
    m = uploads.inspect(png(800, 600), "holiday.webp", "image")  # the name lies; the content is a PNG
    assert (m.kind, m.suffix, m.content_type, m.width, m.height) == ("image", ".png", "image/png", 800, 600)
    assert uploads.inspect(png(fmt="JPEG"), "x", "image").content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (png(200, 400), "Width: the provider takes 300–6000 px; this file has 200 px."),
        (
            png(1300, 500),
            "Aspect ratio: the provider takes width ÷ height from 0.4 to 2.5; this file is 1300×500 (2.60).",
        ),
        (b"GIF89a not really", "This is not an image the provider takes (JPEG, PNG, WebP)."),
        (b"", "This file is empty."),
    ],
    ids=["too-narrow", "too-wide", "not-an-image", "empty"],
)
def test_images_the_provider_would_refuse_are_refused_in_plain_words(data, words):
    with pytest.raises(UploadRejected) as exc:
        uploads.inspect(data, "a.png", "image")
    assert str(exc.value) == words


def test_the_size_is_checked_before_anything_is_read(monkeypatch):
    monkeypatch.setitem(
        catalog.FILE_LIMITS,
        "image",
        catalog.FileLimits(("PNG",), ("png",), 1000, side_px=(300, 6000), ratio=(0.4, 2.5)),
    )
    with pytest.raises(UploadRejected, match=r"File size: the provider takes image files up to 0.001 MB"):
        uploads.inspect(b"\0" * 1001, "a.png", "image")


def test_a_reference_video_is_measured_and_its_limits_checked():
    m = uploads.inspect(make_mp4(seconds=3, width=864, height=496, fps=24), "clip.MOV", "video")
    assert (m.suffix, m.content_type, m.width, m.height) == (".mov", "video/quicktime", 864, 496)
    assert m.seconds == pytest.approx(3, abs=0.1) and m.fps == pytest.approx(24)
    with pytest.raises(UploadRejected, match=r"^Length: the provider takes 2–15 s; this file has 1 s\.$"):
        uploads.inspect(make_mp4(seconds=1, width=864, height=496, fps=24), "short.mp4", "video")
    with pytest.raises(UploadRejected, match=r"^Frame size: .* this video is 400×400\.$"):
        uploads.inspect(make_mp4(seconds=3, width=400, height=400, fps=24), "small.mp4", "video")
    with pytest.raises(UploadRejected, match=r"^Frame rate: the provider takes 24–60 fps; this file has 4 fps\.$"):
        uploads.inspect(make_mp4(seconds=3, width=864, height=496, fps=4), "slow.mp4", "video")
    with pytest.raises(UploadRejected, match="not a video"):
        uploads.inspect(png(), "fake.mp4", "video")


def test_audio_is_measured_and_its_length_checked():
    m = uploads.inspect(wav(3), "voice.wav", "audio")
    assert (m.suffix, m.content_type) == (".wav", "audio/wav") and m.seconds == pytest.approx(3, abs=0.05)
    with pytest.raises(UploadRejected, match=r"^Length: the provider takes 2–15 s; this file has 20 s\.$"):
        uploads.inspect(wav(20), "long.wav", "audio")
    with pytest.raises(UploadRejected, match="not audio"):
        uploads.inspect(png(), "x.wav", "audio")


def test_counts_per_model_and_total_length():
    uploads.check_count(IMAGE_MODEL, "image", 1, 1)
    with pytest.raises(
        UploadRejected, match=r"^Images: Image to video · standard takes at most 2; this would make 3\.$"
    ):
        uploads.check_count(IMAGE_MODEL, "image", 2, 1)
    with pytest.raises(UploadRejected, match="takes no videos"):
        uploads.check_count(IMAGE_MODEL, "video", 0, 1)
    uploads.check_count(REFERENCE, "video", 2, 1)
    uploads.check_total_seconds("video", [7.5, 7.5])
    with pytest.raises(UploadRejected, match=r"^Videos: at most 15 s together; these would make 16.0 s\.$"):
        uploads.check_total_seconds("video", [8, 8])


def test_saved_under_a_random_token_never_the_uploaded_name(tmp_path):
    data = png()
    up = uploads.save(tmp_path, data, "../../etc/passwd <b>.png", uploads.inspect(data, "x.png", "image"), now=1000)
    assert uploads.valid_token(up.token) and up.name == "passwd <b>.png"
    stored = sorted(p.name for p in (tmp_path / "uploads").iterdir())
    assert stored == sorted([f"{up.token}.png", f"{up.token}.json"])
    again = uploads.save(tmp_path, data, "x.png", uploads.inspect(data, "x.png", "image"), now=1000)
    assert again.token != up.token


def test_a_link_works_for_24_hours_and_until_every_run_using_it_has_finished(tmp_path):
    data = png()
    up = uploads.save(tmp_path, data, "a.png", uploads.inspect(data, "a.png", "image"), now=1000)
    unused = lambda _token: False  # noqa: E731
    path, found = uploads.servable(tmp_path, up.token, unused, now=1000 + uploads.TTL - 1)
    assert path.read_bytes() == data and found.content_type == "image/png"
    assert uploads.servable(tmp_path, up.token, unused, now=1000 + uploads.TTL) is None
    assert uploads.servable(tmp_path, up.token, lambda _t: True, now=1001) is None  # its runs have finished
    assert uploads.servable(tmp_path, "A" * 32, unused, now=1001) is None
    assert uploads.servable(tmp_path, "../uploads/x", unused, now=1001) is None


def test_expired_uploads_are_removed_and_the_disk_is_bounded(tmp_path, monkeypatch):
    data = png()
    m = uploads.inspect(data, "a.png", "image")
    old = uploads.save(tmp_path, data, "a.png", m, now=1000)
    new = uploads.save(tmp_path, data, "b.png", m, now=1000 + uploads.TTL / 2)
    assert uploads.cleanup(tmp_path, now=1000 + uploads.TTL) == 1
    assert uploads.load(tmp_path, old.token) is None and uploads.load(tmp_path, new.token) is not None
    monkeypatch.setattr(uploads, "MAX_STORED_BYTES", 2 * len(data) - 1)
    with pytest.raises(UploadRejected, match="space for uploads on this server is full"):
        uploads.save(tmp_path, data, "c.png", m, now=1000 + uploads.TTL)


def test_the_store_names_the_runs_that_send_a_link(tmp_path):
    db = Store("sqlite://")
    ws = db.create_workspace("Uploads")
    token = "t" * 32
    req = GenerationRequest(
        model="seedance-2.0-image-to-video", prompt="A fox", image_urls=[f"https://s.example/api/uploads/{token}"]
    )
    run = db.create_run(ws.id, req, 1.0, True, "k")
    assert [r.id for r in db.runs_using(token)] == [run.id]
    assert db.runs_using("u" * 32) == [] and db.runs_using("") == []


def test_the_measured_length_of_an_uploaded_video_is_found_from_its_link(tmp_path):
    data = make_mp4(seconds=3, width=864, height=496, fps=24)
    up = uploads.save(tmp_path, data, "v.mp4", uploads.inspect(data, "v.mp4", "video"), now=1000)
    assert uploads.seconds_of(tmp_path, uploads.link("http://127.0.0.1:8501", up.token)) == pytest.approx(3, abs=0.1)
    assert uploads.seconds_of(tmp_path, "https://example.com/v.mp4") is None


def test_reachable_is_true_for_other_links_and_false_for_a_gone_upload(tmp_path):
    data = png()
    up = uploads.save(tmp_path, data, "a.png", uploads.inspect(data, "a.png", "image"), now=1000)
    link = uploads.link("http://127.0.0.1:8501", up.token)
    assert uploads.reachable(tmp_path, link, now=1001)
    assert not uploads.reachable(tmp_path, link, now=1000 + uploads.TTL)
    assert not uploads.reachable(tmp_path, uploads.link("http://127.0.0.1:8501", "B" * 32), now=1001)
    assert uploads.reachable(tmp_path, "https://example.com/a.png", now=1001)


def test_the_demo_simulator_fails_a_task_whose_upload_it_cannot_read(tmp_path):
    import httpx

    from lib.simulator import serve_in_thread
    from tests.support.simulator import AUTH, wait_done

    data = png()
    up = uploads.save(tmp_path, data, "a.png", uploads.inspect(data, "a.png", "image"))
    sim = serve_in_thread(port=0, speed=1000, media_check=lambda url: uploads.reachable(tmp_path, url))
    try:
        with httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=30) as http:

            def create(token: str) -> dict:
                body = {
                    "model": "seedance-2.0-image-to-video",
                    "prompt": "The kite rises",
                    "duration": 4,
                    "quality": "480p",
                    "image_urls": [uploads.link("http://127.0.0.1:8501", token)],
                }
                r = http.post("/v1/videos/generations", json=body)
                assert r.status_code == 200, r.text
                return wait_done(http, r.json()["id"])

            assert create(up.token)["status"] == "completed"
            gone = create("C" * 32)
            assert gone["status"] == "failed" and gone["error"]["code"] == "resource_not_found"
    finally:
        sim.stop()


def test_an_image_claiming_a_huge_size_is_refused_without_being_decoded():
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)  # 400 million pixels, none of them present
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    with pytest.raises(UploadRejected, match=r"^Pixel size: this image is far larger .* \(at most 6000 px a side\)\.$"):
        uploads.inspect(bomb, "bomb.png", "image")
