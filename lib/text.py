"""Text helpers shared by every layer: one way to shorten, one way to clean untrusted text, one table of CJK ranges.

Example:
    >>> shorten("A lighthouse at dusk", 12)
    'A lighthous…'
    >>> clean_text("bad\\x00text\\n  here")
    'bad text   here'
    >>> count_cjk("一只猫, a cat。"), count_cjk("一只猫, a cat。", letters_only=False)
    (3, 4)
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
ERROR_TEXT_MAX = 500  # server text is kept as plain text, and only this much of it


def shorten(text: object, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last one an ellipsis when cut."""
    value = "" if text is None else str(text)
    if limit <= 0:
        return ""
    return value if len(value) <= limit else value[: limit - 1] + ELLIPSIS


def one_line(text: object, limit: int | None = None) -> str:
    """Whitespace (line breaks included) folded to single spaces, then shortened."""
    value = " ".join(("" if text is None else str(text)).split())
    return value if limit is None else shorten(value, limit)


def clean_text(value: object, limit: int = ERROR_TEXT_MAX) -> str:
    """Untrusted text reduced to printable plain text of bounded length."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return shorten(text, limit)


# Chinese, Japanese and Korean text, one table: (first, last, letter?). Letters are
# what a reader counts as characters; the rest is CJK punctuation and full-width forms,
# which tokenizers still count one by one.
CJK_RANGES: tuple[tuple[str, str, bool], ...] = (
    ("\u3000", "\u303f", False),  # CJK symbols and punctuation
    ("\u3040", "\u30ff", True),  # Hiragana, Katakana
    ("\u3400", "\u4dbf", True),  # CJK Unified Ideographs Extension A
    ("\u4e00", "\u9fff", True),  # CJK Unified Ideographs
    ("\uac00", "\ud7af", True),  # Hangul syllables
    ("\uf900", "\ufaff", True),  # CJK Compatibility Ideographs
    ("\uff00", "\uffef", False),  # Half-width and full-width forms
    ("\U00020000", "\U0003134f", True),  # Extensions B to G
)


def _class(letters_only: bool) -> re.Pattern[str]:
    spans = "".join(f"{a}-{b}" for a, b, letter in CJK_RANGES if letter or not letters_only)
    return re.compile(f"[{spans}]")


CJK_LETTER = _class(letters_only=True)
CJK_ANY = _class(letters_only=False)


def count_cjk(text: str, *, letters_only: bool = True) -> int:
    """How many CJK characters ``text`` has (letters only, or punctuation too)."""
    return len((CJK_LETTER if letters_only else CJK_ANY).findall(text))
