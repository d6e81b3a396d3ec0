"""Prompt hints (lib/hints): shared names for the tests of each module."""

from __future__ import annotations

from lib.hints import Hint, lint

TEXT = "seedance-2.0-text-to-video"
FAST_TEXT = "seedance-2.0-fast-text-to-video"
MINI_TEXT = "seedance-2.0-mini-text-to-video"
IMAGE = "seedance-2.0-image-to-video"
REFERENCE = "seedance-2.0-reference-to-video"


def codes(prompt: str, **kw) -> list[str]:
    kw.setdefault("model", TEXT)
    return [h.code for h in lint(prompt, **kw)]


def hints_of(prompt: str, code: str, **kw) -> list[Hint]:
    kw.setdefault("model", TEXT)
    return [h for h in lint(prompt, **kw) if h.code == code]
