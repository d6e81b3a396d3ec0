"""Screen words in the reader's language: English in the code, every other language as data.

Code writes what the screen says in English, with ``{placeholders}`` for what varies,
and passes it through ``t``::

    t("Over the workshop budget by {credits} credits", credits="12.30")

``t`` returns the words in the current language: each browser session sets its
language once per script run (``use``); lib code called from that run (validation
messages, hints, budget refusals) speaks the same language without being told.
Translations live in one file per language (``zh.toml``: English on the left, the
translation on the right), so a translator edits data, not code. A text with no
translation is shown in English and remembered (``missing``), which is how the
tests find every untranslated string.

A module that keeps its words together as data wraps them in ``Words``: reading one
gives it in the current language, so the English stays readable where it is used.

Example:
    >>> t("Generate video")
    'Generate video'
    >>> with use("zh"):
    ...     t("Generate video"), t("{n} runs", n=3)
    ('生成视频', '3 个任务')
    >>> WORDS = Words({"go": "Generate video", "runs": "{n} runs"})
    >>> with use("zh"):
    ...     WORDS["go"], WORDS["runs"].format(n=2)
    ('生成视频', '2 个任务')
"""

from __future__ import annotations

import functools
import threading
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT = "en"
_HERE = Path(__file__).parent

_current: ContextVar[str] = ContextVar("studio_language", default=DEFAULT)
_missing: dict[str, set[str]] = {}
_missing_lock = threading.Lock()


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """The translations of ``language`` (English text → translated text), read once."""
    path = _HERE / f"{language}.toml"
    if language == DEFAULT or not path.is_file():
        return {}
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return {str(k): str(v) for k, v in data.items()}


def normalize(language: str | None) -> str:
    """A supported language from a setting or a browser's ``Accept-Language`` (``zh-CN`` → ``zh``)."""
    for part in (language or "").replace("_", "-").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in LANGUAGES:
            return code
    return DEFAULT


def current() -> str:
    return _current.get()


def set_language(language: str | None) -> str:
    """Use ``language`` from now on in this thread (a Streamlit script run); returns the code used."""
    code = normalize(language)
    _current.set(code)
    return code


@contextmanager
def use(language: str | None) -> Iterator[str]:
    """``language`` for the block, then the one before."""
    token = _current.set(normalize(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def t(text: str, /, **params: object) -> str:
    """``text`` (English, ``{name}`` placeholders filled from ``params``) in the current language."""
    language = _current.get()
    template = text
    if language != DEFAULT:
        translated = catalog(language).get(text)
        if translated is None:
            with _missing_lock:
                _missing.setdefault(language, set()).add(text)
        else:
            template = translated
    return template.format(**params) if params else template


def missing(language: str) -> set[str]:
    """Texts asked for in ``language`` that have no translation yet (since the last ``forget_missing``)."""
    with _missing_lock:
        return set(_missing.get(language, ()))


def forget_missing() -> None:
    with _missing_lock:
        _missing.clear()


class Words(Mapping[str, Any]):
    """A module's screen words (English, nested dicts allowed); each read is ``t`` of it, in the current language."""

    def __init__(self, words: Mapping[Any, Any]) -> None:
        self._words = words

    def __getitem__(self, key: Any) -> Any:
        value = self._words[key]
        if isinstance(value, str):
            return t(value)
        if isinstance(value, Mapping):
            return Words(value)
        return value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)
