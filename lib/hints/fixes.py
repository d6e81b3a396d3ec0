"""Safe fixes: applying hints' replacements to a prompt (and the settings they carry), and finding text that
can be deleted tidily.

Example:
    >>> ratio = Hint("aspect-ratio-in-prompt", "warning", "", 5, 11, "", ("aspect_ratio", "16:9"))
    >>> apply_fixes("A cat, 16:9, at dusk", [ratio]), settings_of([ratio])
    ('A cat, at dusk', {'aspect_ratio': '16:9'})
    >>> removal_span("A cat, 16:9, at dusk", 7, 11, has_lead_word=False)
    (5, 11)
"""

from __future__ import annotations

from collections.abc import Iterable

from lib.hints.hint import Hint
from lib.hints.words import CLAUSE_SEP, SENTENCE_END


def chosen_fixes(hints: Iterable[Hint]) -> list[Hint]:
    """The hints whose fixes are applied together: in order, none overlapping (the first one wins)."""
    chosen: list[Hint] = []
    for h in sorted(hints, key=lambda h: (h.start, h.end)):
        if h.fix is None:
            continue
        if chosen and h.start < chosen[-1].end:
            continue
        if chosen and (h.start, h.end) == (chosen[-1].start, chosen[-1].end):
            continue  # two rules proposing a fix for the same text: apply it once
        chosen.append(h)
    return chosen


def apply_fixes(prompt: str, hints: Iterable[Hint]) -> str:
    """The prompt with every safe fix applied at once.

    Fixes are applied right to left so earlier spans stay valid; when two fixes
    overlap, the one that starts first wins and the other is skipped (lint again
    to see whether it is still needed). The settings those fixes carry are
    ``settings_of(hints)``: apply both, or the prompt loses what the words said.

    >>> apply_fixes("abcdef", [Hint("x", "info", "", 1, 3, "X"), Hint("y", "info", "", 2, 4, "Y")])
    'aXdef'
    """
    for h in reversed(chosen_fixes(hints)):
        prompt = prompt[: h.start] + (h.fix or "") + prompt[h.end :]
    return prompt


def settings_of(hints: Iterable[Hint]) -> dict[str, str]:
    """The fields the applied fixes set (``Hint.setting``); for one field, the first hint's value wins."""
    settings: dict[str, str] = {}
    for h in chosen_fixes(hints):
        if h.setting is not None:
            settings.setdefault(*h.setting)
    return settings


def removal_span(text: str, start: int, end: int, *, has_lead_word: bool) -> tuple[int, int] | None:
    """Widen ``text[start:end]`` so that deleting it leaves tidy text, or None if unsure.

    Deleting is safe only when the phrase is a whole list item or clause ("…, 16:9, …",
    "… in 16:9.", "(4K)"); inside a sentence ("a 4K shot of …") it would break grammar.
    """
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    j = end
    while j < len(text) and text[j] in " \t":
        j += 1
    left = text[i - 1] if i > 0 else ""
    right = text[j] if j < len(text) else ""
    right_is_edge = right in ("", "\n") or right in SENTENCE_END or right in CLAUSE_SEP
    if left == "(" and right == ")":
        k = i - 1
        while k > 0 and text[k - 1] in " \t":
            k -= 1
        return k, j + 1
    if left and left in CLAUSE_SEP and right_is_edge:
        return i - 1, end  # "a, 16:9, b" → "a, b"; "a, 16:9." → "a."
    if left in ("", "\n") or left in SENTENCE_END:
        if right and right in CLAUSE_SEP:
            k = j + 1
            while k < len(text) and text[k] in " \t":
                k += 1
            return start, k  # "16:9, a cat" → "a cat"
        if right in ("", "\n"):
            return i, end  # whole last clause: drop it and the space before it
        if right in SENTENCE_END:
            return (i, j + 1) if left else (start, j + 1 + _spaces_after(text, j + 1))
        return None
    if has_lead_word and right_is_edge:
        return i, end  # "a cat in 16:9." → "a cat."
    return None


def _spaces_after(text: str, k: int) -> int:
    n = 0
    while k + n < len(text) and text[k + n] in " \t":
        n += 1
    return n
