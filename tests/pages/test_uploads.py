"""Uploads in the Studio (AppTest): checked before anything is sent, stored under a token, linked, priced, explained."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from lib import pricing, uploads
from lib.identity import new_participant_id
from lib.schema import GenerationRequest
from tests.support.media import make_mp4

STUDIO = "pages/studio.py"
URL = "http://localhost:8501/"
LINK = re.compile(r"^http://127\.0\.0\.1:\d+/api/uploads/([A-Za-z0-9_-]{32})$")


def _png(width: int = 640, height: int = 480) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (90, 160, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _studio(demo_app, model: str, **state):
    return demo_app.open(
        STUDIO,
        session_state={"model": model, "prompt": "The kite from @image1 flies over dunes", **state},
        context={"url": URL},
    )


def _links(at, field: str) -> list[str]:
    return [line for line in (at.session_state[field] or "").splitlines() if line.strip()]


def test_an_uploaded_image_becomes_a_link_under_a_random_token(demo_app, provider):
    at = _studio(demo_app, "seedance-2.0-image-to-video")
    at.file_uploader(key="upload_image_0").set_value([("my holiday.png", _png(), "image/png")]).run()
    assert not at.exception, at.exception
    (link,) = _links(at, "image_urls")
    token = LINK.match(link).group(1)
    stored = sorted(p.name for p in (demo_app.data_dir / "uploads").iterdir())
    assert stored == sorted([f"{token}.png", f"{token}.json"])  # never the uploaded name
    assert "my holiday.png" in " ".join(c.value for c in at.caption).replace("\\", "")  # the preview names it
    assert at.file_uploader(key="upload_image_1")  # an empty picker for the next file
    # The request carries the link; Generate sends it.
    at.button(key="submit").click().run()
    assert [p.image_urls for p in provider.posts] == [(link,)]


def test_a_file_the_provider_would_refuse_is_refused_before_anything_is_stored_or_sent(demo_app, provider):
    at = _studio(demo_app, "seedance-2.0-image-to-video")
    at.file_uploader(key="upload_image_0").set_value([("tiny.png", _png(100, 100), "image/png")]).run()
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "tiny.png: Width: the provider takes 300–6000 px; this file has 100 px." in warnings
    assert _links(at, "image_urls") == [] and not (demo_app.data_dir / "uploads").exists()
    assert provider.posts == []


def test_the_models_count_is_checked(demo_app):
    at = _studio(demo_app, "seedance-2.0-image-to-video")
    files = [(f"{n}.png", _png(), "image/png") for n in range(3)]
    at.file_uploader(key="upload_image_0").set_value(files).run()
    warnings = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "Images: Image to video · standard takes at most 2; this would make 3." in warnings
    assert _links(at, "image_urls") == []


def test_an_uploaded_reference_videos_measured_length_is_priced(demo_app):
    at = _studio(demo_app, "seedance-2.0-reference-to-video", prompt="Follow the camera move of @video1")
    video = make_mp4(seconds=3, width=864, height=496, fps=24)
    at.file_uploader(key="upload_video_0").set_value([("move.mp4", video, "video/mp4")]).run()
    assert not at.exception, at.exception
    (link,) = _links(at, "video_urls")
    seconds = uploads.seconds_of(demo_app.data_dir, link)
    assert seconds == pytest.approx(3, abs=0.1)
    request = GenerationRequest(
        model="seedance-2.0-reference-to-video", prompt="Follow the camera move of @video1", video_urls=[link]
    )
    expected = pricing.estimate(request, input_video_seconds=seconds)
    assert f"{pricing.format_amount(expected.credits)} credits" in " ".join(m.value for m in at.metric)
    assert "(measured)" in " ".join(c.value for c in at.caption)


def test_text_models_offer_no_upload(demo_app):
    at = _studio(demo_app, "seedance-2.0-text-to-video")
    assert not at.get("file_uploader")


@pytest.mark.parametrize("role", ["facilitator", "participant"])
def test_live_mode_without_a_public_url_explains_who_can_fix_it(demo_app, role):
    demo_app.configure(api_key="sk-live-test", base_url="https://api.evolink.ai", public_url=None)
    fac = new_participant_id()
    at = demo_app.open("app.py", session_state={"pid": fac}, context={"url": URL})
    ws = at.session_state["ws"]
    pid = fac if role == "facilitator" else new_participant_id()
    at = demo_app.open(
        "app.py",
        session_state={"pid": pid, "model": "seedance-2.0-image-to-video"},
        query_params={"ws": ws},
        context={"url": URL},
    )
    assert not at.exception, at.exception
    assert not at.get("file_uploader")
    info = " ".join(i.value for i in at.info)
    if role == "facilitator":
        assert "Set STUDIO_PUBLIC_URL to this server's public https address" in info
    else:
        assert "only the facilitator can set: ask them" in info and "STUDIO_PUBLIC_URL" not in info


def test_live_mode_with_a_public_url_links_uploads_there(demo_app):
    demo_app.configure(api_key="sk-live-test", base_url="https://api.evolink.ai", public_url="https://studio.example")
    at = _studio(demo_app, "seedance-2.0-image-to-video")
    at.file_uploader(key="upload_image_0").set_value([("a.png", _png(), "image/png")]).run()
    (link,) = _links(at, "image_urls")
    assert re.fullmatch(r"https://studio\.example/api/uploads/[A-Za-z0-9_-]{32}", link)
