"""words.toml: its shape is checked with messages that name the entry, and its lists are what the rules use."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from lib.hints import words
from lib.hints.words import WORDS, WORDS_PATH, load_words, parse_words

from . import TEXT, codes, hints_of

RAW = tomllib.loads(WORDS_PATH.read_text(encoding="utf-8"))


def test_the_file_is_read_once_into_every_list():
    assert load_words() == WORDS
    assert {f.name for f in dataclasses.fields(words.Words)} == set(RAW)
    assert all(w == w.lower() for name in RAW if name.endswith("_en") for w in RAW[name])


def test_every_list_is_used_by_a_rule():
    sources = "".join(p.read_text(encoding="utf-8") for p in Path(words.__file__).parent.glob("*.py"))
    unused = [name for name in RAW if f"WORDS.{name}" not in sources]
    assert unused == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"speech_verbs_en": "say, says"}, 'speech_verbs_en must be a list of words in double quotes, like ["one"'),
        ({"speech_verbs_en": ["say", ""]}, "speech_verbs_en must be a list"),
        ({"resolution_words": ["4k"]}, '[resolution_words] must be lines of "word" = "text"'),
        ({"camera_word_en": ["pan"]}, "camera_word_en is not a list the hints use (check the spelling)"),
        ({"structure_examples": {"subject": "who"}}, "[structure_examples] needs a line for action, camera, lighting"),
    ],
)
def test_a_broken_file_says_what_to_fix(change, message):
    with pytest.raises(ValueError) as err:
        parse_words({**RAW, **change})
    assert message in str(err.value)


def test_a_missing_list_is_named():
    with pytest.raises(ValueError, match=r"words\.toml: time_after is missing"):
        parse_words({k: v for k, v in RAW.items() if k != "time_after"})


def test_an_edited_file_is_read_as_written(tmp_path):
    path = tmp_path / "words.toml"
    path.write_text(WORDS_PATH.read_text(encoding="utf-8").replace('"growl", ', '"growl", "hiss", '), encoding="utf-8")
    assert "hiss" in load_words(path).speech_verbs_en and "hiss" not in WORDS.speech_verbs_en


# --- the rules use the lists as written ------------------------------------------------------------


@pytest.mark.parametrize("word", RAW["time_words_en"] + RAW["time_words_zh"])
def test_every_time_word_suggests_web_search(word):
    (h,) = hints_of(f"Phones on a table, {word}, close-up, neon light", "web-search-suggested")
    assert h.start > 0


@pytest.mark.parametrize("word", list(RAW["resolution_words"]))
def test_every_resolution_word_is_found(word):
    prompt = f"A harbor at dawn, {word.upper() if word.isascii() else word}"
    (h,) = hints_of(prompt, "resolution-in-prompt")
    assert h.fix == ""


@pytest.mark.parametrize("verb", RAW["speech_verbs_en"])
def test_every_speech_verb_introduces_dialogue(verb):
    assert "unquoted-dialogue" in codes(f"The old man {verb}: go home now.", model=TEXT)
