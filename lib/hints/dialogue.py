"""Hints about dialogue: Seedance voices only words in straight double quotes.

Curly and single quotes around speech get a fix to straight double quotes; spoken
words after a speaker ("She says:", "旁白：") without quotes, and a double quote
without a partner, are pointed out. Curly quotes around written words (a sign, a
title, a name) are left as they are: a fix would make Seedance speak them. The speech
verbs, labels and the words that mark written text are in ``words.toml``.

Example:
    >>> [(h.code, h.fix) for h in curly_quotes("她说：“你好”")]
    [('curly-quotes', '"你好"')]
    >>> [(h.code, h.fix) for h in curly_quotes("A neon sign reading “OPEN” flickers")]
    [('quoted-text', None)]
    >>> [h.code for h in unquoted_dialogue("Narrator: the city sleeps")]
    ['unquoted-dialogue']
"""

from __future__ import annotations

import bisect
import re

from lib.hints.hint import Hint
from lib.hints.words import SENTENCE_END, WORD, WORDS, L, R, alternation, lowered
from lib.i18n import t
from lib.text import one_line

QUOTE_CHARS = "\"'“”„«»‹›「」『』‘’‚"
QUOTED_MAX = 30  # characters of the quoted words a message repeats

_SPEECH_EN_RE = re.compile(
    rf"{L}(?:{alternation(WORDS.speech_verbs_en)}){R}"
    # up to a few words between verb and colon: "says to her:", "whispers softly:"
    r"(?P<gap>(?:[ \t]+[A-Za-z'’]+){0,4}?)[ \t]*[:：]",
    re.IGNORECASE,
)
_SPEECH_ZH_RE = re.compile(
    rf"(?:{alternation(WORDS.speech_verbs_zh + WORDS.speaker_labels_zh)})(?:[他她我你它]们?|大家)?[ \t]*[：:]"
)
# "Name:" at the start of a line or sentence; up to three words.
_LABEL_RE = re.compile(
    r"(?:^|(?<=[\n.!?。！？]))[ \t]*"
    r"(?P<label>[A-Za-z][A-Za-z'’.\-]*(?:[ \t]+[A-Za-z][A-Za-z'’.\-]*){0,2})[ \t]*[:：]",
    re.MULTILINE,
)
_SPEECH_VERB_TAIL_RE = re.compile(
    rf"{L}(?:{alternation(WORDS.speech_verbs_en)}){R}(?:[ \t]+[A-Za-z'’]+){{0,4}}[ \t]*[,:：]?[ \t]*$",
    re.IGNORECASE,
)
# A label with any of these words ("Camera:", "Golden light:") describes, it does not speak.
_NON_SPEAKER = lowered(WORDS.non_speaker_labels, WORDS.camera_words_en, WORDS.lighting_words_en)
_FUNCTION = lowered(WORDS.function_words)
_TEXT_CARRIERS = lowered(WORDS.text_carriers_en)
# Speech verbs that also introduce written words after a carrier ("a sign that says “OPEN”").
_SAY = frozenset({"say", "says", "said", "saying"})
_SPEECH = lowered(WORDS.speech_verbs_en) - _SAY
_TEXT_CARRIERS_ZH = re.compile(alternation(WORDS.text_carriers_zh))
CARRIER_WORDS = 4  # how many words before a quote may say it is written text
CARRIER_CHARS_ZH = 6  # the same for Chinese, in characters


def _quoted(text: str) -> str:
    return one_line(text, QUOTED_MAX)


