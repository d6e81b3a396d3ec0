"""Workshop rules: all-or-nothing budget checks and sending for a group of runs, and the prompt leaderboard.

A grid or a CSV batch is checked against the workspace budget and the participant's
cap as one total before anything is saved; then every run is saved, and only when
all of them fit is any of them sent. A group is never half-paid.

Example:
    >>> from lib.store import Store
    >>> db = Store("sqlite://")
    >>> ws = db.create_workspace("Workshop")
    >>> _ = db.set_budget(ws.id, 1000)
    >>> check_total(db, ws.id, 540.0, what="This grid")
    >>> try:
    ...     check_total(db, ws.id, 1200.0, what="This grid")
    ... except BudgetExceeded as exc:
    ...     str(exc)
    'This grid costs 1,200.00 credits; the workspace has 1,000.00 of 1,000.00 left.'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lib import pricing, submit
from lib.client import EvolinkClient
from lib.schema import GenerationRequest
from lib.store import SUBMITTING, BudgetExceeded, Run, Store

_EPSILON = 1e-9  # float sums of per-run estimates must not refuse an exact fit


def _n(credits: float) -> str:
    return pricing.format_credits(credits).removesuffix(" credits")


# --- budgets -------------------------------------------------------------------------------


def check_total(
    db: Store, workspace_id: str, credits: float, *, participant: str | None = None, what: str = "This batch"
) -> None:
    """Refuse (``BudgetExceeded``, with the numbers) a group whose total does not fit.

    The workspace budget is checked first, then the participant's cap (which, like
    ``Store.create_run``, applies only to runs that carry a participant name).
    """
    ws = db.get_workspace(getattr(workspace_id, "id", workspace_id))
    if ws is None:
        raise KeyError(f"no workspace {workspace_id!r}")
    if ws.budget_credits is not None:
        left = ws.budget_credits - db.committed_credits(ws.id)
        if credits > left + _EPSILON:
            raise BudgetExceeded(
                f"{what} costs {_n(credits)} credits; the workspace has {_n(max(left, 0))} "
                f"of {_n(ws.budget_credits)} left.",
                room=left,
            )
    if ws.per_participant_cap is not None and participant:
        left = ws.per_participant_cap - db.committed_credits(ws.id, participant)
        if credits > left + _EPSILON:
            raise BudgetExceeded(
                f"{what} costs {_n(credits)} credits; {participant} has {_n(max(left, 0))} "
                f"of a {_n(ws.per_participant_cap)} cap left.",
                room=left,
            )


# --- sending a group ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One run of a group: what to send, what it costs, and its label on screen."""

    request: GenerationRequest
    estimate: pricing.Estimate
    label: str = ""


def submit_key(group_id: str, index: int) -> str:
    """The submit key of item ``index`` of a group: a rerun of the same group inserts nothing new."""
    return f"{group_id}-{index}"


def prepare_group(
    db: Store,
    workspace_id: str,
    items: Sequence[Item],
    *,
    group_id: str,
    fingerprint: str,
    participant: str | None = None,
    what: str = "This batch",
) -> list[Run]:
    """Save every run of the group as ``submitting``, or none to send (raises ``BudgetExceeded``).

    Runs already saved under this group (a double click, a rerun) are neither charged
    again nor duplicated: the total checked is that of the runs still to save.
    """
    workspace_id = getattr(workspace_id, "id", workspace_id)
    saved = {r.submit_key for r in db.list_runs(workspace_id, group_id=group_id, limit=None)}
    new = sum(it.estimate.credits for n, it in enumerate(items) if submit_key(group_id, n) not in saved)
    if new > 0:
        check_total(db, workspace_id, new, participant=participant, what=what)
    prepared: list[Run] = []
    try:
        for n, item in enumerate(items):
            prepared.append(
                submit.prepare(
                    db,
                    workspace_id,
                    item.request,
                    fingerprint=fingerprint,
                    submit_key=submit_key(group_id, n),
                    estimate=item.estimate,
                    participant=participant,
                    group_id=group_id,
                )
            )
    except BudgetExceeded:
        # Someone else spent the room between the check and the inserts: send none of them.
        for run in prepared:
            if run.status == SUBMITTING and run.claimed_at is None:
                db.mark_submit_failed(
                    run.id,
                    "budget",
                    "Not sent: the budget ran out while this group was "
                    "being saved, so none of it was sent. Nothing was charged.",
                )
        check_total(db, workspace_id, new, participant=participant, what=what)  # the numbers as they are now
        raise
    return prepared


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
    prompt a workshop is learning to write. Prompts nobody rated are left out.
    """
    by_prompt: dict[str, list[Run]] = {}
    for run in runs:
        by_prompt.setdefault(run.request.prompt.strip(), []).append(run)
    table = []
    for prompt, group in by_prompt.items():
        rated = [r for r in group if r.rating is not None]
        if not rated:
            continue
        best = max(rated, key=lambda r: (r.rating, r.created_at))
        table.append(
            Standing(
                prompt=prompt,
                average=sum(r.rating for r in rated) / len(rated),
                ratings=len(rated),
                runs=len(group),
                participants=tuple(sorted({r.participant for r in group if r.participant})),
                best_run_id=best.id,
            )
        )
    table.sort(key=lambda s: (-s.average, -s.ratings, s.prompt))
    return table if limit is None else table[:limit]
