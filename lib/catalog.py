"""The nine Seedance 2.0 models and what each accepts: data, kept in one place.

Source: the provider's API reference for all models
(``video-generations-api-reference-all-models``). Where the older text-to-video guide
disagrees (it says 1080p is unsupported), the newer reference wins: 1080p is offered
on the three standard models only. Changing what a model accepts is a data change in
the tables below, nothing else. ``MEDIA`` names each kind of media input once: its
request field, its limit on a model and its words on screen.

Example:
    >>> MODELS["seedance-2.0-fast-text-to-video"].qualities
    ('480p', '720p')
    >>> resolution("9:16", "720p")
    (720, 1280)
    >>> MODELS["seedance-2.0-reference-to-video"].limits("audio").max, MEDIA["audio"].many
    (3, 'audio clips')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lib.i18n import t

Mode = Literal["text", "image", "reference"]
Tier = Literal["standard", "fast", "mini"]

QUALITIES: tuple[str, ...] = ("480p", "720p", "1080p")
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive")

DURATION_MIN = 4
DURATION_MAX = 15

# What the API uses when a field is left out of the request body.
DEFAULTS = {
    "duration": 5,
    "quality": "720p",
    "aspect_ratio": "16:9",
    "generate_audio": True,
    "content_filter": True,
    "web_search": False,
}

# Provider limits on the prompt (the seeds): recommended lengths and the hard maximum.
PROMPT_MAX_TOKENS = 10_000
PROMPT_RECOMMENDED_WORDS = 1000  # English words
PROMPT_RECOMMENDED_CJK = 500  # Chinese characters

# Pixel size of every aspect ratio x quality (the API reference's table).
PIXELS: dict[str, dict[str, tuple[int, int]]] = {
    "16:9": {"480p": (864, 496), "720p": (1280, 720), "1080p": (1920, 1080)},
    "4:3": {"480p": (752, 560), "720p": (1112, 834), "1080p": (1664, 1248)},
    "1:1": {"480p": (640, 640), "720p": (960, 960), "1080p": (1440, 1440)},
    "3:4": {"480p": (560, 752), "720p": (834, 1112), "1080p": (1248, 1664)},
    "9:16": {"480p": (496, 864), "720p": (720, 1280), "1080p": (1080, 1920)},
    "21:9": {"480p": (992, 432), "720p": (1470, 630), "1080p": (2206, 946)},
}

ASPECT_RATIO_LABELS = {
    "16:9": "16:9 landscape",
    "9:16": "9:16 portrait",
    "1:1": "1:1 square",
    "4:3": "4:3",
    "3:4": "3:4",
    "21:9": "21:9 ultrawide",
    "adaptive": "adaptive (the model chooses)",
}


@dataclass(frozen=True)
class MediaLimits:
    """How many inputs of one kind a model takes: ``(0, 0)`` means none at all."""

    min: int = 0
    max: int = 0

    @property
    def accepted(self) -> bool:
        return self.max > 0


@dataclass(frozen=True)
class ModelSpec:
    """One model: its id, what it is for, and what it accepts."""

    id: str
    mode: Mode
    tier: Tier
    qualities: tuple[str, ...]
    web_search: bool
    images: MediaLimits = MediaLimits()
    videos: MediaLimits = MediaLimits()
    audios: MediaLimits = MediaLimits()
    # Reference-to-video: audio never alone; at least one image or video.
    needs_image_or_video: bool = False

    @property
    def label(self) -> str:
        """What the model picker shows, in the reader's language: "Text to video · fast"."""
        return t("{mode} · {tier}", mode=t(_MODE_LABEL[self.mode]), tier=t(self.tier))

    @property
    def summary(self) -> str:
        """One sentence on what the model is for, in the reader's language."""
        return t(
            "{mode} {tier}: {what}.",
            mode=t(_MODE_SUMMARY[self.mode]),
            tier=t(self.tier.capitalize()),
            what=t(_TIER_SUMMARY[self.tier]),
        )

    @property
    def takes_media(self) -> bool:
        return self.images.accepted or self.videos.accepted or self.audios.accepted

    def limits(self, kind: str) -> MediaLimits:
        """How many media of ``kind`` (``"image"``, ``"video"``, ``"audio"``) this model takes."""
        return getattr(self, MEDIA[kind].limits)


@dataclass(frozen=True)
class MediaKind:
    """One kind of media input: the request field that carries it, the model limit, and its words on screen."""

    kind: str  # as in a prompt reference: @image1, @video1, @audio1
    field: str  # the request field with its links
    limits: str  # the ModelSpec attribute with its MediaLimits
    one: str  # "image"
    many: str  # "images"
    links_label: str  # the parameter panel's field
    example: str  # a placeholder link


