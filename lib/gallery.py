"""Which runs the gallery shows, and in what order: one filter over a workspace's runs, applied in memory.

The gallery reads every run of the workspace once per rerun (``Store.list_runs``);
the filter then narrows them without another query, so changing a filter is instant.

Example:
    >>> only_failed = GalleryFilter(statuses=frozenset({RunStatus.FAILED}), sort=Sort.RATING)
    >>> only_failed.apply([])
    []
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from lib.status import RunStatus
from lib.store import Run


class Sort(StrEnum):
    NEWEST = "newest"
    RATING = "rating"


# Words for the sort menu.
SORT_LABELS: dict[Sort, str] = {Sort.NEWEST: "newest first", Sort.RATING: "best rated first"}


@dataclass(frozen=True)
class GalleryFilter:
    """What the gallery's filter bar asks for; an empty field does not filter."""

    statuses: frozenset[RunStatus] = frozenset()
    model: str | None = None
    quality: str | None = None
    min_rating: int | None = None
    text: str = ""  # words in the prompt, case-insensitive
    participant: str | None = None
    sort: Sort = Sort.NEWEST

    @property
    def needle(self) -> str:
        return self.text.strip().casefold()

    def matches(self, run: Run) -> bool:
        if self.statuses and run.status not in self.statuses:
            return False
        if self.model and run.model != self.model:
            return False
        if self.min_rating and (run.rating or 0) < self.min_rating:
            return False
        if self.participant and run.participant != self.participant:
            return False
        if self.quality and run.request.effective("quality") != self.quality:
            return False
        return not self.needle or self.needle in run.request.prompt.casefold()

    def apply(self, runs: Iterable[Run]) -> list[Run]:
        """The runs that match, newest first as given, or best rated first."""
        kept = [run for run in runs if self.matches(run)]
        return sort_by_rating(kept) if self.sort == Sort.RATING else kept


def sort_by_rating(runs: Iterable[Run]) -> list[Run]:
    """Best rated first; unrated runs after every rated one; newest first within a rating."""
    return sorted(runs, key=lambda r: (r.rating is None, -(r.rating or 0), -r.created_at))


def participants(runs: Iterable[Run]) -> list[str]:
    """The names on these runs, sorted, each once (the participant menu)."""
    return sorted({r.participant for r in runs if r.participant}, key=str.casefold)
