"""What the app stores about a run: English in the database, the reader's language on screen; provider words as sent."""

from __future__ import annotations

import doctest
import string

import httpx
import pytest

from lib import i18n, messages
from lib.client import EvolinkClient
from lib.i18n import use
from lib.messages import TEMPLATES, join, say, show
from lib.schema import GenerationRequest
from lib.simulator.engine import TASK_ERRORS
from tests.support.screen_words import english_left

ZH = i18n.catalog("zh")


def _values(name: str) -> dict[str, str]:
    """A sample value for each placeholder: plain words the reader's language keeps as they are."""
    fields = [f for _, f, _, _ in string.Formatter().parse(TEMPLATES[name]) if f]
    return {field: f"v{i}x" for i, field in enumerate(fields)}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_each_sentence_reads_back_in_english_unchanged_and_in_chinese_from_the_catalog(name):
    values = _values(name)
    stored = say(name, **values)
    assert show(stored) == stored
    assert TEMPLATES[name] in ZH, f"no Chinese for {name}"
    with use("zh"):
        shown = show(stored)
    expected = ZH[TEMPLATES[name]].format(**values)
    if messages._compile(name, TEMPLATES[name]).frame:  # the provider's words in brackets: never alone
        assert shown == stored
    else:
        assert shown == expected, (name, shown)


# As the code wrote them before the sentences became data: rows like these are in databases now.
STORED_BEFORE = [
    "No final answer from the provider within a day; its video link would have expired. "
    "Ask the facilitator to check the Evolink account before submitting it again.",
    "The provider no longer knows this task (404 task_not_found), so its video cannot be fetched. This happens "
    "when the API address or account changed since it was submitted. Ask the facilitator to check the Evolink "
    "account before submitting it again.",
    "The app stopped while sending this run, so it may or may not have been created (and billed). "
    "Ask the facilitator to check the Evolink account before submitting it again.",
    "The app stopped before this run was sent; nothing was charged. Submit it again.",
    "The video was generated (and billed) but could not be saved after 3 attempts: "
    "The video download failed (ReadTimeout).",
    "The provider ended this task with status 'paused', which this app does not know. "
    "Ask the facilitator to check the Evolink account before submitting it again.",
    "The Evolink service had a problem. Try again in a minute. The run may still have been created (and billed). "
    "Ask the facilitator to check the Evolink account before submitting it again.",
    "Too many requests right now. Wait about 12 seconds, then try again. (Rate limit reached for this key.)",
]


@pytest.mark.parametrize("stored", STORED_BEFORE)
def test_rows_stored_before_read_in_chinese_too(stored):
    with use("zh"):
        shown = show(stored)
    assert not english_left(shown, keep=("'paused'", "ReadTimeout", "Rate limit reached for this key.")), shown
    assert show(stored) == stored


@pytest.mark.parametrize("words", [*TASK_ERRORS.values(), "(blocked)", "Upstream said no.", "", "503"])
def test_the_providers_words_stay_as_they_came(words):
    with use("zh"):
        assert show(words) == words


def test_the_providers_words_inside_the_apps_sentence_stay_whole_even_with_brackets_of_their_own():
    said = "Invalid value (duration) (must be 4-15)."
    stored = join(say("bad_request"), say("detail", detail=said))
    with use("zh"):
        shown = show(stored)
    assert shown == f"{ZH[TEMPLATES['bad_request']]}（{said}）"


def test_a_value_made_of_the_apps_sentences_is_translated_in_turn():
    reason = say("link_refused", reason=say("not_public", host="10.0.0.7", kind="private"))
    stored = join(say("not_saved", attempts=2, reason=reason), say("check_account"))
    with use("zh"):
        shown = show(stored)
    assert shown.startswith("视频已生成（并已计费），但尝试 2 次后仍未能保存：没有打开视频链接：10.0.0.7 不是公网地址")
    assert shown.endswith(ZH[TEMPLATES["check_account"]])
    assert english_left(shown) == ["private"]  # the kind of address: a network term, kept


def test_a_sentence_that_starts_with_a_value_never_takes_in_the_sentence_before_it():
    stored = join("Upstream failed.", say("not_public", host="example.com", kind="private"))
    with use("zh"):
        assert show(stored) == stored  # not "{host}" = "Upstream failed. example.com": the first is not the app's
        assert (
            show(join(say("empty_download"), say("unresolved", host="cdn.example")))
            == "下载的视频是空的。cdn.example 无法解析为地址。"
        )


def _failing_client(answer) -> EvolinkClient:
    def handle(request: httpx.Request) -> httpx.Response:
        return answer(request)

    return EvolinkClient("sk-test", "https://api.test", transport=httpx.MockTransport(handle), max_retries=0)


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(502, headers={"content-type": "text/html"}, text="<title>Bad Gateway</title>"),
        lambda r: httpx.Response(429, headers={"retry-after": "9"}, json={"error": {"code": "rate_limit"}}),
        lambda r: httpx.Response(200, text="not json"),
    ],
    ids=["gateway", "rate-limited", "unreadable"],
)
def test_the_clients_hints_and_messages_are_the_apps_sentences(answer):
    from lib.client import ApiError

    with pytest.raises(ApiError) as caught:
        _failing_client(answer).create(GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox"))
    exc = caught.value
    with use("zh"):
        for text in (exc.hint, exc.message):
            # HTTP's own reason phrase (no error body) is the server's, as it came.
            assert not english_left(show(text), keep=("Bad Gateway", "Too Many Requests")), text


def test_a_malformed_task_id_is_refused_in_the_apps_words():
    from lib.client import BadRequestError

    with pytest.raises(BadRequestError) as caught:
        _failing_client(lambda r: httpx.Response(500)).get_task("../credits")
    with use("zh"):
        assert not english_left(show(caught.value.message)) and not english_left(show(caught.value.hint))


def test_placeholders_are_plain_names():
    with pytest.raises(ValueError, match="plain"):
        messages._compile("bad", "{n:,} runs")


def test_doctests():
    result = doctest.testmod(messages)
    assert result.attempted > 0 and result.failed == 0
