"""The hints' word lists, read once from ``words.toml``, and the text patterns built from them.

The lists are data a non-programmer edits in ``words.toml``; this module checks the
file's shape (an error names the entry to fix) and holds what every rule module
shares: word and sentence boundaries, and how a list becomes a regular expression.

Example:
    >>> "whispers" in WORDS.speech_verbs_en, WORDS.resolution_words["4k"]
    (True, '')
    >>> en_words_re(["call out"]).findall("CALL  OUT, then calls out")
    ['CALL  OUT']
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORDS_PATH = Path(__file__).with_name("words.toml")


@dataclass(frozen=True)
class Words:
    """Every list and table in ``words.toml``, by its name there."""

    # dialogue
    speech_verbs_en: tuple[str, ...]
    speech_verbs_zh: tuple[str, ...]
    speaker_labels_zh: tuple[str, ...]
    non_speaker_labels: tuple[str, ...]
    function_words: tuple[str, ...]
    text_carriers_en: tuple[str, ...]
    text_carriers_zh: tuple[str, ...]
    # settings written in the prompt
    time_words_en: tuple[str, ...]
    time_words_zh: tuple[str, ...]
    known_ratios: tuple[str, ...]
    ratio_suffixes: tuple[str, ...]
    time_before: tuple[str, ...]
    time_after: tuple[str, ...]
    resolution_suffixes: tuple[str, ...]
    # structure
    camera_words_en: tuple[str, ...]
    camera_words_zh: tuple[str, ...]
    lighting_words_en: tuple[str, ...]
    lighting_words_zh: tuple[str, ...]
    action_verbs_en: tuple[str, ...]
    action_words_zh: tuple[str, ...]
    ing_not_actions: tuple[str, ...]
    not_subject_words: tuple[str, ...]
    # tables
    resolution_words: dict[str, str]
    structure_examples: dict[str, str]
    curly_quotes: dict[str, str]


# Keys the structure hint looks up in ``structure_examples``.
STRUCTURE_PARTS = ("subject", "action", "camera", "lighting")


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise ValueError(f'words.toml: {name} must be a list of words in double quotes, like ["one", "two"].')
    return tuple(w.strip() for w in value)


def _table(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f'words.toml: [{name}] must be lines of "word" = "text".')
    return {k.strip(): v for k, v in value.items()}


def parse_words(data: dict[str, Any]) -> Words:
    """Check a parsed ``words.toml`` and turn it into ``Words``; errors name the entry to fix."""
    fields = {f.name: f for f in dataclasses.fields(Words)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"words.toml: {', '.join(unknown)} is not a list the hints use (check the spelling).")
    missing = [name for name in fields if name not in data]
    if missing:
        raise ValueError(f"words.toml: {', '.join(missing)} is missing.")
    values: dict[str, Any] = {
        name: _table(name, data[name]) if str(f.type).startswith("dict") else _strings(name, data[name])
        for name, f in fields.items()
    }
    absent = [part for part in STRUCTURE_PARTS if part not in values["structure_examples"]]
    if absent:
        raise ValueError(f"words.toml: [structure_examples] needs a line for {', '.join(absent)}.")
    return Words(**values)


def load_words(path: Path = WORDS_PATH) -> Words:
    """The word lists in the file at ``path``."""
    with open(path, "rb") as f:
        return parse_words(tomllib.load(f))


WORDS = load_words()  # read once, when the hints are first imported

# --- text units every rule shares ---------------------------------------------------------

# A word of Latin script, with inner apostrophes and hyphens (it's, close-up).
WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:['’\-][A-Za-z0-9\u00C0-\u024F]+)*")
# ASCII-only word edges: Python's \b treats Chinese characters as letters, which would
# hide "4K" in "4K高清".
L = r"(?<![A-Za-z0-9])"
R = r"(?![A-Za-z0-9])"

SENTENCE_END = ".!?。！？"
CLAUSE_SEP = ",;，；、"


def alternation(words: Iterable[str]) -> str:
    """Regex alternation, longest first so "call out" wins over "call"; spaces flexible."""
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


def en_words_re(words: Iterable[str]) -> re.Pattern[str]:
    """Any of ``words`` as a whole word, in any case."""
    return re.compile(rf"{L}(?:{alternation(words)}){R}", re.IGNORECASE)


def zh_words_re(words: Iterable[str]) -> re.Pattern[str]:
    """Any of ``words`` anywhere (Chinese has no spaces between words)."""
    return re.compile(alternation(words))


def lowered(*lists: Iterable[str]) -> frozenset[str]:
    """Every entry of ``lists``, lower case, for membership tests on single words."""
    return frozenset(w.lower() for words in lists for w in words)
