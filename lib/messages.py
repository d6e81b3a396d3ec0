"""Sentences the app writes into what it stores about a run, as data: kept in English, shown in the reader's language.

A run's ``error_message`` and ``poll_error`` are stored in English, for logs and
exports. Part of that text the app wrote itself: every such sentence is a template
in ``TEMPLATES`` (English, ``{placeholders}`` for what varies), and the code that
stores one builds it with ``say``; a message of several sentences is ``join``-ed.
The rest came from the provider (its error body, a proxy's page title) and is shown
as it came.

``show`` reads a stored message back for the screen: when the whole text is made of
the app's sentences, each is said again in the reader's language (``lib.i18n``),
with the values (counts, seconds, ids, hosts) read back out of the English; a value
that is itself made of app sentences (the reason inside "could not be saved: …") is
translated in turn, and anything else in it is kept as it was. Text that is not
entirely the app's is the provider's, and is returned unchanged. So rows stored
before a sentence was translated read in the reader's language too, and nothing
needs a migration.

Example:
    >>> from lib.i18n import use
    >>> stored = join(say("not_saved", attempts=3, reason=say("download_status", status=503)), say("check_account"))
    >>> print(stored)  # doctest: +NORMALIZE_WHITESPACE
    The video was generated (and billed) but could not be saved after 3 attempts: The video download answered
    HTTP 503. Ask the facilitator to check the Evolink account before submitting it again.
    >>> show(stored) == stored
    True
    >>> with use("zh"):
    ...     show(stored)
    '视频已生成（并已计费），但尝试 3 次后仍未能保存：视频下载返回了 HTTP 503。再次提交前，请主持人检查 Evolink 账户。'
    >>> with use("zh"):
    ...     show("Generation took too long and was stopped.")  # the provider's words
    'Generation took too long and was stopped.'
"""

from __future__ import annotations

import bisect
import re
import string
from dataclasses import dataclass

from lib.i18n import t

# Every sentence the app stores about a run, by name. A run's own error code names the
# sentence that ends it where there is one (gave_up, task_not_found, submit_interrupted, ...).
# Values are filled in English and come back out of it: no format specs here (format the
# number first), and keep the words around each value distinct so it reads back unambiguously.
TEMPLATES: dict[str, str] = {
    # Said wherever a run may have been created (and billed) without the app knowing. Participants
    # have no provider dashboard to look at; the facilitator has the account.
    "check_account": "Ask the facilitator to check the Evolink account before submitting it again.",
    # How a run ended, by its error code (lib/store, lib/worker).
    "no_result": "The provider reported the run completed but sent no video link.",
    "link_expired": "The video link expired (links last 24 hours) before the video was saved.",
    "provider_failed": "The provider reported the run failed.",  # a failed task with no words of its own
    "unexpected_status": "The provider ended this task with status {status}, which this app does not know.",
    "gave_up": "No final answer from the provider within a day; its video link would have expired.",
    "task_not_found": (
        "The provider no longer knows this task (404 task_not_found), so its video cannot be fetched. "
        "This happens when the API address or account changed since it was submitted."
    ),
    "not_sent": "The app stopped before this run was sent; nothing was charged. Submit it again.",
    "submit_interrupted": (
        "The app stopped while sending this run, so it may or may not have been created (and billed)."
    ),
    "duplicate_task": (
        "The provider answered with a task id that another run already holds, so this run cannot follow it. "
        "Check the provider dashboard."
    ),
    "not_saved_once": "The video was generated (and billed) but could not be saved after 1 attempt: {reason}",
    "not_saved": "The video was generated (and billed) but could not be saved after {attempts} attempts: {reason}",
    # A poll that will be tried again (lib/worker).
    "slow_down": "The provider asked us to slow down (429).",
    "not_found_yet": "The provider did not find this task (404); checking again.",
    # Why a video could not be saved (lib/archive).
    "disk_full": "The server's disk is full, so the video could not be saved. Tell the facilitator.",
    "disk_error": "The server could not write the video to its disk ({name}). Tell the facilitator.",
    "disk_nearly_full": (
        "The server's disk is nearly full ({free} free, {floor} must stay free), so the video was not downloaded. "
        "Tell the facilitator."
    ),
    "link_refused": "The video link was not opened: {reason}",
    "redirect_not_url": "The video link redirected to an address that is not a URL.",
    "too_many_redirects": "The video link redirected more than {n} times; download stopped.",
    "download_failed": "The video download failed ({name}).",
    "link_gone": "The video link answered HTTP {status}: it has expired or was removed.",
    "download_status": "The video download answered HTTP {status}.",
    "too_large": "The video is larger than the {mb} MB limit; download stopped.",
    "empty_download": "The video download was empty.",
    "no_video_stream": "The downloaded file has no video stream.",
    "no_video_frame": "The downloaded file has no decodable video frame.",
    "unreadable_video": "The downloaded file is not a readable video.",
    "no_duration": "The downloaded video has no duration.",
    "wrong_duration": "The video lasts {got} s but {asked} s were asked for.",
    "wrong_size": "The video is {got} pixels but {asked} were asked for.",
    # A link the app would not open (lib/net).
    "not_http": "The link is not an http(s) address.",
    "not_public": "{host} is not a public address ({kind}).",
    "unresolved": "{host} could not be resolved to an address.",
    "resolves_not_public": "{host} resolves to {address}, which is not a public address ({kind}).",
    "no_local_socket": "A fetch through the guard never opens a local socket.",
    # What to do about a failed API call, by kind (lib/client ``ApiError.hint``).
    "api_error": "The Evolink API returned an error. Try again; if it keeps happening, check the settings.",
    "bad_request": "The API refused these settings. Check the prompt and parameters, then try again.",
    "unauthorized": (
        "The API key was not accepted. Check the key pasted in the sidebar, or ask the facilitator about the server's."
    ),
    "no_credits": "Your Evolink account is out of credits. Top up, then try again.",
    "forbidden": "This API key is not allowed to do that. Choose another model or check the key's permissions.",
    "not_found": "That task was not found. It may have expired, or belong to another API key.",
    "rate_limited": "Too many requests right now. Wait a moment, then try again.",
    "rate_limited_for": "Too many requests right now. Wait about {seconds} seconds, then try again.",
    "server_error": "The Evolink service had a problem. Try again in a minute.",
    "unreachable": (
        "Could not reach the Evolink API. Check the internet connection and the API address, then try again."
    ),
    "timed_out": "The Evolink API took too long to answer. Try again in a minute.",
    "invalid_response": (
        "Check the API address; if it is right, the service may be having trouble. Try again in a minute."
    ),
    "no_task_id": "This run has no valid task id, so its status cannot be checked.",
    "maybe_created": "The run may still have been created (and billed).",
    # What went wrong with an API call, where the app (not the provider) could say it (lib/client).
    "malformed_task_id": "Task id is empty or malformed; it was not sent.",
    "web_page": "HTTP {status}: the server sent a web page instead of the expected API response.",
    "unreadable_answer": (
        "HTTP {status}: the server sent an answer this app cannot read instead of the expected API response."
    ),
    "gateway": "HTTP {status}: a proxy or gateway answered instead of the API.",
    "gateway_titled": "HTTP {status}: a proxy or gateway answered instead of the API ({title}).",
    "no_answer_in_time": "No answer from {host} in time ({name}).",
    "connection_failed": "The connection to {host} failed ({name}).",
    # What the API said, after the app's hint about it (lib/submit): the provider's words inside.
    "detail": "({detail})",
}

