"""What a person can do about a failed run: one sentence per error code, as data.

The keys are the provider's task error codes (the simulator's ``TASK_ERRORS`` holds
the provider's own words for each), ``insufficient_quota`` from a refused submit,
and the run state ``expired``. A sentence may name a price as ``{filter_off}``; it
is filled from the rate card (``lib.pricing.price_words``), never written here. The
image limits (``{image_formats}``, ``{image_px}``, ``{image_ratio_low}`` and
``{image_ratio_high}``) come from ``lib.catalog.FILE_LIMITS`` the same way.

The sentences the app stores about a run (its error messages) are in ``lib/messages.py``.
Other tables of screen words live next to what they describe: the models and the
words for each kind of media in ``lib/catalog.py``, prices in ``lib/rates.toml``,
the hints' word lists in ``lib/hints/words.toml``, CJK ranges in ``lib/text.py``.

Example:
    >>> what_to_do("generation_timeout")
    'The provider took too long; submitting again usually works.'
    >>> what_to_do(None, "expired")
    'The 24-hour link ran out before the video was saved; run it again if you need it.'
"""

from __future__ import annotations

from lib import catalog, pricing
from lib.i18n import t
from lib.status import RunStatus

ADVICE: dict[str, str] = {
    # The provider's task error codes.
    "content_policy_violation": "Reword the prompt (or turn the content filter off, at {filter_off}) and submit again.",
    "invalid_parameters": "Check the settings and media links, then submit again.",
    "image_processing_error": "Use a {image_formats} image of {image_px} px that the server can download.",
    "image_dimension_mismatch": "Use images with an aspect ratio between {image_ratio_low} and {image_ratio_high}.",
    "request_cancelled": "The run was cancelled before it finished; submit it again if you still want it.",
    "generation_failed_no_content": "No video came out this time; try again, or adjust the prompt.",
    "service_error": "A provider-side error; try again.",
    "generation_timeout": "The provider took too long; submitting again usually works.",
    "resource_exhausted": "The provider is out of capacity; try again in a few minutes.",
    "quota_exceeded": "The account is out of credits: top up, then retry.",
    "service_unavailable": "The provider is busy; try again in a few minutes.",
    "resource_not_found": "A media link could not be found; check the links, then submit again.",
    "unknown_error": "The provider gave no reason; try again, and tell the facilitator if it happens again.",
    # A submit the provider refused for lack of credits.
    "insufficient_quota": "The account is out of credits: top up, then retry.",
    # A run state: the result link expired before the video was saved.
    RunStatus.EXPIRED: "The 24-hour link ran out before the video was saved; run it again if you need it.",
}


def what_to_do(code: str | None, status: str | None = None, *, rates: pricing.RateCard | None = None) -> str | None:
    """The advice for an error code, else for the run's state; None when there is none."""
    text = ADVICE.get(code or "") or ADVICE.get(status or "")
    if text is None:
        return None
    return t(text, filter_off=pricing.price_words(rates).filter_off, **_IMAGE_LIMITS)


def _image_limits(limits: catalog.FileLimits) -> dict[str, str]:
    assert limits.side_px is not None and limits.ratio is not None
    return {
        "image_formats": "/".join(name.lower() for name in limits.formats),
        "image_px": f"{limits.side_px[0]}–{limits.side_px[1]}",
        "image_ratio_low": f"{limits.ratio[0]:g}",
        "image_ratio_high": f"{limits.ratio[1]:g}",
    }


_IMAGE_LIMITS = _image_limits(catalog.FILE_LIMITS["image"])  # the catalog is fixed: worded once
