"""The request contract (every documented rule, in plain words) and the response models."""

from __future__ import annotations

import doctest
import json

import pytest
from pydantic import ValidationError

from lib import catalog, schema
from lib.schema import (
    Balance,
    ErrorBody,
    GenerationRequest,
    Task,
    TaskState,
    approx_tokens,
    error_messages,
)

TEXT = "seedance-2.0-text-to-video"
FAST_TEXT = "seedance-2.0-fast-text-to-video"
MINI_TEXT = "seedance-2.0-mini-text-to-video"
IMAGE = "seedance-2.0-image-to-video"
FAST_IMAGE = "seedance-2.0-fast-image-to-video"
MINI_IMAGE = "seedance-2.0-mini-image-to-video"
REF = "seedance-2.0-reference-to-video"
FAST_REF = "seedance-2.0-fast-reference-to-video"
MINI_REF = "seedance-2.0-mini-reference-to-video"

STANDARD = [TEXT, IMAGE, REF]
NOT_STANDARD = [FAST_TEXT, FAST_IMAGE, FAST_REF, MINI_TEXT, MINI_IMAGE, MINI_REF]
TEXT_MODELS = [TEXT, FAST_TEXT, MINI_TEXT]
IMAGE_MODELS = [IMAGE, FAST_IMAGE, MINI_IMAGE]
REF_MODELS = [REF, FAST_REF, MINI_REF]

IMG = "https://example.com/image.jpg"
VID = "https://example.com/reference.mp4"
AUD = "https://example.com/bgm.mp3"

# What a person at the keyboard must never see.
JARGON = ("Input should be", "type=", "value_error", "For further information", "pydantic", "errors.pydantic.dev")


def _media_for(model: str) -> dict:
    """The smallest valid media for a model (none, one image, or one image)."""
    return {"image_urls": [IMG]} if catalog.MODELS[model].takes_media else {}


def make(model: str = TEXT, prompt: str = "A cat plays the piano", **kw) -> GenerationRequest:
    return GenerationRequest(model=model, prompt=prompt, **kw)


def rejected(**kw) -> dict[str, str]:
    """The plain messages of a request that must be refused, checked for jargon."""
    kw.setdefault("model", TEXT)
    kw.setdefault("prompt", "A cat plays the piano")
    with pytest.raises(ValidationError) as info:
        GenerationRequest(**kw)
    messages = error_messages(info.value)
    assert messages, "a rejected request must explain itself"
    for text in messages.values():
        assert text.strip()
        for word in JARGON:
            assert word not in text, f"developer jargon {word!r} in {text!r}"
    return messages


# --- approx_tokens -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("a", 1),
        ("abcd", 1),
        ("abcde", 2),
        ("abcd efgh", 3),  # 9 characters of English
        ("A cat plays the piano", 6),  # 21 characters
        ("你好", 2),  # one token per Chinese character
        ("一只猫在弹钢琴", 7),
        ("こんにちは", 5),  # Japanese kana
        ("안녕하세요", 5),  # Korean hangul
        ("猫 cat", 1 + 1),  # 1 CJK + 4 other characters
        ("你好, world!", 2 + 2),  # 2 CJK + 8 other characters -> 2
        ("你好, world!!", 2 + 3),  # 2 CJK + 9 other characters -> 3
        ("𠀀𠀁", 2),  # CJK extension B (outside the BMP) still counts one each
        ("x" * 40_000, 10_000),
        ("x" * 40_001, 10_001),
        ("你" * 10_000, 10_000),
    ],
)
def test_approx_tokens(text, tokens):
    assert approx_tokens(text) == tokens


def test_approx_tokens_is_generous_for_english():
    # Real tokenizers give roughly 1.3 tokens per English word; we count more, never fewer.
    prompt = " ".join(["cinematic"] * 1000)
    assert approx_tokens(prompt) >= 1300


# --- model and prompt ----------------------------------------------------------------------


@pytest.mark.parametrize("model", list(catalog.MODELS))
def test_every_catalog_model_is_accepted(model):
    req = make(model, **_media_for(model))
    assert req.model == model
    assert req.spec is catalog.MODELS[model]


@pytest.mark.parametrize(
    "model",
    ["seedance-2.0", "seedance-1.0-pro", "SEEDANCE-2.0-TEXT-TO-VIDEO", " seedance-2.0-text-to-video", "", None, 3],
)
def test_unknown_model_rejected(model):
    msg = rejected(model=model)["model"]
    assert msg.startswith("Model:")
    assert "9" in msg and catalog.DEFAULT_MODEL in msg


