"""Hints about the prompt as a whole: length, timestamps, and whether it names subject, action, camera and light.

Seedance follows a prompt best when it describes who is on screen, what happens,
the camera language and the lighting, in order (numbered shots rather than
timestamps), under about 1000 English words or 500 Chinese characters. The keyword
lists are in ``words.toml``.

Example:
    >>> stats("A cat naps").text
    '3 / 1000 words'
    >>> [h.message.split("Consider adding ")[1] for h in structure("A man walks, aerial tracking shot")]
    ['lighting (e.g. golden hour, soft window light, neon at night).']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lib import catalog
from lib.hints.hint import Hint
from lib.hints.words import STRUCTURE_PARTS, WORD, WORDS, en_words_re, lowered, zh_words_re
from lib.i18n import t
from lib.schema import approx_tokens
from lib.text import CJK_LETTER

MAX_WORDS = catalog.PROMPT_RECOMMENDED_WORDS
MAX_CJK = catalog.PROMPT_RECOMMENDED_CJK
STRUCTURE_MIN_WORDS = 3  # below this the prompt is still being typed: no coaching yet
SUBJECT_CHECK_MAX_WORDS = 12  # only short prompts can plausibly lack a subject

_TIMESTAMP_RE = re.compile(
    # [00:03], [0:00-0:03], (01:30)
    r"[\[(]\d{1,2}:\d{2}(?:\s*[-–—~]\s*\d{1,2}:\d{2})?[\])]"
    # 00:05, 0:03-0:06, 00:00:05 (a clock time such as 12:00 is left alone)
    r"|(?<![A-Za-z0-9.:])0{1,2}:\d{2}(?::\d{2})?(?:\s*[-–—~]\s*\d{1,2}:\d{2}(?::\d{2})?)?(?![0-9:])"
    # 0-3s, 0–3 s, 3 to 6 seconds, 0s-3s, 0-3秒
    r"|(?<![A-Za-z0-9.])\d{1,3}(?:\.\d)?\s*(?:s|secs?|seconds?)?\s*(?:-|–|—|~|to)\s*"
    r"\d{1,3}(?:\.\d)?\s*(?:seconds?|secs?|s(?![A-Za-z])|秒)"
    # at 3s, at 5 seconds
    r"|(?<![A-Za-z])at\s+\d{1,3}(?:\.\d)?\s*(?:seconds?|secs?|s)(?![A-Za-z])"
    # 第3秒
    r"|第\s*\d{1,3}\s*秒",
    re.IGNORECASE,
)

_CAMERA_EN_RE = en_words_re(WORDS.camera_words_en)
_CAMERA_ZH_RE = zh_words_re(WORDS.camera_words_zh)
_LIGHTING_EN_RE = en_words_re(WORDS.lighting_words_en)
_LIGHTING_ZH_RE = zh_words_re(WORDS.lighting_words_zh)
_ACTION_ZH_RE = zh_words_re(WORDS.action_words_zh)
_ING_NOT = lowered(WORDS.ing_not_actions)
_NOT_SUBJECT = lowered(WORDS.not_subject_words, WORDS.function_words)


@dataclass(frozen=True)
class PromptStats:
    """What the length counter beside the editor shows.

    ``used`` is measured in ``unit`` (English words or Chinese characters, whichever
    dominates); a mixed prompt counts each part against its own limit.

    >>> stats("A cat naps").text
    '3 / 1000 words'
    """

    characters: int
    words: int
    cjk: int
    tokens: int
    limit: int
    unit: str
    used: int
    over: bool

    @property
    def fraction(self) -> float:
        return self.used / self.limit

    @property
    def text(self) -> str:
        return f"{self.used} / {self.limit} {self.unit}"


def stats(prompt: str) -> PromptStats:
    """Counts for the length counter, and whether the recommended length is exceeded.

    >>> s = stats("一只猫 naps in the warm sun")
    >>> (s.words, s.cjk, s.unit, s.used, s.limit)
    (5, 3, 'Chinese characters', 6, 500)
    """
    words = len(WORD.findall(prompt))
    cjk = len(CJK_LETTER.findall(prompt))
    # Each language uses up its own share of the budget, so 600 words plus 250 Chinese
    # characters is over the limit even though each part alone is under it.
    fraction = words / MAX_WORDS + cjk / MAX_CJK
    if cjk / MAX_CJK > words / MAX_WORDS:
        limit, unit = MAX_CJK, "Chinese characters"
    else:
        limit, unit = MAX_WORDS, "words"
    return PromptStats(
        characters=len(prompt),
        words=words,
        cjk=cjk,
        tokens=approx_tokens(prompt),
        limit=limit,
        unit=unit,
        used=round(fraction * limit),
        over=fraction > 1,
    )


def too_long(prompt: str, counted: PromptStats) -> list[Hint]:
    """Over the recommended length (both languages counted, each against its own limit)."""
    if not counted.over:
        return []
    return [
        Hint(
            code="too-long",
            severity="warning",
            message=t(
                "This prompt is about {used:,} {unit} long. Seedance follows prompts best under "
                "{words:,} English words or {chars} Chinese characters; shorten it.",
                used=counted.used,
                unit=t(counted.unit),
                words=MAX_WORDS,
                chars=MAX_CJK,
            ),
            start=0,
            end=len(prompt),
        )
    ]


def timestamps(prompt: str) -> list[Hint]:
    """Timestamps ("0-3s", "[00:03]", "第5秒"): numbered shots are followed more reliably."""
    return [
        Hint(
            code="timestamps",
            severity="info",
            message=t(
                'Timestamps like "{words}" are followed unreliably. Number the shots in order '
                'instead ("Shot 1: …", "Shot 2: …"), with one camera move per shot.',
                words=m.group(0),
            ),
            start=m.start(),
            end=m.end(),
        )
        for m in _TIMESTAMP_RE.finditer(prompt)
    ]


def _action_forms(verbs: Iterable[str]) -> frozenset[str]:
    """walk → walks, walked, walking; dance → dancing; run → running; cry → cries."""
    forms: set[str] = set()
    for v in verbs:
        forms |= {v, v + "s", v + "es", v + "ed", v + "d", v + "ing"}
        if v.endswith("e"):
            forms.add(v[:-1] + "ing")
        if v.endswith("y"):
            forms |= {v[:-1] + "ies", v[:-1] + "ied"}
        if len(v) <= 4 and re.fullmatch(r"[a-z]*[^aeiou][aeiou][bdgmnprt]", v):
            forms |= {v + v[-1] + "ing", v + v[-1] + "ed"}
    return frozenset(forms)


_ACTION_FORMS = _action_forms(WORDS.action_verbs_en) | lowered(WORDS.speech_verbs_en)


def _is_action_word(word: str) -> bool:
    if word in _ACTION_FORMS:
        return True
    # Most "-ing" words in a video prompt describe motion (a dog chasing, leaves swirling).
    return word.endswith("ing") and len(word) > 5 and word not in _ING_NOT


def _has_action(prompt: str) -> bool:
    if any(_is_action_word(w.lower()) for w in WORD.findall(prompt)):
        return True
    return bool(_ACTION_ZH_RE.search(prompt))


def _lacks_subject(prompt: str) -> bool:
    """True when nothing but style, camera, light and action words is left (short prompts only)."""
    leftover = _CAMERA_EN_RE.sub(" ", _LIGHTING_EN_RE.sub(" ", prompt))
    content = [
        w.lower()
        for w in WORD.findall(leftover)
        if w.lower() not in _NOT_SUBJECT and not w.isdigit() and not _is_action_word(w.lower())
    ]
    cjk_left = CJK_LETTER.findall(_ACTION_ZH_RE.sub("", _CAMERA_ZH_RE.sub("", _LIGHTING_ZH_RE.sub("", prompt))))
    return not content and len(cjk_left) < 2


def structure(prompt: str, counted: PromptStats | None = None) -> list[Hint]:
    """One coaching hint naming what is missing of subject, action, camera language and lighting."""
    counted = counted or stats(prompt)
    size = counted.words + counted.cjk / 2
    if size < STRUCTURE_MIN_WORDS:
        return []
    missing: list[str] = []
    # Short prompts only: with more words there is almost always a subject.
    if size <= SUBJECT_CHECK_MAX_WORDS and _lacks_subject(prompt):
        missing.append("subject")
    if not _has_action(prompt):
        missing.append("action")
    if not (_CAMERA_EN_RE.search(prompt) or _CAMERA_ZH_RE.search(prompt)):
        missing.append("camera")
    if not (_LIGHTING_EN_RE.search(prompt) or _LIGHTING_ZH_RE.search(prompt)):
        missing.append("lighting")
    if not missing:
        return []
    parts = [t(WORDS.structure_examples[k]) for k in STRUCTURE_PARTS if k in missing]
    listed = parts[0] if len(parts) == 1 else t("{some}; and {last}", some=t("; ").join(parts[:-1]), last=parts[-1])
    return [
        Hint(
            code="structure",
            severity="info",
            message=t(
                "Seedance follows a prompt best when it describes the subject, the action, the "
                "camera language and the lighting. Consider adding {listed}.",
                listed=listed,
            ),
            start=0,
            end=0,
        )
    ]