# Every kind of media a request can carry, in the order the panel and messages list them.
MEDIA: dict[str, MediaKind] = {
    m.kind: m
    for m in (
        MediaKind(
            "image", "image_urls", "images", "image", "images", "Image links", "https://example.com/reference.jpg"
        ),
        MediaKind(
            "video", "video_urls", "videos", "video", "videos", "Video links", "https://example.com/reference.mp4"
        ),
        MediaKind(
            "audio",
            "audio_urls",
            "audios",
            "audio clip",
            "audio clips",
            "Audio links",
            "https://example.com/reference.mp3",
        ),
    )
}
MEDIA_BY_FIELD: dict[str, MediaKind] = {m.field: m for m in MEDIA.values()}


@dataclass(frozen=True)
class FileLimits:
    """What the provider accepts in one file of a kind of media (the API reference's requirements).

    Sizes in bytes (decimal megabytes: a file under the limit is under it however the
    provider counts), lengths in seconds, ratios as width / height.
    """

    formats: tuple[str, ...]  # the formats' names, as a person says them
    suffixes: tuple[str, ...]  # file name endings a file picker offers
    max_bytes: int
    side_px: tuple[int, int] | None = None  # each of width and height
    ratio: tuple[float, float] | None = None
    frame_pixels: tuple[int, int] | None = None  # width x height
    seconds: tuple[float, float] | None = None  # one file
    total_seconds: float | None = None  # every file of this kind in one request
    fps: tuple[float, float] | None = None


_MB = 1_000_000
# The provider's limits per file (the API reference: image_urls, video_urls, audio_urls).
FILE_LIMITS: dict[str, FileLimits] = {
    "image": FileLimits(
        ("JPEG", "PNG", "WebP"), ("jpg", "jpeg", "png", "webp"), 30 * _MB, side_px=(300, 6000), ratio=(0.4, 2.5)
    ),
    "video": FileLimits(
        ("MP4", "MOV"),
        ("mp4", "mov"),
        50 * _MB,
        side_px=(300, 6000),
        ratio=(0.4, 2.5),
        frame_pixels=(409_600, 2_086_876),
        seconds=(2, 15),
        total_seconds=15,
        fps=(24, 60),
    ),
    "audio": FileLimits(("WAV", "MP3"), ("wav", "mp3"), 15 * _MB, seconds=(2, 15), total_seconds=15),
}


_TIER_SUMMARY = {
    "standard": "best quality, up to 1080p",
    "fast": "quicker and cheaper, up to 720p",
    "mini": "cheapest drafts, up to 720p",
}
_MODE_SUMMARY = {
    "text": "Text to video: a video from words alone.",
    "image": "Image to video: animates 1 image (first frame) or 2 (first and last frame).",
    "reference": ("Reference to video: up to 9 images, 3 videos and 3 audio clips guide style, motion and sound."),
}
_MODE_LABEL = {"text": "Text to video", "image": "Image to video", "reference": "Reference to video"}


def _spec(mode: Mode, tier: Tier) -> ModelSpec:
    prefix = "seedance-2.0-" if tier == "standard" else f"seedance-2.0-{tier}-"
    model_id = f"{prefix}{mode}-to-video"
    media: dict = {}
    if mode == "image":
        media = {"images": MediaLimits(1, 2)}
    elif mode == "reference":
        media = {
            "images": MediaLimits(0, 9),
            "videos": MediaLimits(0, 3),
            "audios": MediaLimits(0, 3),
            "needs_image_or_video": True,
        }
    return ModelSpec(
        id=model_id,
        mode=mode,
        tier=tier,
        qualities=QUALITIES if tier == "standard" else ("480p", "720p"),
        web_search=mode == "text" and tier in ("standard", "fast"),
        **media,
    )


MODES: tuple[Mode, ...] = ("text", "image", "reference")
TIERS: tuple[Tier, ...] = ("standard", "fast", "mini")

MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in (_spec(mode, tier) for mode in MODES for tier in TIERS)}

DEFAULT_MODEL = "seedance-2.0-text-to-video"


def resolution(aspect_ratio: str, quality: str) -> tuple[int, int] | None:
    """Pixel size ``(width, height)`` of a ratio at a quality; None for ``adaptive``.

    >>> resolution("21:9", "1080p")
    (2206, 946)
    """
    if aspect_ratio == "adaptive":
        return None
    try:
        return PIXELS[aspect_ratio][quality]
    except KeyError:
        raise ValueError(f"unknown aspect ratio or quality: {aspect_ratio!r}, {quality!r}") from None
