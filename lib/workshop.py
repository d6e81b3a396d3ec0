"""Workshop rules: saving and sending a grid or a batch as one all-or-nothing group, and the prompt leaderboard.

A group is checked against the workspace budget and the participant's cap as one
total (``lib.budget``), in the transaction that saves its runs: every run is saved,
or none is. Only then is any of them sent. A group is never half-paid.

Example:
    >>> from lib import pricing
    >>> from lib.budget import BudgetExceeded
    >>> from lib.store import Store
    >>> db = Store("sqlite://")
    >>> ws = db.create_workspace("Workshop", facilitator="pid_facilitator_0123456789")
    >>> _ = db.set_budget(ws.id, 60, by="pid_facilitator_0123456789")
    >>> req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox", duration=4, quality="480p")
    >>> item = Item(req, pricing.estimate(req))
    >>> try:
    ...     prepare_group(db, ws.id, [item] * 3, group_id="grp_demo1", fingerprint="k_demo", what="This grid")
    ... except BudgetExceeded as exc:
    ...     print(exc)
    This grid needs 75.01 credits; the workshop budget has 60.00 of 60.00 left (over by 15.01).
    >>> db.list_runs(ws.id)
    []
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lib import pricing, submit
from lib.client import EvolinkClient
from lib.schema import GenerationRequest
from lib.store import NewRun, Run, Store

# --- sending a group ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One run of a group: what to send, what it costs, and its label on screen."""

    request: GenerationRequest
    estimate: pricing.Estimate
    label: str = ""
    parent_id: str | None = None  # the run this one remixes (takes of a remix are all its children)


def prepare_group(
    db: Store,
    workspace_id: str,
    items: Sequence[Item],
    *,
    group_id: str,
    fingerprint: str,
    participant: str | None = None,
    participant_id: str | None = None,
    what: str = "This batch",
) -> list[Run]:
    """Save every run of the group as ``submitting``, or none (raises ``lib.budget.BudgetExceeded`` naming ``what``).

    Runs already saved under this group (a double click, a rerun) are neither charged
    again nor duplicated: the total checked is that of the runs still to save.
    """
    new = [
        NewRun(item.request, item.estimate.credits, item.estimate.exact, submit.group_key(group_id, n), item.parent_id)
        for n, item in enumerate(items)
    ]
    return db.create_runs(
        workspace_id,
        new,
        fingerprint=fingerprint,
        participant=participant,
        participant_id=participant_id,
        group_id=group_id,
        enforce_budget=True,
        what=what,
    )


def send_group(db: Store, client: EvolinkClient, runs: Iterable[Run], *, callback_url: str | None = None) -> list[Run]:
    """One POST per saved run (none for runs someone already sent); the runs as stored now."""
    return [submit.send(db, client, run, callback_url=callback_url) for run in runs]


# --- ratings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """One prompt on the leaderboard."""

    prompt: str
    average: float
    ratings: int
    runs: int
    participants: tuple[str, ...]
    best_run_id: str


def leaderboard(runs: Iterable[Run], *, limit: int | None = 10) -> list[Standing]:
    """Prompts ranked by the average rating of their rated runs (ties: more ratings first).

    The same prompt run with different settings counts as one entry, since it is the
    prompt a workshop is learning to write. Prompts nobody rated are left out. Who
    wrote a prompt follows the participant id: two people with the same name are two
    names, one person who renamed is one (their runs carry the current name).
    """
    by_prompt: dict[str, list[Run]] = {}
    for run in runs:
        by_prompt.setdefault(run.request.prompt.strip(), []).append(run)
    table = []
    for prompt, group in by_prompt.items():
        rated = [(r.rating, r) for r in group if r.rating is not None]
        if not rated:
            continue
        _, best = max(rated, key=lambda pair: (pair[0], pair[1].created_at))
        table.append(
            Standing(
                prompt=prompt,
                average=sum(rating for rating, _ in rated) / len(rated),
                ratings=len(rated),
                runs=len(group),
                participants=_names(group),
                best_run_id=best.id,
            )
        )
    table.sort(key=lambda s: (-s.average, -s.ratings, s.prompt))
    return table if limit is None else table[:limit]


def _names(runs: Iterable[Run]) -> tuple[str, ...]:
    """Each participant's name once per participant id (runs from before ids: once per name)."""
    by_who = {(r.participant_id or r.participant): r.participant for r in runs if r.participant}
    return tuple(sorted(by_who.values(), key=str.casefold))