@pytest.mark.parametrize("prompt", ["", " ", "\n\t  ", None, 42])
def test_blank_prompt_rejected(prompt):
    msg = rejected(prompt=prompt)["prompt"]
    assert msg.startswith("Prompt:")
    assert "empty" in msg


@pytest.mark.parametrize(
    ("prompt", "ok"),
    [
        ("x" * 40_000, True),  # exactly 10000 tokens
        ("x" * 40_001, False),
        ("你" * 10_000, True),
        ("你" * 10_001, False),
        ("你" * 9_999 + "abcd", True),
        ("你" * 9_999 + "abcde", False),
    ],
)
def test_prompt_token_limit_boundary(prompt, ok):
    if ok:
        assert make(prompt=prompt).prompt == prompt
    else:
        msg = rejected(prompt=prompt)["prompt"]
        assert msg.startswith("Prompt:")
        assert "10,000" in msg and "10,001" in msg


def test_missing_model_and_prompt():
    with pytest.raises(ValidationError) as info:
        GenerationRequest()
    messages = error_messages(info.value)
    assert messages["model"].startswith("Model:") and "required" in messages["model"]
    assert messages["prompt"].startswith("Prompt:") and "required" in messages["prompt"]


def test_unknown_setting_rejected_with_the_allowed_ones():
    msg = rejected(resolution="720p")["resolution"]
    assert msg.startswith("resolution:")
    assert "quality" in msg and "aspect_ratio" in msg


# --- duration ------------------------------------------------------------------------------


@pytest.mark.parametrize("duration", [4, 5, 8, 14, 15])
def test_duration_accepted(duration):
    assert make(duration=duration).duration == duration


@pytest.mark.parametrize("duration", [3, 16, 0, -5, 4.5, 8.0, True, False, "8", "eight", [8]])
def test_duration_rejected(duration):
    msg = rejected(duration=duration)["duration"]
    assert msg.startswith("Duration:")
    assert "whole number" in msg and "4" in msg and "15" in msg


# --- quality and aspect ratio --------------------------------------------------------------


@pytest.mark.parametrize("model", STANDARD)
@pytest.mark.parametrize("quality", ["480p", "720p", "1080p"])
def test_standard_models_take_every_quality(model, quality):
    assert make(model, quality=quality, **_media_for(model)).quality == quality


@pytest.mark.parametrize("model", NOT_STANDARD)
def test_fast_and_mini_refuse_1080p(model):
    msg = rejected(model=model, quality="1080p", **_media_for(model))["quality"]
    assert msg.startswith("Quality:")
    assert "480p or 720p" in msg and "standard" in msg


@pytest.mark.parametrize("model", NOT_STANDARD)
@pytest.mark.parametrize("quality", ["480p", "720p"])
def test_fast_and_mini_take_480p_and_720p(model, quality):
    assert make(model, quality=quality, **_media_for(model)).quality == quality


@pytest.mark.parametrize("quality", ["4k", "1080", "720P", "hd", "", 720])
def test_unknown_quality_rejected(quality):
    msg = rejected(quality=quality)["quality"]
    assert msg.startswith("Quality:")
    assert all(q in msg for q in ("480p", "720p", "1080p"))


@pytest.mark.parametrize("ratio", catalog.ASPECT_RATIOS)
def test_aspect_ratios_accepted(ratio):
    assert make(aspect_ratio=ratio).aspect_ratio == ratio


@pytest.mark.parametrize("ratio", ["2:1", "16/9", "16:10", "auto", "", 1.78])
def test_unknown_aspect_ratio_rejected(ratio):
    msg = rejected(aspect_ratio=ratio)["aspect_ratio"]
    assert msg.startswith("Aspect ratio:")
    assert all(r in msg for r in catalog.ASPECT_RATIOS)


@pytest.mark.parametrize(
    ("field", "name"),
    [("generate_audio", "Generate audio"), ("content_filter", "Content filter"), ("web_search", "Web search")],
)
@pytest.mark.parametrize("value", ["yes", 1, 0, "true"])
def test_switches_must_be_true_or_false(field, name, value):
    msg = rejected(**{field: value})[field]
    assert msg.startswith(f"{name}:")
    assert "true or false" in msg


# --- web search ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", [TEXT, FAST_TEXT])
@pytest.mark.parametrize("value", [True, False])
def test_web_search_on_standard_and_fast_text(model, value):
    req = make(model, web_search=value)
    assert req.web_search is value
    assert req.to_payload()["model_params"] == {"web_search": value}


