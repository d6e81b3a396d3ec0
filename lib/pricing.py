"""What a run will cost before it is paid for: the rate card (``rates.toml``) and itemised estimates.

Every price on screen comes from the rate card: estimates, and the words for the
extras (``price_words``: the content filter's multiplier, the price of a web search).
Editing ``rates.toml`` changes every figure and sentence.

Example:
    >>> from lib.schema import GenerationRequest
    >>> card = load_rates()
    >>> est = estimate(GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat", duration=8))
    >>> est.credits == 8 * card.rate("standard", "720p").without_video, est.exact
    (True, True)
    >>> format_credits(1234.5), format_usd(1.5876)
    ('1,234.50 credits', '$1.59')
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import NamedTuple

from lib.i18n import t
from lib.schema import GenerationRequest

DEFAULT_RATES_PATH = Path(__file__).with_name("rates.toml")


# --- the rate card ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Credits per output second for one tier at one quality."""

    without_video: float
    with_video: float
    estimate: bool = False
    why: str = ""


@dataclass(frozen=True)
class RateCard:
    as_of: dt.date
    sources: tuple[str, ...]
    usd_per_credit: float
    usd_per_credit_note: str
    content_filter_off_multiplier: float
    web_search_credits_per_search: float
    rates: dict[tuple[str, str], Rate]  # (tier, quality) -> Rate

    def rate(self, tier: str, quality: str) -> Rate:
        try:
            return self.rates[(tier, quality)]
        except KeyError:
            raise ValueError(
                f'No {tier} {quality} rate in the rate card; add [rates.{tier}."{quality}"] to rates.toml.'
            ) from None


def _number(data: dict, key: str, where: str) -> float:
    value = data.get(key)
    # bool is an int in Python; "true" as a price is a typo, not 1 credit.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"rates.toml: {where}{key} must be a number of at least 0 (found {value!r}).")
    return float(value)


def parse_rates(data: dict) -> RateCard:
    """Check a parsed rate card and turn it into a ``RateCard``; errors name the line to fix."""
    as_of = data.get("as_of")
    if not isinstance(as_of, dt.date):
        raise ValueError("rates.toml: as_of must be a date written like 2026-07-04 (no quotes).")
    rates: dict[tuple[str, str], Rate] = {}
    for tier, by_quality in (data.get("rates") or {}).items():
        for quality, entry in by_quality.items():
            where = f'[rates.{tier}."{quality}"] '
            rates[(tier, quality)] = Rate(
                without_video=_number(entry, "without_video", where),
                with_video=_number(entry, "with_video", where),
                estimate=bool(entry.get("estimate", False)),
                why=str(entry.get("why", "")),
            )
    if not rates:
        raise ValueError('rates.toml: no [rates.<tier>."<quality>"] tables found.')
    return RateCard(
        as_of=as_of,
        sources=tuple(str(s) for s in data.get("sources", ())),
        usd_per_credit=_number(data, "usd_per_credit", ""),
        usd_per_credit_note=str(data.get("usd_per_credit_note", "")),
        content_filter_off_multiplier=_number(data, "content_filter_off_multiplier", ""),
        web_search_credits_per_search=_number(data, "web_search_credits_per_search", ""),
        rates=rates,
    )


@functools.lru_cache(maxsize=1)
def _default_rates() -> RateCard:
    return _load(DEFAULT_RATES_PATH)


def _load(path: Path) -> RateCard:
    with open(path, "rb") as f:
        return parse_rates(tomllib.load(f))


_override: list[RateCard] = []  # innermost use_rates() last


def load_rates(path: str | Path | None = None) -> RateCard:
    """The rate card: the file at ``path`` (read every call), else the one ``use_rates`` set, else the bundled one.

    The bundled ``rates.toml`` is read once per process.
    """
    if path is not None:
        return _load(Path(path))
    return _override[-1] if _override else _default_rates()


@contextmanager
def use_rates(card: RateCard | str | Path) -> Iterator[RateCard]:
    """Every estimate and price on screen uses ``card`` (a ``RateCard`` or a rates.toml path) while the block runs.

    For tests and previews of an edited card; the bundled file is left as it is.
    """
    loaded = card if isinstance(card, RateCard) else load_rates(card)
    _override.append(loaded)
    try:
        yield loaded
    finally:
        _override.pop()


# --- prices in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceWords:
    """The rate card's extras as the screen words them."""

    filter_off: str  # the multiplier, e.g. "×1.1"
    filter_off_change: str  # the same as a change, e.g. "10% more"
    web_search: str  # e.g. "+0.04 credits per search"


def price_words(card: RateCard | None = None) -> PriceWords:
    """Words for the content filter's surcharge and the web search price, from ``card`` (default: the bundled one).

    >>> import dataclasses
    >>> words = price_words(dataclasses.replace(load_rates(), content_filter_off_multiplier=1.25))
    >>> words.filter_off, words.filter_off_change
    ('×1.25', '25% more')
    """
    card = card or load_rates()
    m = card.content_filter_off_multiplier
    change = round(abs(m - 1) * 100, 2)
    return PriceWords(
        filter_off=f"×{m:g}",
        filter_off_change=t("no extra cost")
        if change == 0
        else t("{pct}% more" if m > 1 else "{pct}% less", pct=f"{change:g}"),
        web_search=t("+{credits} credits per search", credits=f"{card.web_search_credits_per_search:g}"),
    )


# --- estimates --------------------------------------------------------------------------


