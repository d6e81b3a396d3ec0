"""Where a run is: one closed set of states, the groups the rest of the app asks about, and the billed rule.

::

    submitting ──POST──▶ pending ─▶ processing ─▶ completed ──download──▶ archived
        │                    └──────────┴────────────┴──▶ failed
        ├──▶ submit_failed   (refused or never sent: nothing was charged)
        └──▶ unknown         (the POST's outcome is unknown: check the provider)
                                                  completed ──▶ expired (link gone)

``archived`` is the only happy ending; ``failed``, ``submit_failed``, ``unknown`` and
``expired`` are the other terminal states and always carry an error code and message.

A run is *billed* (counts against budgets) unless it ended ``submit_failed``, or
``failed`` before the provider completed it. ``billed`` and ``billed_clause`` are the
same rule, for a run in memory and for a SQL query.

Example:
    >>> RunStatus.PENDING in POLLED, RunStatus("archived").terminal
    (True, True)
    >>> billed(RunStatus.FAILED, completed_at=None), billed(RunStatus.FAILED, completed_at=12.0)
    (False, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from lib.i18n import Words


class RunStatus(StrEnum):
    """A run's state; the values are what the database stores."""

    SUBMITTING = "submitting"
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ARCHIVED = "archived"
    FAILED = "failed"
    SUBMIT_FAILED = "submit_failed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def label(self) -> str:
        """The word for the screen (``LABELS``)."""
        return LABELS[self]


# The provider is working on it: the worker polls these.
POLLED = frozenset({RunStatus.PENDING, RunStatus.PROCESSING})
# Finished upstream, video not yet saved: the worker downloads these.
TO_ARCHIVE = frozenset({RunStatus.COMPLETED})
# Not finished yet: a card shows progress, the worker (or a submit) still owes something.
UNFINISHED = frozenset({RunStatus.SUBMITTING}) | POLLED | TO_ARCHIVE
TERMINAL = frozenset(RunStatus) - UNFINISHED
# Ended without a video, with an error code and message.
FAILURES = TERMINAL - {RunStatus.ARCHIVED}

# Words for the screen; the UI does not invent its own. Each read is in the reader's language.
LABELS: Mapping[str, str] = Words(
    {
        RunStatus.SUBMITTING: "submitting",
        RunStatus.PENDING: "queued",
        RunStatus.PROCESSING: "generating",
        RunStatus.COMPLETED: "saving video",
        RunStatus.ARCHIVED: "done",
        RunStatus.FAILED: "failed",
        RunStatus.SUBMIT_FAILED: "not submitted",
        RunStatus.UNKNOWN: "unknown — it may have been charged",
        RunStatus.EXPIRED: "expired — the video link ran out before it was saved",
    }
)

# The billed rule as data: these states are never billed...
NEVER_BILLED = frozenset({RunStatus.SUBMIT_FAILED})
# ...and these only once the provider had completed the run (a failed generation is free).
BILLED_ONLY_IF_COMPLETED = frozenset({RunStatus.FAILED})


def billed(status: str, completed_at: float | None) -> bool:
    """May a run in ``status`` cost credits? (What budgets count.)"""
    if status in NEVER_BILLED:
        return False
    return not (status in BILLED_ONLY_IF_COMPLETED and completed_at is None)


def billed_clause(status: Any, completed_at: Any) -> sa.ColumnElement[bool]:
    """``billed`` as a SQL condition over a status column and a completed-at column."""
    return sa.not_(
        sa.or_(
            status.in_([s.value for s in NEVER_BILLED]),
            sa.and_(status.in_([s.value for s in BILLED_ONLY_IF_COMPLETED]), completed_at.is_(None)),
        )
    )
