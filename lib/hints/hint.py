"""One piece of advice about a prompt, what every hint rule returns; and each kind's title in plain words.

Example:
    >>> Hint("timestamps", "info", "Number the shots instead.", 0, 4).title
    'Number the shots instead of timestamps'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lib.i18n import t

Severity = Literal["info", "warning", "error"]

# Each kind of hint by its code, and the title a person reads for it (the code is for programs).
TITLES: dict[str, str] = {
    "empty-prompt": "The prompt is empty",
    "curly-quotes": "Curly quotes are not spoken",
    "quoted-text": "Quoted words are shown, not spoken",
    "single-quoted-dialogue": "Speech in single quotes is not spoken",
    "unquoted-dialogue": "Spoken words need quotes",
    "unbalanced-quotes": "A quote has no partner",
    "aspect-ratio-in-prompt": "The shape is set in Aspect ratio",
    "resolution-in-prompt": "The resolution is set in Quality",
    "timestamps": "Number the shots instead of timestamps",
    "web-search-suggested": "Fresh facts need Web search",
    "media-reference": "A reference to media that is not there",
    "too-long": "The prompt is long",
    "structure": "The description could say more",
}


@dataclass(frozen=True)
class Hint:
    """One piece of advice about the prompt.

    ``start``/``end`` mark the characters it is about (``0, 0`` or ``0, len`` when it
    is about the whole prompt). ``fix`` replaces ``prompt[start:end]`` when a safe
    automatic fix exists, else None. ``setting`` is a field and the value the fix
    also sets (``("aspect_ratio", "9:16")`` for "9:16" taken out of the text), so a
    fix keeps the prompt's meaning.

    >>> Hint("timestamps", "info", "Number the shots instead.", 0, 4)  # doctest: +NORMALIZE_WHITESPACE
    Hint(code='timestamps', severity='info', message='Number the shots instead.', start=0, end=4,
         fix=None, setting=None)
    """

    code: str
    severity: Severity
    message: str
    start: int
    end: int
    fix: str | None = None
    setting: tuple[str, str] | None = None

    @property
    def title(self) -> str:
        """What this kind of hint is about, in plain words."""
        title = TITLES.get(self.code)
        return t(title) if title is not None else self.code.replace("-", " ").capitalize()
