"""What a Studio draft holds (the prompt and every setting), and the one way values are read back into the Studio.

A draft is saved per workspace and participant (``Store.save_draft``) whenever it
changes, and restored on a reload, in a new tab or after a restart. Whatever comes
back, from the database or from a browser, goes through ``clean``: a choice is one
of its options, never the words a menu shows for it (a label like
``"16:9 landscape"`` is read as ``"16:9"``), numbers are in range, switches are
booleans. Anything else is dropped, so the Studio falls back to its default.

Example:
    >>> clean({"model": "Text to video · fast", "aspect_ratio": "9:16 portrait — 720×1280", "duration": "8"})
    {'model': 'seedance-2.0-fast-text-to-video', 'aspect_ratio': '9:16', 'duration': 8}
    >>> clean({"quality": "4K", "generate_audio": "yes", "spam": 1})
    {}
    >>> choice("aspect_ratio", "16:9"), choice("aspect_ratio", "16:9 landscape — 1280×720"), choice("quality", "8K")
    ('16:9', '16:9', None)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lib import catalog

# Settings picked from a list: their options, and the words each option is shown with.
CHOICES: dict[str, dict[str, str]] = {
    "model": {m.id: m.label for m in catalog.MODELS.values()},
    "quality": {q: q for q in catalog.QUALITIES},
    "aspect_ratio": dict(catalog.ASPECT_RATIO_LABELS),
}
SWITCHES = ("generate_audio", "content_filter", "web_search")
TEXTS = ("prompt", "callback_url", *catalog.MEDIA_BY_FIELD)
REFERENCE_SECONDS_MAX = 15.0  # the Studio's "total length of the reference videos" field
FIELDS = (*CHOICES, "duration", *SWITCHES, *TEXTS, "input_video_seconds")
MAX_JSON = 400_000  # characters: far above any prompt the provider accepts, bounded all the same


def choice(field: str, value: object) -> str | None:
    """The option ``value`` names: the option itself, or the words a menu shows for it (with or without a detail
    after " — "); None when it names none."""
    options = CHOICES[field]
    if not isinstance(value, str):
        return None
    if value in options:
        return value
    words = value.split(" — ", 1)[0].strip().casefold()
    for option, label in options.items():
        if words in (label.casefold(), option.casefold()):
            return option
    return None


def _duration(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not catalog.DURATION_MIN <= number <= catalog.DURATION_MAX:
        return None
    return int(number)


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0.0 <= value <= REFERENCE_SECONDS_MAX else None


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields a draft holds, each valid for its widget; the rest is left out (the Studio's default)."""
    out: dict[str, Any] = {}
    for field in FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field in CHOICES:
            cleaned: Any = choice(field, value)
        elif field == "duration":
            cleaned = _duration(value)
        elif field in SWITCHES:
            cleaned = value if isinstance(value, bool) else None
        elif field == "input_video_seconds":
            cleaned = _seconds(value)
        else:
            cleaned = value if isinstance(value, str) else None
        if cleaned is not None:
            out[field] = cleaned
    return out


def dumps(values: Mapping[str, Any]) -> str | None:
    """A draft as stored (sorted JSON); None when it is too large to keep."""
    text = json.dumps(clean(values), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_JSON else None


def loads(text: str | None) -> dict[str, Any]:
    """A stored draft, cleaned; an unreadable one is an empty draft."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return clean(data) if isinstance(data, dict) else {}
