"""A randomized walk over the Studio's settings: what to change next, and the request the screen describes.

The same walk drives the Studio under AppTest (hundreds of changes) and in Chromium
(tens of changes): ``next_change`` picks a setting and a new value the panel offers
for the model on screen; ``expected_request`` is the request those on-screen values
describe, which is exactly what Generate must send.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import ValidationError

from lib import catalog
from lib.schema import GenerationRequest, error_messages

SETTINGS = ("model", "duration", "quality", "aspect_ratio", "generate_audio", "content_filter", "web_search")
TEXT_MODELS = tuple(m.id for m in catalog.MODELS.values() if m.mode == "text")


def offered(screen: dict[str, Any]) -> list[str]:
    """The settings the panel shows for the model on screen (web search only where the model has it)."""
    spec = catalog.MODELS[screen["model"]]
    return [s for s in SETTINGS if s != "web_search" or spec.web_search]


def next_change(rng: random.Random, screen: dict[str, Any], *, duration_step: int | None = None) -> tuple[str, Any]:
    """One change a person could make now: a setting and a different value the panel offers for it.

    ``duration_step`` keeps a duration change within that many seconds (a browser moves the
    slider one key press, one script run, at a time).
    """
    spec = catalog.MODELS[screen["model"]]
    field = rng.choice(offered(screen))
    if field == "model":
        choices: list[Any] = [m for m in catalog.MODELS if m != screen["model"]]
    elif field == "duration":
        step = duration_step or catalog.DURATION_MAX
        choices = [
            d
            for d in range(catalog.DURATION_MIN, catalog.DURATION_MAX + 1)
            if d != screen["duration"] and abs(d - screen["duration"]) <= step
        ]
    elif field == "quality":
        choices = [q for q in spec.qualities if q != screen["quality"]]
    elif field == "aspect_ratio":
        choices = [r for r in catalog.ASPECT_RATIOS if r != screen["aspect_ratio"]]
    else:
        choices = [not screen[field]]
    return field, rng.choice(choices)


def expected_request(screen: dict[str, Any], prompt: str) -> GenerationRequest:
    """The request the values on screen describe (web search only where the model has it)."""
    spec = catalog.MODELS[screen["model"]]
    values = {s: screen[s] for s in SETTINGS if s != "web_search" or spec.web_search}
    return GenerationRequest(prompt=prompt, **values)


def rule_messages(screen: dict[str, Any], prompt: str) -> list[str]:
    """What the schema says about the settings on screen (sorted): nothing when they make a valid request.

    The Studio may show these and nothing else: each names a real rule of the chosen model.
    """
    try:
        expected_request(screen, prompt)
    except ValidationError as exc:
        return sorted(error_messages(exc).values())
    return []
