"""Submitting runs: one key per deliberate submission, saved before the POST, one POST per run, an honest outcome.

The page derives the run's submit key (``form_key``: a double click, or a click
queued behind a slow POST, gets the same key again), then calls ``prepare`` (check
the budget and persist the run as ``submitting`` in one transaction) and ``send``
(claim the run, POST once, record what came back). A rerun or a double click
reaches ``prepare`` with the same key and gets the same run, which ``send`` finds
already claimed.

Example:
    >>> from lib.store import Store
    >>> from lib.schema import GenerationRequest
    >>> db = Store("sqlite://")
    >>> ws = db.create_workspace("Demo")
    >>> req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox")
    >>> state = {}
    >>> key = form_key(req, state, now=100.0)
    >>> form_key(req, state, now=100.4) == key  # the second click of a double click
    True
    >>> run = prepare(db, ws.id, req, fingerprint="k_demo", submit_key=key)
    >>> prepare(db, ws.id, req, fingerprint="k_demo", submit_key=key).id == run.id
    True
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import MutableMapping
from typing import Any

from lib import pricing
from lib.client import ApiError, EvolinkClient
from lib.messages import join, say
from lib.schema import GenerationRequest
from lib.status import RunStatus
from lib.store import Run, Store

DOUBLE_CLICK_WINDOW = 5.0  # seconds: the same request again this soon after its answer is the same submission


# --- submit keys ----------------------------------------------------------------------------


def payload_digest(request: GenerationRequest) -> str:
    """A short digest of exactly what would be sent."""
    return hashlib.sha256(json.dumps(request.to_payload(), sort_keys=True).encode()).hexdigest()[:16]


def form_key(
    request: GenerationRequest, state: MutableMapping[str, Any], *, now: float, window: float | None = None
) -> str:
    """The submit key of one click on the form; ``state`` is where a session remembers its last submission.

    The same request again is the same submission while its POST is under way (a
    click queued behind a slow POST) or within ``window`` seconds of its answer
    (``answered``; ``window`` defaults to ``DOUBLE_CLICK_WINDOW``); anything else is a
    new submission with a new key.
    """
    window = DOUBLE_CLICK_WINDOW if window is None else window
    digest = payload_digest(request)
    if state.get("digest") == digest and (state.get("sending") or now - state.get("at", now) < window):
        return state["key"]
    key = f"{digest}-{secrets.token_hex(8)}"
    state.clear()
    state.update(digest=digest, key=key, at=now, sending=True)
    return key


def answered(state: MutableMapping[str, Any], key: str, *, now: float) -> None:
    """The POST for ``key`` has its answer (or was refused): the double-click window starts now."""
    if state.get("key") == key:
        state.update(at=now, sending=False)


def group_key(group_id: str, index: int) -> str:
    """The submit key of item ``index`` of a grid or batch: a rerun of the same group inserts nothing new."""
    return f"{group_id}-{index}"


def retry_key(run_id: str) -> str:
    """The submit key of "Retry" on a run that was not submitted: a double click is one retry."""
    return f"retry-{run_id}"


# --- one run --------------------------------------------------------------------------------


def prepare(
    db: Store,
    workspace_id: str,
    request: GenerationRequest,
    *,
    fingerprint: str,
    submit_key: str,
    estimate: pricing.Estimate | None = None,
    participant: str | None = None,
    participant_id: str | None = None,
    parent_id: str | None = None,
) -> Run:
    """Persist the run as ``submitting`` (raises ``lib.budget.BudgetExceeded`` with the numbers).

    ``participant`` is the name the run shows; ``participant_id`` whose cap it counts against.
    """
    est = estimate or pricing.estimate(request)
    return db.create_run(
        workspace_id,
        request,
        est.credits,
        est.exact,
        fingerprint,
        participant=participant,
        participant_id=participant_id,
        parent_id=parent_id,
        submit_key=submit_key,
        enforce_budget=True,
    )


def send(db: Store, client: EvolinkClient, run: Run, *, callback_url: str | None = None) -> Run:
    """Send the one POST for ``run`` unless someone already did; return the run as stored now."""
    if run.status is not RunStatus.SUBMITTING or not db.claim_submit(run.id):
        return db.get_run(run.id) or run
    request = run.request
    if callback_url and request.callback_url is None:
        request = request.model_copy(update={"callback_url": callback_url})
    try:
        task = client.create(request)
    except ApiError as exc:
        # The client's hint is the app's sentence (lib.messages); what the API said follows it in brackets.
        if exc.maybe_created:
            # The provider may have created (and will bill) it: never send it again by ourselves.
            db.mark_unknown(run.id, exc.code, join(exc.hint, say("check_account")))
        else:
            detail = say("detail", detail=exc.message) if exc.message else ""
            db.mark_submit_failed(run.id, exc.code, join(exc.hint, detail))
    else:
        db.mark_submitted(run.id, task)
    return db.get_run(run.id) or run