@pytest.mark.parametrize("model", [MINI_TEXT, *IMAGE_MODELS, *REF_MODELS])
def test_web_search_refused_where_unsupported(model):
    msg = rejected(model=model, web_search=True, **_media_for(model))["web_search"]
    assert msg.startswith("Web search:")
    assert "standard and fast text-to-video" in msg


@pytest.mark.parametrize("model", [MINI_TEXT, *IMAGE_MODELS, *REF_MODELS])
def test_web_search_off_is_not_sent_where_unsupported(model):
    # model_params is documented for the standard and fast text-to-video models only.
    req = make(model, web_search=False, **_media_for(model))
    assert "model_params" not in req.to_payload()
    assert req.effective("web_search") is False


# --- media ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", TEXT_MODELS)
@pytest.mark.parametrize(
    ("field", "word"), [("image_urls", "Images"), ("video_urls", "Videos"), ("audio_urls", "Audio clips")]
)
def test_text_models_take_no_media(model, field, word):
    urls = {"image_urls": IMG, "video_urls": VID, "audio_urls": AUD}[field]
    msg = rejected(model=model, **{field: [urls]})["media"]
    assert msg.startswith(f"{word}:")
    assert "does not take" in msg and "model" in msg


@pytest.mark.parametrize("model", IMAGE_MODELS)
@pytest.mark.parametrize(("field", "url"), [("video_urls", VID), ("audio_urls", AUD)])
def test_image_models_take_images_only(model, field, url):
    msg = rejected(model=model, image_urls=[IMG], **{field: [url]})["media"]
    assert "does not take" in msg and "reference-to-video" in msg


@pytest.mark.parametrize("model", IMAGE_MODELS)
@pytest.mark.parametrize(("count", "ok"), [(0, False), (1, True), (2, True), (3, False)])
def test_image_models_take_one_or_two_images(model, count, ok):
    urls = [f"https://example.com/{i}.png" for i in range(count)]
    if ok:
        assert make(model, image_urls=urls).image_urls == tuple(urls)
    else:
        msg = rejected(model=model, image_urls=urls)["media"]
        assert msg.startswith("Images:")
        assert "1 to 2 images" in msg and f"you gave {count}" in msg


def test_image_model_without_any_image_list():
    msg = rejected(model=IMAGE)["media"]
    assert "1 to 2 images" in msg and "you gave 0" in msg


def _urls(kind: str, n: int) -> list[str]:
    ext = {"image": "png", "video": "mp4", "audio": "mp3"}[kind]
    return [f"https://cdn.example.com/{kind}{i}.{ext}" for i in range(n)]


REFERENCE_CASES = [
    # images, videos, audios, ok, (word in message)
    (1, 0, 0, True, None),
    (9, 0, 0, True, None),
    (10, 0, 0, False, "at most 9 images"),
    (0, 1, 0, True, None),  # video only
    (0, 3, 0, True, None),
    (0, 4, 0, False, "at most 3 videos"),
    (1, 0, 3, True, None),
    (1, 0, 4, False, "at most 3 audio clips"),
    (0, 1, 3, True, None),
    (9, 3, 3, True, None),
    (0, 0, 1, False, "audio cannot be used alone"),
    (0, 0, 3, False, "audio cannot be used alone"),
    (0, 0, 0, False, "at least one image or video"),
]


@pytest.mark.parametrize("model", REF_MODELS)
@pytest.mark.parametrize(("images", "videos", "audios", "ok", "says"), REFERENCE_CASES)
def test_reference_media_counts(model, images, videos, audios, ok, says):
    kw = {}
    for field, kind, n in (
        ("image_urls", "image", images),
        ("video_urls", "video", videos),
        ("audio_urls", "audio", audios),
    ):
        if n:
            kw[field] = _urls(kind, n)
    if ok:
        req = make(model, **kw)
        body = req.to_payload()
        for field, value in kw.items():
            assert body[field] == value
    else:
        msg = rejected(model=model, **kw)["media"]
        assert says in msg
        assert msg.split(":")[0] in ("Images", "Videos", "Audio clips", "Media")


def test_reference_with_empty_lists_is_rejected():
    msg = rejected(model=REF, image_urls=[], video_urls=[], audio_urls=[])["media"]
    assert "at least one image or video" in msg