# Two sentences one after the other (a language that writes no space between them says so).
JOIN = "{before} {after}"


def say(name: str, /, **values: object) -> str:
    """The sentence ``name`` in English, for storing (never the reader's language: stored text stays English)."""
    return TEMPLATES[name].format(**values)


def join(*sentences: str) -> str:
    """Sentences stored one after the other; ``show`` reads each back on its own."""
    return " ".join(s for s in sentences if s)


def show(text: str | None) -> str:
    """A stored message for the screen: the app's sentences in the reader's language, anything else as it came.

    >>> show("The provider asked us to slow down (429).")
    'The provider asked us to slow down (429).'
    >>> show(None)
    ''
    """
    if not text:
        return ""
    parsed = _parse(text)
    if parsed is None:
        return text
    out = ""
    for name, values in parsed:
        sentence = t(TEMPLATES[name], **{k: show(v) for k, v in values.items()}) if values else t(TEMPLATES[name])
        out = t(JOIN, before=out, after=sentence) if out else sentence
    return out


# --- reading stored English back ----------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    prefix: str  # the words before its first value: a quick "cannot start here"
    suffix: str  # the words after its last value: a quick "cannot end here"
    # Only punctuation around a value (the provider's words): never first, and it runs to the end.
    frame: bool
    open_end: bool  # ends with a value ("could not be saved: {reason}")


def _compile(name: str, template: str) -> _Pattern:
    parts, seen, literals = [], set(), []
    pieces = list(string.Formatter().parse(template))
    for literal, field, spec, conversion in pieces:
        parts.append(re.escape(literal))
        literals.append(literal)
        if field is None:
            continue
        if spec or conversion or not field.isidentifier():
            raise ValueError(f"{name}: use plain {{name}} placeholders ({template!r})")
        # A value that opens a sentence is one word (a host name): it cannot take in the sentence before it.
        value = r"\S+?" if not literals[0] and len(literals) == 1 else ".+?"
        parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>{value})")
        seen.add(field)
    prefix = pieces[0][0] if pieces else ""
    suffix = pieces[-1][0] if pieces and pieces[-1][1] is None else ""
    frame = not any(ch.isalpha() for ch in "".join(literals))
    open_end = pieces[-1][1] is not None if pieces else False
    return _Pattern(name, re.compile("".join(parts), re.S), prefix, suffix, frame, open_end)


_PATTERNS = tuple(_compile(name, template) for name, template in TEMPLATES.items())


def _parse(text: str) -> list[tuple[str, dict[str, str]]] | None:
    """``text`` as a run of the app's sentences (name and values of each), or None if any of it is not."""
    n = len(text)
    # A sentence starts at the beginning or after a space, and ends at the end or before one.
    ends = [i for i, ch in enumerate(text) if ch == " "] + [n]
    memo: dict[int, list[tuple[str, dict[str, str]]] | None] = {}

    def from_(start: int) -> list[tuple[str, dict[str, str]]] | None:
        if start in memo:
            return memo[start]
        memo[start] = None
        for pattern in _PATTERNS:
            if (start == 0 and pattern.frame) or not text.startswith(pattern.prefix, start):
                continue
            # A value inside a sentence ends where the rest reads as the app's sentences again (shortest
            # first); a value that ends the sentence takes all it can, and is read as sentences in turn.
            after = ends[bisect.bisect_right(ends, start) :]
            for end in [n] if pattern.frame else reversed(after) if pattern.open_end else after:
                if not text.endswith(pattern.suffix, start, end):
                    continue
                match = pattern.regex.fullmatch(text, start, end)
                if match is None:
                    continue
                rest = [] if end == n else from_(end + 1)
                if rest is not None:
                    memo[start] = [(pattern.name, match.groupdict()), *rest]
                    return memo[start]
        return None

    return from_(0)