class Line(NamedTuple):
    """One line item; unpacks as ``label, credits``."""

    label: str
    credits: float


@dataclass
class Estimate:
    credits: float
    usd: float
    lines: list[Line]
    exact: bool  # False when a rate or an input length had to be guessed
    notes: list[str] = field(default_factory=list)
    billable_seconds: float = 0.0


def _sec(x: float) -> str:
    return t("{n} s", n=f"{x:g}")


def estimate(
    request: GenerationRequest, *, input_video_seconds: float = 0.0, rates: RateCard | None = None
) -> Estimate:
    """Credits and USD for one run, itemised, per the provider's billing rules.

    ``input_video_seconds`` is the total length of the request's input videos (0 when
    unknown); it matters only when the request has ``video_urls``.
    """
    if not (math.isfinite(input_video_seconds) and input_video_seconds >= 0):
        raise ValueError(f"input_video_seconds must be 0 or more (got {input_video_seconds!r}).")
    card = rates or load_rates()
    spec = request.spec
    quality = request.effective("quality")
    rate = card.rate(spec.tier, quality)
    output = float(request.effective("duration"))
    exact = not rate.estimate
    notes: list[str] = []
    if rate.estimate:
        notes.append(
            t("The {tier} {quality} rate is an estimate: {why}", tier=t(spec.tier), quality=quality, why=rate.why)
        )

    where = f"{t(spec.tier)} {quality}"
    if request.video_urls:
        per_s = rate.with_video
        # Provider rule: the input is billed for at least as long as the output.
        billed_input = max(input_video_seconds, output)
        if input_video_seconds <= 0:
            exact = False
            notes.append(
                t(
                    "Input video length unknown: billed here as {seconds} (the minimum, the output length); "
                    "longer input videos cost more.",
                    seconds=_sec(output),
                )
            )
        lines = [
            Line(
                t(
                    "Output video: {seconds} × {rate} credits/s ({where}, with video input)",
                    seconds=_sec(output),
                    rate=f"{per_s:g}",
                    where=where,
                ),
                output * per_s,
            ),
            Line(
                t(
                    "Input video: {seconds} billed (at least the output length) × {rate} credits/s",
                    seconds=_sec(billed_input),
                    rate=f"{per_s:g}",
                ),
                billed_input * per_s,
            ),
        ]
        billable = output + billed_input
    else:
        per_s = rate.without_video
        lines = [
            Line(
                t(
                    "Output video: {seconds} × {rate} credits/s ({where})",
                    seconds=_sec(output),
                    rate=f"{per_s:g}",
                    where=where,
                ),
                output * per_s,
            )
        ]
        billable = output

    words = price_words(card)
    if not request.effective("content_filter"):
        surcharge = sum(line.credits for line in lines) * (card.content_filter_off_multiplier - 1)
        lines.append(Line(t("Content filter off: {cost}", cost=words.filter_off), surcharge))
    if request.effective("web_search"):
        notes.append(t("Web search: {cost}, only if triggered (not included above).", cost=words.web_search))

    # The total is the sum of the lines so the card always adds up on screen.
    credits = sum(line.credits for line in lines)
    return Estimate(
        credits=credits,
        usd=credits * card.usd_per_credit,
        lines=lines,
        exact=exact,
        notes=notes,
        billable_seconds=billable,
    )


def batch_total(estimates: Iterable[Estimate], labels: Iterable[str] | None = None) -> Estimate:
    """One estimate for several runs: a line per run (``labels`` or "Run 1", "Run 2", ...)."""
    estimates = list(estimates)
    names = list(labels) if labels is not None else [t("Run {n}", n=i) for i in range(1, len(estimates) + 1)]
    if len(names) != len(estimates):
        raise ValueError("batch_total: give one label per estimate.")
    return Estimate(
        credits=sum(e.credits for e in estimates),
        usd=sum(e.usd for e in estimates),
        lines=[Line(name, e.credits) for name, e in zip(names, estimates, strict=False)],
        exact=all(e.exact for e in estimates),
        notes=list(dict.fromkeys(n for e in estimates for n in e.notes)),  # each note once, in order
        billable_seconds=sum(e.billable_seconds for e in estimates),
    )


def _cents(x: float) -> Decimal:
    # Round half up as a person would on paper: 5 s x 5.063 is 25.315 -> 25.32, although
    # the float product is 25.314999... (rounding to 9 places first removes that noise).
    return Decimal(repr(round(x, 9))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_amount(x: float) -> str:
    """A credit amount with two decimals, rounded half up like every figure on screen: ``'1,234.57'``."""
    return f"{_cents(x):,.2f}"


def format_credits(x: float) -> str:
    """Two decimals, e.g. ``format_credits(118.80000000000001)`` -> ``'118.80 credits'``."""
    return t("{amount} credits", amount=format_amount(x))


def format_usd(x: float) -> str:
    """Dollars and cents, e.g. ``format_usd(2.417268)`` -> ``'$2.42'``."""
    return f"${_cents(x):,.2f}"


# --- input video length -------------------------------------------------------------------


def probe_video_seconds(url: str, *, timeout: float = 5.0, allow: Iterable[str] = ()) -> float | None:
    """Length in seconds of a video at a URL or local path, or None if it cannot be read in time.

    Never raises: an unknown length only makes the estimate inexact. A link is fetched
    through the network guard, two small ranges at most (``lib.probe``).
    """
    from lib import probe  # httpx and PyAV only when a length is asked for

    return probe.video_seconds(url, timeout=timeout, allow=allow)