def test_empty_media_lists_are_not_sent():
    # An empty list means "none": a text-to-video body must never carry image_urls at all.
    assert make(TEXT, image_urls=[]).to_payload() == {"model": TEXT, "prompt": "A cat plays the piano"}
    body = make(REF, video_urls=[VID], image_urls=[], audio_urls=()).to_payload()
    assert body == {"model": REF, "prompt": "A cat plays the piano", "video_urls": [VID]}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "/images/a.png",
        "images/a.png",
        "//example.com/a.png",
        "example.com/a.png",
        "http://",
        "https:///a.png",
        "",
        "   ",
    ],
)
@pytest.mark.parametrize("field", ["image_urls", "video_urls", "audio_urls"])
def test_media_urls_must_be_http_or_https(field, url):
    kw = {"image_urls": [IMG]} if field != "image_urls" else {}
    kw[field] = [url] if field == "image_urls" else [VID, url] if field == "video_urls" else [url]
    messages = rejected(model=REF, **kw)
    msg = messages[field]
    assert "http://" in msg and "https://" in msg
    word = {"image_urls": "Image", "video_urls": "Video", "audio_urls": "Audio clip"}[field]
    position = 2 if field == "video_urls" else 1
    assert msg.startswith(f"{word} {position}:")


@pytest.mark.parametrize("value", [IMG, 5, {"url": IMG}])
def test_media_must_be_a_list(value):
    msg = rejected(model=IMAGE, image_urls=value)["image_urls"]
    assert msg.startswith("Images:") and "list" in msg


def test_media_non_string_item_rejected():
    msg = rejected(model=IMAGE, image_urls=[IMG, 42])["image_urls"]
    assert msg.startswith("Image 2:")


@pytest.mark.parametrize("url", ["http://example.com/a.png", "https://example.com/a.png", "HTTPS://EXAMPLE.COM/A.PNG"])
def test_media_urls_http_and_https_accepted(url):
    assert make(IMAGE, image_urls=[url]).image_urls == (url,)


def test_media_urls_are_trimmed():
    assert make(IMAGE, image_urls=[f"  {IMG}\n"]).to_payload()["image_urls"] == [IMG]


# --- callback URL --------------------------------------------------------------------------


def _long_url(length: int) -> str:
    base = "https://hooks.example.com/"
    return base + "a" * (length - len(base))


@pytest.mark.parametrize(
    "url",
    [
        "https://your-domain.com/webhooks/video-task-completed",
        "https://example.com",
        "https://8.8.8.8/hook",
        "https://1.1.1.1:8443/hook",
        "https://172.15.0.1/hook",  # just below 172.16.0.0/12
        "https://172.32.0.1/hook",  # just above it
        "https://192.169.0.1/hook",
        "https://11.0.0.1/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://localhost.example.com/hook",  # a public name that merely contains "localhost"
        "https://cafe.example/hook",
        _long_url(2048),
    ],
)
def test_callback_url_accepted(url):
    assert make(callback_url=url).to_payload()["callback_url"] == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hook", "https://"),
        ("ftp://example.com/hook", "https://"),
        ("example.com/hook", "https://"),
        ("https://", "https://"),
        ("", "https://"),
        (_long_url(2049), "2048"),
        ("https://localhost/hook", "localhost"),
        ("https://LOCALHOST:8501/hook", "localhost"),
        ("https://localhost./hook", "localhost"),
        ("https://app.localhost/hook", "localhost"),
        ("https://127.0.0.1/hook", "private"),
        ("https://127.255.255.254/hook", "private"),
        ("https://10.0.0.1/hook", "private"),
        ("https://10.255.255.255/hook", "private"),
        ("https://172.16.0.1/hook", "private"),
        ("https://172.31.255.255/hook", "private"),
        ("https://192.168.1.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://0.0.0.0/hook", "private"),
        ("https://[::1]/hook", "private"),
        ("https://[::]/hook", "private"),
        ("https://[fc00::1]/hook", "private"),
        ("https://[fd12:3456::1]/hook", "private"),
        ("https://[fe80::1]/hook", "private"),
        ("https://[febf::1]/hook", "private"),
        ("https://[::ffff:127.0.0.1]/hook", "private"),
        ("https://[::ffff:192.168.0.1]/hook", "private"),
        ("https://user:pw@127.0.0.1/hook", "private"),
        # Shorthand IPv4 literals resolvers accept for 127.0.0.1 / 10.0.0.1
        ("https://127.1/hook", "private"),
        ("https://2130706433/hook", "private"),
        ("https://0x7f.0.0.1/hook", "private"),
        ("https://10.1/hook", "private"),
        ("https://[::127.0.0.1]/hook", "private"),
        (5, "https://"),
    ],
)
def test_callback_url_rejected(url, says):
    msg = rejected(callback_url=url)["callback_url"]
    assert msg.startswith("Callback URL:")
    assert says in msg


