"""Hints about settings written into the prompt that belong in their own fields.

Aspect ratios and resolutions in the text do not shape the video (the Aspect ratio
and Quality fields do), words about the present call for Web search, and
``@image1`` / ``@video1`` / ``@audio1`` must refer to media the request carries.
The word lists (known ratios, resolution words, time words) are in ``words.toml``.

Example:
    >>> [(h.code, h.fix) for h in aspect_ratios("A dancer spins, 9:16 vertical")]
    [('aspect-ratio-in-prompt', '')]
    >>> from lib import catalog
    >>> [h.message for h in media_references("@image2 waves", catalog.MODELS["seedance-2.0-image-to-video"], {})]
    ['@image2 refers to the 2nd image, but no images are added.']
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lib import catalog
from lib.hints.fixes import removal_span
from lib.hints.hint import Hint
from lib.hints.words import WORDS, L, R, alternation, en_words_re, zh_words_re
from lib.i18n import t

_NUM = r"\d{1,2}(?:\.\d{1,2})?"
_RATIO_RE = re.compile(
    # optional lead-in that a fix should remove with the ratio
    r"(?P<lead>(?:(?<![A-Za-z])(?:in|at|with)\s+(?:an?\s+)?)?"
    r"(?:(?<![A-Za-z])(?:aspect\s+ratio|ratio)(?:\s+of)?\s*[:：]?\s*|(?:画幅|画面)?比例\s*(?:为|是|[:：])?\s*)?)"
    rf"(?<![A-Za-z0-9.:：])(?P<a>{_NUM})\s?(?P<sep>[:：xX×]|\s+by\s+)\s?(?P<b>{_NUM})(?![A-Za-z0-9:：]|\.\d)"
    rf"(?P<tail>(?:[ \t]*(?:{alternation(WORDS.ratio_suffixes)})(?![A-Za-z])){{0,2}})",
    re.IGNORECASE,
)
_TIME_BEFORE_RE = re.compile(rf"(?:{L}(?:{alternation(WORDS.time_before)}))\s*$", re.IGNORECASE)
_TIME_AFTER_RE = re.compile(rf"^\s*(?:{alternation(WORDS.time_after)})(?![A-Za-z])", re.IGNORECASE)

# A resolution word: English ones whole and in any case ("4K", "Full HD"), Chinese anywhere.
_RES_WORD = re.compile(
    rf"{L}(?:{alternation(w for w in WORDS.resolution_words if w.isascii())}){R}"
    rf"|{alternation(w for w in WORDS.resolution_words if not w.isascii())}",
    re.IGNORECASE,
)
_RESOLUTION_RE = re.compile(
    rf"(?P<lead>(?<![A-Za-z])(?:in|at)[ \t]+)?"
    rf"(?P<core>(?:{_RES_WORD.pattern})(?:[ \t]*[/+]?[ \t]*(?:{_RES_WORD.pattern}))*)"
    rf"(?P<tail>[ \t]*(?:{alternation(WORDS.resolution_suffixes)})(?![A-Za-z]))?",
    re.IGNORECASE,
)

_TIME_EN_RE = en_words_re(WORDS.time_words_en)
_TIME_ZH_RE = zh_words_re(WORDS.time_words_zh)

_MEDIA_RE = re.compile(rf"(?<![A-Za-z0-9_.])@(?P<kind>{'|'.join(catalog.MEDIA)})(?P<n>\d+)?(?![A-Za-z])", re.IGNORECASE)


def _ratio_value(a: str, b: str) -> float:
    return float(a) / float(b)


def _closest_field_ratio(value: float) -> str:
    choices = [r for r in catalog.ASPECT_RATIOS if r != "adaptive"]
    return min(choices, key=lambda r: abs(_ratio_value(*r.split(":")) - value))


def _is_ratio(prompt: str, m: re.Match[str]) -> bool:
    a, b, sep = m.group("a"), m.group("b"), m.group("sep").strip().lower()
    if float(a) > 32 or float(b) > 32 or float(a) == 0 or float(b) == 0:
        return False
    pair = f"{a}:{b}"
    if "." in a or "." in b:
        # Film ratios are written as a decimal over 1 (2.35:1, 1.85:1).
        return (sep in ":：" and b == "1" and 1.0 < float(a) <= 3.0) or pair in WORDS.known_ratios
    if sep in ":：":
        if pair not in WORDS.known_ratios:
            return False  # 10:30, 3:45: clock times, not ratios
        clock = _TIME_BEFORE_RE.search(prompt[: m.start("a")]) or _TIME_AFTER_RE.match(prompt[m.end("b") :])
        return not (len(b) == 2 and clock)  # "at 9:16", "9:16 pm"
    return pair in catalog.ASPECT_RATIOS  # "16x9" is a ratio; "3x2 grid" is not worth the risk


def aspect_ratios(prompt: str, *, current: str | None = None) -> list[Hint]:
    """An aspect ratio in the text: set it in the Aspect ratio field; removed when that reads cleanly.

    The fix sets the field too (``Hint.setting``); when the field is ``current``ly that
    ratio already, the hint only offers to take the words out.
    """
    hints: list[Hint] = []
    for m in _RATIO_RE.finditer(prompt):
        if not _is_ratio(prompt, m):
            continue
        a, b = m.group("a"), m.group("b")
        pair = f"{a}:{b}"
        field_value = pair if pair in catalog.ASPECT_RATIOS else _closest_field_ratio(_ratio_value(a, b))
        setting: tuple[str, str] | None = ("aspect_ratio", field_value)
        if field_value == current:
            advice = t("The Aspect ratio field is already {value}, so these words can go.", value=field_value)
            setting = None
        elif field_value == pair:
            advice = t("Set Aspect ratio to {value} instead.", value=field_value)
        else:
            advice = t("The Aspect ratio field has no {pair}; {value} is the closest.", pair=pair, value=field_value)
        lead = m.group("lead")
        phrase_start = m.start() if lead.strip() else m.start("a")
        phrase_end = m.end("tail") if m.group("tail") else m.end("b")
        has_lead_word = bool(re.match(r"(?:in|at|with)\s", lead, re.IGNORECASE))
        span = removal_span(prompt, phrase_start, phrase_end, has_lead_word=has_lead_word)
        start, end = span if span else (m.start("a"), m.end("b"))
        hints.append(
            Hint(
                code="aspect-ratio-in-prompt",
                severity="warning",
                message=t(
                    '"{words}" in the prompt does not set the shape of the video; '
                    "the Aspect ratio field does. {advice}",
                    words=prompt[m.start("a") : m.end("b")],
                    advice=advice,
                ),
                start=start,
                end=end,
                fix="" if span else None,
                setting=setting,
            )
        )
    return hints


def resolutions(prompt: str, spec: catalog.ModelSpec, *, current: str | None = None) -> list[Hint]:
    """A resolution in the text ("4K", "1080p"): set Quality instead, to what this model offers.

    The fix sets Quality too (``Hint.setting``), unless it is ``current``ly that already.
    """
    hints: list[Hint] = []
    best = spec.qualities[-1]
    for m in _RESOLUTION_RE.finditer(prompt):
        core = m.group("core")
        first = _RES_WORD.match(core)
        wanted = WORDS.resolution_words.get(" ".join(first.group(0).lower().split()), "") if first else ""
        target = wanted if wanted in spec.qualities else best
        setting: tuple[str, str] | None = ("quality", target)
        if target == current:
            advice = t("The Quality field is already {value}, so these words can go.", value=target)
            setting = None
        elif wanted and wanted in spec.qualities:
            advice = t("Set Quality to {value} instead.", value=wanted)
        elif wanted:
            advice = t(
                "This model makes up to {best}; set Quality to {best}, or choose a standard model for {wanted}.",
                best=best,
                wanted=wanted,
            )
        else:
            advice = t(
                "Seedance makes at most 1080p, this model up to {best}: set Quality to {best} instead.", best=best
            )
        phrase_start = m.start("lead") if m.group("lead") else m.start("core")
        phrase_end = m.end("tail") if m.group("tail") else m.end("core")
        span = removal_span(prompt, phrase_start, phrase_end, has_lead_word=bool(m.group("lead")))
        start, end = span if span else (m.start("core"), m.end("core"))
        hints.append(
            Hint(
                code="resolution-in-prompt",
                severity="warning",
                message=t(
                    '"{words}" in the prompt does not change the video\'s resolution; the Quality field does. {advice}',
                    words=core,
                    advice=advice,
                ),
                start=start,
                end=end,
                fix="" if span else None,
                setting=setting,
            )
        )
    return hints


def web_search(prompt: str, spec: catalog.ModelSpec, switched_on: bool) -> list[Hint]:
    """A word about the present ("latest", "今年") on a model with Web search switched off."""
    if switched_on or not spec.web_search:
        return []
    found = sorted(
        [(m.start(), m.end()) for m in _TIME_EN_RE.finditer(prompt)]
        + [(m.start(), m.end()) for m in _TIME_ZH_RE.finditer(prompt)]
    )
    if not found:
        return []
    start, end = found[0]
    return [
        Hint(
            code="web-search-suggested",
            severity="info",
            message=t(
                '"{words}" is about the present. Turn on Web search so the model can look '
                "up fresh information; it is billed only when a search actually happens.",
                words=prompt[start:end],
            ),
            start=start,
            end=end,
        )
    ]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return t("{n}" + suffix, n=n)


def media_references(prompt: str, spec: catalog.ModelSpec, counts: Mapping[str, int]) -> list[Hint]:
    """``@image1`` and friends that refer to nothing: wrong model, no number, or more than were added.

    ``counts`` is how many media of each kind (``"image"``, ``"video"``, ``"audio"``) the request carries.
    """
    hints: list[Hint] = []
    for m in _MEDIA_RE.finditer(prompt):
        kind = m.group("kind").lower()
        ref = m.group(0)
        one, many = t(catalog.MEDIA[kind].one), t(catalog.MEDIA[kind].many)
        if spec.mode == "text":
            problem = t(
                "Text-to-video takes no images, videos or audio, so {ref} refers to nothing. "
                "Remove it, or switch to an image-to-video or reference-to-video model.",
                ref=ref,
            )
        elif not spec.limits(kind).accepted:
            problem = t(
                "This model takes no {many}, so {ref} refers to nothing. Remove it, or use a reference-to-video model.",
                many=many,
                ref=ref,
            )
        elif m.group("n") is None:
            problem = t("Add a number to {ref}: {ref}1 is the first {one}, {ref}2 the second.", ref=ref, one=one)
        else:
            n, have = int(m.group("n")), counts.get(kind, 0)
            if 1 <= n <= have:
                continue
            if n < 1:
                problem = t("Media are numbered from 1: @{kind}1 is the first {one}.", kind=kind, one=one)
            elif have == 0:
                problem = t(
                    "{ref} refers to the {nth} {one}, but no {many} are added.",
                    ref=ref,
                    nth=_ordinal(n),
                    one=one,
                    many=many,
                )
            else:
                added = t("1 {one} is", one=one) if have == 1 else t("{n} {many} are", n=have, many=many)
                problem = t(
                    "{ref} refers to the {nth} {one}, but only {added} added.",
                    ref=ref,
                    nth=_ordinal(n),
                    one=one,
                    added=added,
                )
        hints.append(Hint("media-reference", "error", problem, m.start(), m.end()))
    return hints
