"""What a gallery card shows, as plain data: made from a run in one place, for the page and for the event stream.

The page's grid and every run notice of the event stream carry the same dicts, so a
card looks the same whether it came with the page or with a notice. Every value is
plain text or a number; the browser sets text with ``textContent``, never as HTML.
The words on a card live here (``WORDS`` and the functions below), not in the
browser code.

Example:
    >>> took(75.0), took(3725.0), took(4.2)
    ('1 min 15 s', '1 h 2 min', '4 s')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lib import advice, catalog, media, messages, pricing
from lib.i18n import Words, t
from lib.recovery import MISSING_KEY
from lib.status import FAILURES, LABELS
from lib.store import Run
from lib.text import one_line, shorten

WAITING_FOR_KEY = "Waiting for its key"
PROMPT_SHOWN = 600  # characters of a prompt a card shows
TOAST_PROMPT = 60  # characters of a prompt a completion notice quotes

# Words the browser code fills in itself (times it formats in the viewer's own clock).
WORDS: Mapping[str, str] = Words(
    {
        "made": "Made",  # followed by the local time the run was made
        "left": "about {s} s left",
        "soon": "any moment now",
        "play": "Play",
        "details": "Details",
        "rate": "Rate {n} of 5",
    }
)


def took(seconds: float) -> str:
    """A duration as a person says it: ``'48 s'``, ``'2 min 5 s'``, ``'1 h 10 min'``."""
    s = max(0, round(seconds))
    if s < 60:
        return t("{s} s", s=s)
    if s < 3600:
        return t("{m} min {s} s", m=s // 60, s=s % 60) if s % 60 else t("{m} min", m=s // 60)
    return t("{h} h {m} min", h=s // 3600, m=s % 3600 // 60)


def _label(run: Run) -> str:
    return LABELS[run.status].capitalize()


def badges(run: Run) -> list[list[str]]:
    """The settings as ``[tone, text]`` pairs: model, length, quality, ratio, and what is unusual."""
    req = run.request
    spec = catalog.MODELS.get(run.model)
    items = [
        ["violet", spec.label if spec else run.model],
        ["gray", t("{s} s", s=req.effective("duration"))],
        ["gray", str(req.effective("quality"))],
        ["gray", str(req.effective("aspect_ratio"))],
    ]
    if not req.effective("generate_audio"):
        items.append(["gray", t("silent")])
    if not req.effective("content_filter"):
        items.append(["orange", t("filter off {cost}", cost=pricing.price_words().filter_off)])
    if req.effective("web_search"):
        items.append(["blue", t("web search")])
    if run.participant:
        items.append(["green", one_line(run.participant, 100)])
    return items


def cost(run: Run) -> str:
    """What the run costs (or will): the provider's reserved credits once known, else our estimate."""
    if run.finished and not run.billed:
        return t("not charged")
    if run.credits_reserved is not None:
        word = "cost {amount} credits" if run.finished else "reserved {amount} credits"
        return t(word, amount=pricing.format_amount(run.credits_reserved))
    amount = pricing.format_amount(run.estimate_credits)
    if run.finished:
        return t("cost ≈ {amount} credits (our estimate)", amount=amount)
    return t("estimate {amount} credits" if run.estimate_exact else "estimate ≈ {amount} credits", amount=amount)


def facts(run: Run) -> list[str]:
    """How long it took (once finished) and what it cost: the card's last line after "Made <time>"."""
    out = []
    if run.finished and run.finished_at:
        out.append(t("took {time}", time=took(run.finished_at - run.created_at)))
    out.append(cost(run))
    return out


def eta_at(run: Run) -> float | None:
    """When the provider expects to be done (its estimate from submission), or None."""
    if run.status in FAILURES or run.archived or not run.estimated_time or not run.submitted_at:
        return None
    return run.submitted_at + run.estimated_time


def toast(run: Run) -> str | None:
    """One sentence for the notice a finished run brings up on open pages (None while it runs)."""
    if not run.finished:
        return None
    quoted = f"“{one_line(run.request.prompt, TOAST_PROMPT)}”"
    if run.archived:
        req = run.request
        params = {"prompt": quoted, "s": req.effective("duration"), "quality": req.effective("quality")}
        if run.finished_at:
            return t(
                "{prompt} is ready: {s} s at {quality}, made in {time}.",
                time=took(run.finished_at - run.created_at),
                **params,
            )
        return t("{prompt} is ready: {s} s at {quality}.", **params)
    todo = advice.what_to_do(run.error_code, run.status) or one_line(messages.show(run.error_message), 200)
    if todo:
        return t("{prompt} {status}: {todo}", prompt=quoted, status=LABELS[run.status], todo=todo)
    return t("{prompt} {status}.", prompt=quoted, status=LABELS[run.status])


def card(run: Run, *, key_missing: bool = False) -> dict[str, Any]:
    """Everything one card shows, as JSON-ready plain data.

    ``key_missing``: the run was made with a personal key the server no longer holds, so
    nothing follows it until someone pastes the key again (the card says so instead of a
    progress bar that never moves).
    """
    out: dict[str, Any] = {
        "id": run.id,
        "version": run.updated_at,  # a page keeps the newer of two cards of one run
        "status": run.status.value,
        "state": "video" if run.archived else ("failed" if run.status in FAILURES else "live"),
        "label": _label(run),
        "progress": 100 if run.archived else max(0, min(100, run.progress)),
        "eta_at": eta_at(run),
        "prompt": shorten(run.request.prompt, PROMPT_SHOWN),
        "badges": badges(run),
        "made_at": run.created_at,
        "facts": facts(run),
        "rating": run.rating,
        "video": None,
        "error": None,
        "note": None,
        "toast": toast(run),
    }
    if run.archived and run.media_token:
        out["video"] = {
            "src": media.url(run.media_token),
            "poster": media.url(run.media_token, "poster"),
            "width": run.media_width or 16,
            "height": run.media_height or 9,
        }
    if run.status in FAILURES:
        out["error"] = {
            "code": one_line(run.error_code or run.status.value, 64),
            "message": messages.show(run.error_message),
            "advice": advice.what_to_do(run.error_code, run.status) or "",
        }
    elif key_missing:
        out["label"] = t(WAITING_FOR_KEY)
        out["eta_at"] = None
        out["note"] = t(MISSING_KEY)
    elif run.poll_error and not run.finished:
        out["note"] = t("Retrying: {error}", error=one_line(messages.show(run.poll_error), 200))
    return out
