"""Hints about a Seedance prompt, shown beside the editor while the user types.

Every rule comes from the provider's prompt guidance (``shared/facts``, "Prompt
guidance" and "Media inputs"): dialogue in straight double quotes is voiced
(``dialogue``), aspect ratio and quality belong in their fields and media are
referred to as ``@image1`` / ``@video1`` / ``@audio1`` (``fields``), numbered shots
are followed more reliably than timestamps and a prompt names subject, action,
camera and light (``structure``). ``fixes`` applies the safe fixes. The word lists
are data in ``words.toml``, which a non-programmer can extend.

Example:
    >>> prompt = 'A girl on a rooftop at sunset, close-up. She says: “Hello.”, 9:16 vertical'
    >>> hints = lint(prompt, model="seedance-2.0-text-to-video")
    >>> [h.code for h in hints]
    ['curly-quotes', 'aspect-ratio-in-prompt']
    >>> apply_fixes(prompt, hints), settings_of(hints)
    ('A girl on a rooftop at sunset, close-up. She says: "Hello."', {'aspect_ratio': '9:16'})
    >>> [h.title for h in hints]
    ['Curly quotes are not spoken', 'The shape is set in Aspect ratio']
"""

from __future__ import annotations

from lib import catalog
from lib.hints import dialogue, fields, structure
from lib.hints.fixes import apply_fixes, settings_of
from lib.hints.hint import TITLES, Hint, Severity
from lib.hints.structure import PromptStats, stats
from lib.i18n import t

__all__ = ["TITLES", "Hint", "PromptStats", "Severity", "apply_fixes", "lint", "settings_of", "stats"]


def _resolve_model(model: str | catalog.ModelSpec) -> catalog.ModelSpec:
    if isinstance(model, catalog.ModelSpec):
        return model
    try:
        return catalog.MODELS[model]
    except KeyError:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(catalog.MODELS)}") from None


def lint(
    prompt: str,
    *,
    model: str | catalog.ModelSpec,
    images: int = 0,
    videos: int = 0,
    audios: int = 0,
    web_search: bool = False,
    aspect_ratio: str | None = None,
    quality: str | None = None,
) -> list[Hint]:
    """All hints for a prompt on a model, sorted by position.

    ``images``/``videos``/``audios`` are how many media of each kind the request
    carries; ``web_search`` is whether the Web search switch is on; ``aspect_ratio``
    and ``quality`` are the fields as set, so no hint asks for a value already there.

    >>> [h.code for h in lint('He whispers: run.', model="seedance-2.0-text-to-video")]
    ['structure', 'unquoted-dialogue']
    """
    spec = _resolve_model(model)
    if not prompt.strip():
        return [
            Hint(
                code="empty-prompt",
                severity="error",
                message=t("Write what should happen in the video: the prompt cannot be empty."),
                start=0,
                end=len(prompt),
            )
        ]
    counted = stats(prompt)
    hints = [
        *dialogue.curly_quotes(prompt),
        *dialogue.single_quoted_dialogue(prompt),
        *dialogue.unquoted_dialogue(prompt),
        *dialogue.unbalanced_quotes(prompt),
        *fields.aspect_ratios(prompt, current=aspect_ratio),
        *fields.resolutions(prompt, spec, current=quality),
        *structure.timestamps(prompt),
        *fields.web_search(prompt, spec, web_search),
        *fields.media_references(prompt, spec, {"image": images, "video": videos, "audio": audios}),
        *structure.too_long(prompt, counted),
        *structure.structure(prompt, counted),
    ]
    return sorted(hints, key=lambda h: (h.start, h.end, h.code))
