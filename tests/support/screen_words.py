"""What a page shows in words (AppTest), and which of those words are still English in another language.

``untranslated(at)`` lists every visible text — labels, help, placeholders, markdown,
captions, buttons, metrics, alerts, toasts, expanders, tabs and the options of choice
widgets as they are shown — that has Latin words but no CJK character, once the
allow-listed names, ids, numbers and units are taken out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lib.i18n import LANGUAGES
from lib.text import CJK_ANY
from tests.support.apptest import walk

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# Names and tokens that stay as they are in every language.
ALLOWED = [
    r"https?://\S+",
    r"seedance-[\w.-]+",
    r"\bSeedance(?: 2\.0)?\b",
    r"\bEvolink\b",
    r"\bByteDance\b",
    r"\bcurl\b",
    r"\bPython\b",
    r"\bNode(?:\.js)?\b",
    r"\bJSON\b|\bCSV\b|\bMP4\b|\bAPI\b|\bURL\b|\bUSD\b|\bHTTPS?\b|\bID\b|\bJPEG\b|\bPNG\b|\bWebP\b",
    r"\b\d+p\b",  # 480p, 720p, 1080p
    r"\b\d+(?:\.\d+)?\s?(?:s|ms|px|MB|KB|GB|fps|x|k)\b",
    r"\badaptive\b",
    r"\bSTUDIO_[A-Z_]+\b|\bEVOLINK_[A-Z_]+\b|\bSEEDANCE_[A-Z_]+\b|\bYOUR_API_KEY\b",
    r"`[^`]*`",  # code spans: commands, settings
    r":material/[a-z_]+:",
    r"\b[a-z]+(?:\\?_[a-z]+)+\b",  # error codes (content_policy_violation), Markdown-escaped or not
    r"\btask-[\w-]+",  # task ids
]
_ALLOWED = re.compile("|".join(f"(?:{p})" for p in ALLOWED))

_VALUE_TYPES = {
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "text",
    "error",
    "warning",
    "info",
    "success",
    "toast",
}


def texts(at) -> Iterator[tuple[str, str]]:
    """(element type, text) for every word-bearing part of every element on the page."""
    for node in walk(at._tree):
        kind = getattr(node, "type", "")
        if kind in _VALUE_TYPES:
            value = getattr(node, "value", None)
            if isinstance(value, str):
                yield kind, value
        for attr in ("label", "help", "placeholder"):
            try:
                value = getattr(node, attr, None)
            except Exception:
                continue
            if isinstance(value, str):
                yield f"{kind}.{attr}", value
        if kind in ("selectbox", "radio", "multiselect", "select_slider"):
            for option in getattr(node, "options", []) or []:
                yield f"{kind}.option", str(option)
        if kind == "button_group":
            for option in node.proto.options:
                yield f"{kind}.option", option.content
        if kind == "dataframe":
            for column in node.value.columns:
                yield "dataframe.header", str(column)
        if kind == "metric":
            yield "metric.value", str(node.value)


def english(text: str) -> bool:
    """True when ``text`` reads as English: Latin words left after the allow-list, no CJK at all."""
    if CJK_ANY.search(text):
        return False
    return bool(_LATIN_WORD.search(_ALLOWED.sub(" ", text)))


def english_left(text: str, *, keep: tuple[str, ...] = ()) -> list[str]:
    """The Latin words of ``text`` once ``keep`` (words shown as they came) and the allow-listed names are out.

    Stricter than ``english``: a sentence left in English next to a translated one counts.
    """
    for kept in keep:
        text = text.replace(kept, " ")
    return _LATIN_WORD.findall(_ALLOWED.sub(" ", text))


def untranslated(at, *, allow: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every visible text on the page that is still English (``allow``: texts the test typed)."""
    found = []
    for kind, text in texts(at):
        if text in allow or text in LANGUAGES.values() or not english(text):
            continue
        found.append((kind, text))
    return sorted(set(found))
