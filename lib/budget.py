"""The one rule for "does this fit": a run, a batch or a grid against the workspace budget and the participant's cap.

A run *commits* credits from the moment it may cost some (``lib.status.billed``):
the provider's own figure (``credits_reserved``) once it answered, our estimate
until then. A limit left empty means no limit; the cap counts only the runs of that
participant (their id, ``lib.identity``, not a typed name). The store gathers the
figures in the very transaction that inserts the runs (``Store.budget_room``), so two
people cannot both take the last credits; this module decides, and says which limit
refused and by how much. Pages ask it before the click too (``shortfall``), so a run
that would not fit is never offered.

Example:
    >>> room = Room(budget=400.0, budget_left=12.0)
    >>> room.left
    12.0
    >>> check(room, 12.0)  # an exact fit
    >>> print(shortfall(room, 24.3))
    Over the workshop budget by 12.30 credits.
    >>> try:
    ...     check(room, 31.26)
    ... except BudgetExceeded as exc:
    ...     print(exc)
    This run needs 31.26 credits; the workshop budget has 12.00 of 400.00 left (over by 19.26).
    >>> reserved_differs(31.26, 67.5), reserved_differs(31.26, 32.0)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from lib.i18n import t
from lib.pricing import format_amount

# Sums of per-run floats must not refuse an exact fit; far below the cent the screen shows.
EPSILON = 1e-6
# The provider's reserved figure is worth a remark when it is this far from our estimate.
RESERVED_TOLERANCE = 0.05


class Limit(StrEnum):
    """Which limit a figure belongs to."""

    BUDGET = "budget"
    CAP = "cap"


# How a refusal names each limit to the person who clicked.
LIMIT_NAMES: dict[Limit, str] = {
    Limit.BUDGET: "the workshop budget",
    Limit.CAP: "your cap",
}
# A run that does not fit, said before the click.
OVER = "Over {limit} by {over} credits."
# The provider's figure far from ours (``reserved_remark``).
RESERVED_REMARK = (
    "The provider reserved {change} than our estimate; budgets count the provider's figure, "
    "so this run commits {reserved} credits."
)
MORE, LESS = "{pct}% more", "{pct}% less"


def spend(credits_reserved: float | None, estimate_credits: float) -> float:
    """What one billed run counts: the provider's figure once known, else our estimate."""
    return estimate_credits if credits_reserved is None else credits_reserved


def spend_clause(credits_reserved: Any, estimate_credits: Any) -> sa.ColumnElement[float]:
    """``spend`` as a SQL expression over the two columns."""
    return sa.func.coalesce(credits_reserved, estimate_credits)


@dataclass(frozen=True)
class Room:
    """Each limit and what is left under it; ``None`` where that limit is not set."""

    budget: float | None = None
    budget_left: float | None = None
    cap: float | None = None
    cap_left: float | None = None

    @classmethod
    def of(
        cls,
        *,
        budget: float | None,
        committed: float,
        cap: float | None = None,
        participant_committed: float | None = None,
    ) -> Room:
        """Room from the limits and the committed sums (``participant_committed`` None: no participant)."""
        budget_left = None if budget is None else budget - committed
        if cap is None or participant_committed is None:
            return cls(budget=budget, budget_left=budget_left)
        return cls(budget=budget, budget_left=budget_left, cap=cap, cap_left=cap - participant_committed)

    def limits(self) -> Iterator[tuple[Limit, float, float]]:
        """``(limit, total, left)`` for each limit that is set, the workshop budget first."""
        if self.budget is not None and self.budget_left is not None:
            yield Limit.BUDGET, self.budget, self.budget_left
        if self.cap is not None and self.cap_left is not None:
            yield Limit.CAP, self.cap, self.cap_left

    @property
    def left(self) -> float | None:
        """Credits still allowed under every limit (``None``: no limit at all)."""
        lefts = [left for _limit, _total, left in self.limits()]
        return min(lefts) if lefts else None


class BudgetExceeded(Exception):
    """A run, a batch or a grid would go over the workshop budget or the participant's cap."""

    def __init__(self, *, what: str, needed: float, limit: Limit, total: float, left: float) -> None:
        self.what = what
        self.needed = needed
        self.limit = limit
        self.total = total
        self.left = max(left, 0.0)
        self.over = needed - self.left
        super().__init__(
            t(
                "{what} needs {needed} credits; {limit} has {left} of {total} left (over by {over}).",
                what=t(what),
                needed=format_amount(needed),
                limit=t(LIMIT_NAMES[limit]),
                left=format_amount(self.left),
                total=format_amount(total),
                over=format_amount(self.over),
            )
        )


@dataclass(frozen=True)
class Shortfall:
    """Why ``needed`` credits do not fit: the limit that refuses, its total, what is left under it."""

    limit: Limit
    needed: float
    total: float
    left: float

    @property
    def over(self) -> float:
        return self.needed - max(self.left, 0.0)

    def __str__(self) -> str:
        return t(OVER, limit=t(LIMIT_NAMES[self.limit]), over=format_amount(self.over))


def shortfall(room: Room, credits: float) -> Shortfall | None:
    """The limit ``credits`` more would break (None: they fit under every limit).

    When both limits refuse, the one with less left is named: it is the one to raise.
    """
    refusals = [(left, limit, total) for limit, total, left in room.limits() if credits > left + EPSILON]
    if not refusals:
        return None
    left, limit, total = min(refusals, key=lambda r: r[0])
    return Shortfall(limit=limit, needed=credits, total=total, left=left)


def check(room: Room, credits: float, *, what: str = "This run") -> None:
    """Refuse (``BudgetExceeded``) ``credits`` more when they do not fit under every limit (``shortfall``)."""
    short = shortfall(room, credits)
    if short is not None:
        raise BudgetExceeded(what=what, needed=credits, limit=short.limit, total=short.total, left=short.left)


def reserved_differs(estimate: float, reserved: float | None) -> bool:
    """Is the provider's reserved figure more than ``RESERVED_TOLERANCE`` away from our estimate?

    Budgets count the provider's figure once it is known (``spend``), so a large
    difference changes what is left; the page says so.
    """
    if reserved is None:
        return False
    if estimate <= 0:
        return reserved > EPSILON
    return abs(reserved - estimate) / estimate > RESERVED_TOLERANCE


def reserved_remark(estimate: float, reserved: float | None) -> str | None:
    """A sentence when the provider's reserved figure is far from our estimate (``reserved_differs``), else None.

    >>> reserved_remark(31.26, 67.5).split(";")[0]
    'The provider reserved 116% more than our estimate'
    >>> reserved_remark(31.26, 31.5) is None
    True
    """
    if reserved is None or not reserved_differs(estimate, reserved):
        return None
    pct = round(abs(reserved - estimate) / estimate * 100) if estimate > 0 else 100
    change = t(MORE if reserved > estimate else LESS, pct=pct)
    return t(RESERVED_REMARK, change=change, reserved=format_amount(reserved))
