"""Runs that lost their way and how they are found again: a missing key, a paid task nobody holds.

- **A missing key.** A run made with a personal key pasted in a browser keeps only its
  key's fingerprint; after a restart no key in memory matches it, so the worker cannot
  follow it (``waiting_for_key``). It is a state, not a stall: the page asks for the
  key again (``lib.worker.Worker.register_key`` resumes it, callbacks included).
- **A paid task nobody holds.** When the app died between sending a POST and reading
  its answer, the run ended ``unknown`` with no task id, and the task the provider
  created cannot be found by the app. ``attach`` takes the id from the provider's
  dashboard: checked for shape, confirmed with one GET, saved only if no other run
  holds it; the worker then follows it like any other run.

Example:
    >>> clean_task_id("  task-unified-1761200000-ab12cd34\\n")
    'task-unified-1761200000-ab12cd34'
    >>> clean_task_id("../v1/credits")
    Traceback (most recent call last):
    ...
    lib.recovery.AttachRefused: That is not a task id: copy the id exactly as the provider's dashboard shows it.
"""

from __future__ import annotations

from lib import messages
from lib.client import ApiError, BadRequestError, EvolinkClient, NotFoundError, valid_task_id
from lib.i18n import t
from lib.status import POLLED, RunStatus
from lib.store import Run, Store, TaskTaken

MISSING_KEY = "This run was made with a personal key: paste it again to follow it"


class AttachRefused(ValueError):
    """The task id was not attached; the message says why in words for the screen."""


def waits_for_key(run: Run, has_key: bool) -> bool:
    """Is ``run`` one the worker would follow but cannot, because its key is not in memory?"""
    return run.status in POLLED and not has_key


def key_missing(run: Run) -> bool:
    """Is ``run`` waiting for its key in this process (whose worker, if running, holds the keys)?"""
    from lib import worker  # the worker's package imports the store; only this question needs it

    w = worker.current()
    return w is not None and waits_for_key(run, w.has_key(run.key_fingerprint))


def can_attach(run: Run) -> bool:
    """Does ``run`` offer "Attach the provider's task id"? (``unknown``, and no task of its own.)"""
    return run.status is RunStatus.UNKNOWN and not run.task_id


def clean_task_id(text: object) -> str:
    """A pasted task id without the spaces around it; ``AttachRefused`` unless it could be one."""
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise AttachRefused(t("Paste the task id from the provider's dashboard first."))
    if not valid_task_id(value) or any(c.isspace() for c in value):
        raise AttachRefused(t("That is not a task id: copy the id exactly as the provider's dashboard shows it."))
    return value


def attach(store: Store, client: EvolinkClient, run: Run, text: str) -> Run:
    """Attach the provider's task ``text`` to the ``unknown`` run, confirmed with one GET; the run as saved.

    ``client`` is the key that reads the task: the run follows that key from now on.
    Raises ``AttachRefused`` with a sentence for the screen; nothing is saved then.
    """
    if not can_attach(run):
        raise AttachRefused(t("Only a run whose outcome is unknown, and that has no task yet, can take a task id."))
    task_id = clean_task_id(text)
    taken = store.run_for_task(task_id)
    if taken is not None:
        raise AttachRefused(t("That task id already belongs to another run."))
    try:
        task = client.get_task(task_id)
    except NotFoundError:
        raise AttachRefused(
            t(
                "The provider does not know that task id (404). Check it in the dashboard, and that this is the key "
                "the run was made with."
            )
        ) from None
    except BadRequestError as exc:
        raise AttachRefused(
            t("The provider refused that task id: {message}", message=messages.show(exc.message))
        ) from None
    except ApiError as exc:
        raise AttachRefused(
            t("The task could not be checked right now, so nothing was saved. {hint}", hint=messages.show(exc.hint))
        ) from None
    if task.id != task_id:
        raise AttachRefused(t("The provider answered about a different task, so nothing was saved."))
    try:
        saved = store.attach_task(run.id, task, client.fingerprint)
    except TaskTaken as exc:
        raise AttachRefused(str(exc)) from None
    if saved is None or saved.task_id != task_id:
        raise AttachRefused("The run changed meanwhile, so nothing was saved. Reload the page.")
    return saved