def curly_quotes(prompt: str) -> list[Hint]:
    """Curly or angle quotes around words: fix them to straight double quotes."""
    hints: list[Hint] = []
    # Where a search for an opener's closing quote already failed: later openers of
    # the same kind before that point cannot succeed either, so the scan stays linear
    # while the user types into a long prompt full of unmatched quotes.
    no_closer_before: dict[str, int] = {}
    i = 0
    n = len(prompt)
    while i < n:
        opener = prompt[i]
        closers = WORDS.curly_quotes.get(opener)
        single = opener in "‘‚"
        # A single curly quote opens only after a non-letter and not before a digit
        # (‘90s); it closes only before a non-letter, so it’s is not a closing quote.
        if (
            closers is None
            or i < no_closer_before.get(opener, -1)
            or (single and ((i > 0 and prompt[i - 1].isalnum()) or prompt[i + 1 : i + 2].isdigit()))
        ):
            i += 1
            continue
        j = i + 1
        while j < n:
            if prompt[j] in closers and (not single or not prompt[j + 1 : j + 2].isalnum()):
                break
            if single and prompt[j] == "\n":
                break  # a single-quoted phrase does not run over a line break
            j += 1
        if j >= n or prompt[j] not in closers:
            no_closer_before[opener] = j
            i += 1
            continue
        if j == i + 1:
            i += 1
            continue
        inner = prompt[i + 1 : j]
        shown = f"{opener}{_quoted(inner)}{prompt[j]}"
        if _written_text(prompt[max(0, i - 80) : i]):
            hint = Hint(
                code="quoted-text",
                severity="info",
                message=t(
                    "{shown} is in curly quotes, so Seedance will not speak it: right for a sign, a title "
                    'or a name. If someone says these words, use straight double quotes ("…").',
                    shown=shown,
                ),
                start=i,
                end=j + 1,
            )
        else:
            hint = Hint(
                code="curly-quotes",
                severity="warning",
                message=t(
                    "{shown} uses curly quotes, which Seedance does not read as dialogue. If these "
                    'words are spoken, use straight double quotes ("…") so they are voiced.',
                    shown=shown,
                ),
                start=i,
                end=j + 1,
                fix=f'"{inner}"',
            )
        hints.append(hint)
        i = j + 1
    return hints


def _written_text(before: str) -> bool:
    """True when the words right before a quote say it is written (a sign reading, a film called), not spoken.

    A speaker's colon ("She says:", "Narrator:") and a verb of speaking other than "say"
    ("the sign painter shouts") always mean speech.
    """
    cut = max(before.rfind(c) for c in SENTENCE_END + '\n"')
    clause = before[cut + 1 :]
    if clause.rstrip().endswith((":", "：")):
        return False
    last_words = [w.lower() for w in WORD.findall(clause)][-CARRIER_WORDS:]
    if any(w in _SPEECH for w in last_words):
        return False
    if any(w in _TEXT_CARRIERS for w in last_words):
        return True
    return bool(_TEXT_CARRIERS_ZH.search(clause[-CARRIER_CHARS_ZH:]))


def single_quoted_dialogue(prompt: str) -> list[Hint]:
    """Speech in single quotes after a speech verb or a speaker's colon: fix to double quotes."""
    hints: list[Hint] = []
    no_closer_before = -1  # as in curly_quotes: keeps the scan linear
    i = 0
    n = len(prompt)
    while i < n:
        # An opening ' follows a non-letter (so it's, dog's, won't never open) and is
        # followed by a word, not a digit (the '90s).
        if (
            prompt[i] != "'"
            or i < no_closer_before
            or (i > 0 and prompt[i - 1].isalnum())
            or i + 1 >= n
            or not prompt[i + 1].isalpha()
        ):
            i += 1
            continue
        j = i + 1
        while j < n and prompt[j] != "\n":
            if prompt[j] == "'" and not prompt[j - 1].isspace() and not prompt[j + 1 : j + 2].isalnum():
                break
            j += 1
        if j >= n or prompt[j] != "'":
            no_closer_before = j
            i += 1
            continue
        inner = prompt[i + 1 : j]
        # 'n' in rock 'n' roll is too short to be a line of dialogue.
        if len(inner.strip()) >= 2 and _introduces_speech(prompt[max(0, i - 80) : i]):
            hints.append(
                Hint(
                    code="single-quoted-dialogue",
                    severity="warning",
                    message=t(
                        "'{words}' looks like spoken words in single quotes. Seedance "
                        'voices dialogue only in straight double quotes ("…").',
                        words=_quoted(inner),
                    ),
                    start=i,
                    end=j + 1,
                    fix=f'"{inner}"',
                )
            )
        i = j + 1
    return hints


