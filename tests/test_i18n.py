"""Screen words: the current language per thread, translations as data, untranslated texts remembered."""

from __future__ import annotations

import string
import threading

import pytest

from lib import i18n
from lib.i18n import t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("language", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_every_translation_keeps_the_placeholders_of_its_english_text(language):
    table = i18n.catalog(language)
    assert table, f"no translations for {language}"
    for english, translated in table.items():
        assert _fields(translated) == _fields(english), (english, translated)
        assert translated.strip(), english


@pytest.mark.parametrize(
    ("asked", "used"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, zh-TW;q=0.5", "zh"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_browsers_languages_pick_the_first_supported_one(asked, used):
    assert i18n.normalize(asked) == used


def test_the_language_is_per_thread_so_sessions_do_not_mix():
    seen = {}

    def session(name: str, language: str) -> None:
        i18n.set_language(language)
        seen[name] = t("Generate video")

    threads = [threading.Thread(target=session, args=(n, lang)) for n, lang in (("a", "zh"), ("b", "en"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "生成视频", "b": "Generate video"}
    assert i18n.current() == i18n.DEFAULT  # this thread was never told


def test_an_untranslated_text_is_shown_in_english_and_remembered():
    i18n.forget_missing()
    with i18n.use("zh"):
        assert t("A text nobody translated, {n} times", n=2) == "A text nobody translated, 2 times"
        assert t("Generate video") == "生成视频"
    assert i18n.missing("zh") == {"A text nobody translated, {n} times"}
    with i18n.use("en"):
        t("Another English text")
    assert i18n.missing("en") == set()
    i18n.forget_missing()