def test_callback_url_length_message_says_the_limit_and_the_length():
    msg = rejected(callback_url=_long_url(2049))["callback_url"]
    assert "at most 2048 characters" in msg and "2049" in msg


# --- messages in general -------------------------------------------------------------------

MESSAGE_CASES = [
    # kwargs, field key, human name, what is allowed
    ({"model": "veo-3"}, "model", "Model:", "9 Seedance 2.0 models"),
    ({"prompt": ""}, "prompt", "Prompt:", "cannot be empty"),
    ({"prompt": "x" * 40_004}, "prompt", "Prompt:", "limit of 10,000"),
    ({"duration": 16}, "duration", "Duration:", "from 4 to 15"),
    ({"quality": "4k"}, "quality", "Quality:", "480p, 720p, 1080p"),
    ({"model": MINI_TEXT, "quality": "1080p"}, "quality", "Quality:", "480p or 720p"),
    ({"aspect_ratio": "2:1"}, "aspect_ratio", "Aspect ratio:", "16:9"),
    ({"generate_audio": "on"}, "generate_audio", "Generate audio:", "true or false"),
    ({"content_filter": 1}, "content_filter", "Content filter:", "true or false"),
    ({"model": MINI_TEXT, "web_search": True}, "web_search", "Web search:", "standard and fast text-to-video"),
    ({"image_urls": [IMG]}, "media", "Images:", "image-to-video or reference-to-video"),
    ({"model": IMAGE, "image_urls": [IMG] * 3}, "media", "Images:", "1 to 2 images"),
    ({"model": REF, "audio_urls": [AUD]}, "media", "Media:", "at least one image or video"),
    ({"model": IMAGE, "image_urls": ["file:///x.png"]}, "image_urls", "Image 1:", "https://"),
    ({"callback_url": "http://example.com"}, "callback_url", "Callback URL:", "https://"),
    ({"callback_url": "https://10.0.0.1/x"}, "callback_url", "Callback URL:", "public address"),
]


@pytest.mark.parametrize(("kw", "field", "name", "allowed"), MESSAGE_CASES)
def test_messages_name_the_field_and_what_is_allowed(kw, field, name, allowed):
    messages = rejected(**kw)
    assert field in messages, messages
    assert messages[field].startswith(name)
    assert allowed in messages[field]
    assert messages[field].rstrip().endswith((".", ")"))


def test_several_field_errors_are_reported_together():
    messages = rejected(duration=3, quality="4k", aspect_ratio="2:1")
    assert {"duration", "quality", "aspect_ratio"} <= set(messages)


def test_message_braces_in_user_input_are_kept_verbatim():
    assert "'{foo}'" in rejected(quality="{foo}")["quality"]


def test_non_object_request_gets_a_plain_message():
    with pytest.raises(ValidationError) as info:
        GenerationRequest.model_validate("A cat")
    (msg,) = error_messages(info.value).values()
    for word in JARGON:
        assert word not in msg


# --- payload -------------------------------------------------------------------------------


PAYLOAD_CASES = [
    (
        {"model": TEXT, "prompt": "A cat"},
        {"model": TEXT, "prompt": "A cat"},
    ),
    (
        # the seed's curl example, exactly
        {
            "model": TEXT,
            "prompt": "A cat playing the Moonlight Sonata on a piano, cinematic lighting, close-up shot",
            "duration": 8,
            "quality": "720p",
            "aspect_ratio": "16:9",
            "generate_audio": True,
            "content_filter": True,
        },
        {
            "model": TEXT,
            "prompt": "A cat playing the Moonlight Sonata on a piano, cinematic lighting, close-up shot",
            "duration": 8,
            "quality": "720p",
            "aspect_ratio": "16:9",
            "generate_audio": True,
            "content_filter": True,
        },
    ),
    (
        {"model": TEXT, "prompt": "Weather", "web_search": True, "duration": 8},
        {"model": TEXT, "prompt": "Weather", "duration": 8, "model_params": {"web_search": True}},
    ),
    (
        {"model": FAST_TEXT, "prompt": "Weather", "web_search": False},
        {"model": FAST_TEXT, "prompt": "Weather", "model_params": {"web_search": False}},
    ),
    (
        {"model": TEXT, "prompt": "A cat", "generate_audio": False, "content_filter": False},
        {"model": TEXT, "prompt": "A cat", "generate_audio": False, "content_filter": False},
    ),
    (
        {"model": IMAGE, "prompt": "Animate", "image_urls": (IMG, "https://example.com/last.png")},
        {"model": IMAGE, "prompt": "Animate", "image_urls": [IMG, "https://example.com/last.png"]},
    ),
    (
        {
            "model": REF,
            "prompt": "Use @image1",
            "image_urls": [IMG],
            "video_urls": [VID],
            "audio_urls": [AUD],
            "aspect_ratio": "adaptive",
            "callback_url": "https://your-domain.com/webhooks/video-task-completed",
        },
        {
            "model": REF,
            "prompt": "Use @image1",
            "aspect_ratio": "adaptive",
            "image_urls": [IMG],
            "video_urls": [VID],
            "audio_urls": [AUD],
            "callback_url": "https://your-domain.com/webhooks/video-task-completed",
        },
    ),
]