def _introduces_speech(before: str) -> bool:
    """True when the text right before a quote is a colon or a speech verb."""
    # Only the current sentence counts: "He said it. 'Rock' is…" is not speech.
    cut = max(before.rfind(c) for c in SENTENCE_END + '\n"')
    clause = before[cut + 1 :]
    if clause.rstrip().endswith((":", "：")):
        # "Narrator: 'the city sleeps'" is speech; "Style: 'noir'" is not.
        label_words = [w.lower() for w in WORD.findall(clause)][-3:]
        return not any(w in _NON_SPEAKER for w in label_words)
    return bool(_SPEECH_VERB_TAIL_RE.search(clause))


def _speaker_colons(prompt: str) -> list[tuple[int, str]]:
    """(index just after the colon, who speaks) for every colon that introduces speech."""
    colons: list[tuple[int, str]] = []
    for m in _SPEECH_EN_RE.finditer(prompt):
        colons.append((m.end(), m.group(0).rstrip(" \t:：")))
    for m in _SPEECH_ZH_RE.finditer(prompt):
        colons.append((m.end(), m.group(0).rstrip(" \t:：")))
    for m in _LABEL_RE.finditer(prompt):
        label = m.group("label")
        words = [w.lower().strip(".'’") for w in label.split()]
        if any(w in _FUNCTION for w in words) or any(w in _NON_SPEAKER for w in words):
            continue
        if label.lower() in _NON_SPEAKER:
            continue
        colons.append((m.end(), label))
    return sorted(colons)


def unquoted_dialogue(prompt: str) -> list[Hint]:
    """Words after a speaker's colon that are not in quotes: no fix, the span is the words to wrap."""
    # Positions found once, then looked up, so many colons in a long prompt stay cheap.
    stops = [m.start() for m in re.finditer(rf"[\n{re.escape(SENTENCE_END)}]", prompt)]
    quotes = [i for i, c in enumerate(prompt) if c in QUOTE_CHARS and c != "'"]
    hints: list[Hint] = []
    seen: set[int] = set()
    for after, who in _speaker_colons(prompt):
        if after in seen:
            continue
        seen.add(after)
        start = after
        while start < len(prompt) and prompt[start] in " \t":
            start += 1
        # Spoken words start with a letter; a quote means they are quoted already,
        # a digit means a ratio or time ("Aspect: 16:9"), "/" a web address.
        if start >= len(prompt) or not prompt[start].isalpha():
            continue
        k = bisect.bisect_left(stops, start)
        end = stops[k] if k < len(stops) else len(prompt)
        if end < len(prompt) and prompt[end] in SENTENCE_END:
            end += 1  # the ! or 。 belongs inside the quotes
        q = bisect.bisect_left(quotes, start)
        if q < len(quotes) and quotes[q] < end:
            continue  # the words are quoted further on
        segment = prompt[start : min(end, start + 60)]  # enough for the message
        hints.append(
            Hint(
                code="unquoted-dialogue",
                severity="warning",
                message=t(
                    'After "{who}:" these words look spoken but are not in quotes. '
                    'Wrap them in straight double quotes ("{words}") '
                    "so Seedance voices them instead of treating them as description.",
                    who=one_line(who, 24),
                    words=one_line(segment.strip(), 24),
                ),
                start=start,
                end=end,
            )
        )
    return hints


def unbalanced_quotes(prompt: str) -> list[Hint]:
    """An odd number of straight double quotes: the last one has no partner."""
    positions = [i for i, c in enumerate(prompt) if c == '"']
    if len(positions) % 2 == 0:
        return []
    last = positions[-1]  # pairing left to right leaves the last one without a partner
    return [
        Hint(
            code="unbalanced-quotes",
            severity="warning",
            message=t(
                "This double quote has no partner. Seedance voices the words between a pair "
                "of straight double quotes, so add the missing quote or remove this one."
            ),
            start=last,
            end=last + 1,
        )
    ]
