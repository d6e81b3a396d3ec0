"""Submitting runs: saved before the POST, exactly one POST per run, and an honest outcome.

The page calls ``prepare`` (validate the budget, persist the run as ``submitting``)
and then ``send`` (claim the run, POST once, record what came back). A rerun or a
double click reaches ``send`` again with the same run and finds it already claimed.

Example:
    >>> from lib.store import Store
    >>> from lib.schema import GenerationRequest
    >>> db = Store("sqlite://")
    >>> ws = db.create_workspace("Demo")
    >>> req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox")
    >>> run = prepare(db, ws.id, req, fingerprint="k_demo", submit_key="form-1")
    >>> prepare(db, ws.id, req, fingerprint="k_demo", submit_key="form-1").id == run.id
    True
"""

from __future__ import annotations

from lib import pricing
from lib.client import ApiError, EvolinkClient
from lib.schema import GenerationRequest
from lib.store import SUBMITTING, Run, Store


def prepare(
    db: Store,
    workspace_id: str,
    request: GenerationRequest,
    *,
    fingerprint: str,
    submit_key: str,
    estimate: pricing.Estimate | None = None,
    participant: str | None = None,
    parent_id: str | None = None,
    group_id: str | None = None,
) -> Run:
    """Persist the run as ``submitting`` (raises ``store.BudgetExceeded`` with the numbers)."""
    est = estimate or pricing.estimate(request)
    return db.create_run(
        workspace_id,
        request,
        est.credits,
        est.exact,
        fingerprint,
        participant=participant,
        parent_id=parent_id,
        group_id=group_id,
        submit_key=submit_key,
        enforce_budget=True,
    )


def send(db: Store, client: EvolinkClient, run: Run, *, callback_url: str | None = None) -> Run:
    """Send the one POST for ``run`` unless someone already did; return the run as stored now."""
    if run.status != SUBMITTING or not db.claim_submit(run.id):
        return db.get_run(run.id) or run
    request = run.request
    if callback_url and request.callback_url is None:
        request = request.model_copy(update={"callback_url": callback_url})
    try:
        task = client.create(request)
    except ApiError as exc:
        message = exc.hint or exc.message
        if exc.maybe_created:
            # The provider may have created (and will bill) it: never send it again by ourselves.
            db.mark_unknown(run.id, exc.code, f"{message} Check the provider dashboard before retrying.")
        else:
            db.mark_submit_failed(run.id, exc.code, message if not exc.message else f"{message} ({exc.message})")
    else:
        db.mark_submitted(run.id, task)
    return db.get_run(run.id) or run