@pytest.mark.parametrize(("kw", "body"), PAYLOAD_CASES)
def test_payload_is_the_exact_body(kw, body):
    req = GenerationRequest(**kw)
    payload = req.to_payload()
    assert payload == body
    assert json.loads(json.dumps(payload)) == body  # plain JSON types only (lists, not tuples)
    assert GenerationRequest.from_payload(payload) == req
    assert GenerationRequest.from_payload(payload).to_payload() == body


def test_unset_fields_are_left_out():
    payload = make().to_payload()
    assert set(payload) == {"model", "prompt"}
    for field in (
        "duration",
        "quality",
        "aspect_ratio",
        "generate_audio",
        "content_filter",
        "model_params",
        "callback_url",
    ):
        assert field not in payload


def test_model_params_only_when_web_search_is_set():
    assert "model_params" not in make(TEXT).to_payload()
    assert make(TEXT, web_search=False).to_payload()["model_params"] == {"web_search": False}
    assert make(TEXT, web_search=True).to_payload()["model_params"] == {"web_search": True}


def test_payload_does_not_share_state_with_the_request():
    req = make(IMAGE, image_urls=[IMG])
    req.to_payload()["image_urls"].append("https://evil.example/x.png")
    assert req.to_payload()["image_urls"] == [IMG]


@pytest.mark.parametrize(
    ("field", "default"),
    [
        ("duration", 5),
        ("quality", "720p"),
        ("aspect_ratio", "16:9"),
        ("generate_audio", True),
        ("content_filter", True),
        ("web_search", False),
    ],
)
def test_effective_falls_back_to_the_api_default(field, default):
    assert make().effective(field) == default


def test_effective_uses_the_set_value():
    req = make(duration=12, quality="480p", generate_audio=False)
    assert (req.effective("duration"), req.effective("quality"), req.effective("generate_audio")) == (12, "480p", False)


def test_from_payload_the_seed_web_search_example():
    body = {
        "model": TEXT,
        "prompt": "Today's New York weather forecast, with city skyline animation and temperature overlay display",
        "duration": 8,
        "aspect_ratio": "16:9",
        "model_params": {"web_search": True},
    }
    req = GenerationRequest.from_payload(body)
    assert req.web_search is True and req.duration == 8
    assert req.to_payload() == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": TEXT, "prompt": "x", "model_params": {"seed": 1}}, "model_params"),
        ({"model": TEXT, "prompt": "x", "model_params": "on"}, "model_params"),
        ({"model": TEXT, "prompt": "x", "model_params": {"web_search": "yes"}}, "web_search"),
        ({"model": MINI_TEXT, "prompt": "x", "model_params": {"web_search": True}}, "web_search"),
        ({"model": TEXT, "prompt": "x", "duration": "8"}, "duration"),
        (["not", "an", "object"], "request"),
    ],
)
def test_from_payload_rejects_invalid_bodies_as_validation_errors(body, field):
    with pytest.raises(ValidationError) as info:
        GenerationRequest.from_payload(body)
    messages = error_messages(info.value)
    assert field in messages
    for word in JARGON:
        assert word not in messages[field]


def test_request_is_frozen_and_hashable():
    req = make(duration=8)
    with pytest.raises(ValidationError):
        req.duration = 9  # type: ignore[misc]
    assert req.duration == 8
    assert hash(req) == hash(make(duration=8))
    assert isinstance(req.image_urls, type(None))
    assert isinstance(make(IMAGE, image_urls=[IMG]).image_urls, tuple)


# --- responses -----------------------------------------------------------------------------

CREATE_RESPONSE = {
    "created": 1761313744,
    "id": "task-unified-1774857405-abc123",
    "model": "seedance-2.0-text-to-video",
    "object": "video.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 165, "video_duration": 8},
    "type": "video",
    "usage": {"billing_rule": "per_second", "credits_reserved": 50, "user_group": "default"},
}

COMPLETED_TASK = {
    "created": 1756817821,
    "id": "task-unified-1756817821-4x3rx6ny",
    "model": "seedance-2.0-text-to-video",
    "object": "video.generation.task",
    "progress": 100,
    "results": ["https://cdn.example.com/out/video.mp4"],
    "status": "completed",
    "task_info": {"can_cancel": False},
    "type": "video",
}

FAILED_TASK = {
    "created": 1756817821,
    "id": "task-unified-1756817821-failed01",
    "model": "seedance-2.0-text-to-video",
    "object": "video.generation.task",
    "progress": 30,
    "status": "failed",
    "error": {
        "code": "content_policy_violation",
        "message": "Content policy violation.\nYour request was blocked by safety filters.",
        "type": "task_error",
    },
    "task_info": {"can_cancel": False},
    "type": "video",
}


def test_task_create_response():
    task = Task.model_validate(CREATE_RESPONSE)
    assert task.id == "task-unified-1774857405-abc123"
    assert task.state is TaskState.PENDING and not task.state.terminal
    assert task.progress == 0
    assert task.estimated_time == 165
    assert task.credits_reserved == 50
    assert task.task_info.video_duration == 8 and task.task_info.can_cancel is True
    assert task.usage.billing_rule == "per_second"
    assert task.video_url is None and task.error is None


def test_task_create_response_from_json_text():
    task = Task.model_validate_json(json.dumps(CREATE_RESPONSE))
    assert task.created == 1761313744 and task.object == "video.generation.task"


def test_task_completed_with_results():
    task = Task.model_validate(COMPLETED_TASK)
    assert task.state is TaskState.COMPLETED and task.state.terminal
    assert task.progress == 100
    assert task.video_url == "https://cdn.example.com/out/video.mp4"
    assert task.estimated_time is None and task.credits_reserved is None


def test_task_failed_with_error():
    task = Task.model_validate(FAILED_TASK)
    assert task.state is TaskState.FAILED and task.state.terminal
    assert task.error.code == "content_policy_violation"
    assert task.error.type == "task_error"
    assert "safety filters" in task.error.message
    assert task.video_url is None


@pytest.mark.parametrize(
    ("status", "state", "terminal"),
    [
        ("pending", TaskState.PENDING, False),
        ("processing", TaskState.PROCESSING, False),
        ("completed", TaskState.COMPLETED, True),
        ("failed", TaskState.FAILED, True),
        ("COMPLETED", TaskState.COMPLETED, True),
        (" processing ", TaskState.PROCESSING, False),
        ("cancelled", TaskState.OTHER, True),
        ("canceled", TaskState.OTHER, True),
        ("expired", TaskState.OTHER, True),
        ("", TaskState.OTHER, True),
        (None, TaskState.PENDING, False),
        (7, TaskState.OTHER, True),
    ],
)
def test_task_status(status, state, terminal):
    task = Task.model_validate({"id": "task-unified-1", "status": status})
    assert task.state is state
    assert task.state.terminal is terminal


def test_task_without_status_is_pending():
    assert Task.model_validate({"id": "task-unified-1"}).state is TaskState.PENDING


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (0, 0),
        (55, 55),
        (100, 100),
        (101, 100),
        (250, 100),
        (-1, 0),
        (-40, 0),
        (42.7, 42),
        ("60", 60),
        ("abc", 0),
        (None, 0),
        (float("inf"), 100),
        (float("-inf"), 0),
        (float("nan"), 0),
        ("1e3", 100),
    ],
)
def test_task_progress_is_clamped(progress, expected):
    assert Task.model_validate({"id": "task-unified-1", "progress": progress}).progress == expected


def test_task_tolerates_unknown_fields():
    body = {**COMPLETED_TASK, "seed": 42, "task_info": {"can_cancel": False, "queue": 3}, "new_thing": {"a": 1}}
    task = Task.model_validate(body)
    assert task.state is TaskState.COMPLETED
    assert task.model_extra["seed"] == 42
    assert task.task_info.model_extra["queue"] == 3


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        ({"code": 500, "message": "boom"}, "500", "boom"),
        ({"code": None, "message": None}, "unknown_error", ""),
        ({}, "unknown_error", ""),
        (
            {"code": "request_cancelled", "message": "Cancelled", "type": "task_error", "extra": 1},
            "request_cancelled",
            "Cancelled",
        ),
    ],
)
def test_task_error_tolerates_odd_shapes(error, code, message):
    task = Task.model_validate({"id": "task-unified-1", "status": "failed", "error": error})
    assert (task.error.code, task.error.message) == (code, message)


def test_task_needs_an_id():
    with pytest.raises(ValidationError):
        Task.model_validate({"status": "pending"})


CREDITS_RESPONSE = {
    "data": {
        "token": {"remaining_credits": 99416.4429, "unlimited_credits": False, "used_credits": 583.5571},
        "user": {"remaining_credits": 1095.3996, "used_credits": 135.9048},
    },
    "message": "",
    "success": True,
}


def test_balance_documented_response_is_capped_by_the_account():
    # The provider's example: the key may spend 99416 but the account only holds 1095.
    bal = Balance.model_validate(CREDITS_RESPONSE)
    assert bal.success is True
    assert bal.remaining == pytest.approx(1095.3996)
    assert bal.used == pytest.approx(583.5571)  # this key's usage
    assert bal.unlimited is False


def test_balance_key_allowance_below_the_account():
    body = {
        "data": {
            "token": {"remaining_credits": 20, "unlimited_credits": False, "used_credits": 5},
            "user": {"remaining_credits": 1000},
        }
    }
    assert Balance.model_validate(body).remaining == 20


def test_balance_with_only_user_amounts():
    bal = Balance.model_validate({"data": {"user": {"remaining_credits": 12.5, "used_credits": 3}}, "success": True})
    assert bal.remaining == 12.5
    assert bal.used == 3
    assert bal.unlimited is False


def test_balance_unlimited_key_on_a_funded_account():
    body = {
        "data": {
            "token": {"remaining_credits": 0, "unlimited_credits": True, "used_credits": 7},
            "user": {"remaining_credits": 300},
        }
    }
    bal = Balance.model_validate(body)
    assert bal.remaining == 300
    assert bal.unlimited is False


def test_balance_unlimited_key_alone():
    bal = Balance.model_validate({"data": {"token": {"unlimited_credits": True, "used_credits": 7}}})
    assert bal.unlimited is True
    assert bal.remaining is None


@pytest.mark.parametrize(
    "body", [{}, {"data": {}}, {"data": {"token": None, "user": None}}, {"success": False, "message": "x"}]
)
def test_balance_with_nothing_known(body):
    bal = Balance.model_validate(body)
    assert bal.remaining is None and bal.used is None and bal.unlimited is False


def test_balance_tolerates_unknown_fields():
    body = {
        **CREDITS_RESPONSE,
        "currency": "credits",
        "data": {**CREDITS_RESPONSE["data"], "team": {"remaining_credits": 1}},
    }
    assert Balance.model_validate(body).remaining == pytest.approx(1095.3996)


ERROR_EXAMPLES = [
    ({"code": "invalid_request", "message": "Invalid request parameters", "type": "invalid_request_error"}, None),
    ({"code": "unauthorized", "message": "Invalid or expired token", "type": "authentication_error"}, None),
    (
        {
            "code": "insufficient_quota",
            "message": "Insufficient quota. Please top up your account.",
            "type": "insufficient_quota",
        },
        None,
    ),
    ({"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "type": "evo_api_error"}, None),
    (
        {
            "code": "invalid_task_id",
            "message": "Invalid task ID format, must start with 'task-unified-'",
            "type": "invalid_request_error",
            "param": "task_id",
        },
        "task_id",
    ),
]


@pytest.mark.parametrize(("error", "param"), ERROR_EXAMPLES)
def test_error_body_documented_examples(error, param):
    body = ErrorBody.model_validate({"error": error})
    assert body.error.code == error["code"]
    assert body.error.message == error["message"]
    assert body.error.type == error["type"]
    assert body.error.param == param


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ({}, None, None),
        ({"error": {}}, None, None),
        ({"error": {"code": 429, "message": "slow down", "retry": 30}, "request_id": "r1"}, "429", "slow down"),
    ],
)
def test_error_body_tolerates_odd_shapes(raw, code, message):
    body = ErrorBody.model_validate(raw)
    assert (body.error.code, body.error.message) == (code, message)


@pytest.mark.parametrize("module", [schema.request, schema.task])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
