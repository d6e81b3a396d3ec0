"""Runs sent through ``lib.submit`` and followed by a time-compressed worker; the checks every scenario ends with.

The reliability suite replays provider-time scenarios quickly: the simulator runs
``speed`` times faster than the provider and ``scaled_worker`` compresses the worker's
schedule by the same factor (floor 1 s -> 1/speed s, ...).
"""

from __future__ import annotations

import httpx

from lib import archive, submit
from lib import worker as wk
from lib.client import EvolinkClient, key_fingerprint
from lib.schema import GenerationRequest
from lib.status import TERMINAL, RunStatus
from lib.store import Run, Store
from tests.support.waiting import wait_until

KEY = "sk-reliability-test-key"
FP = key_fingerprint(KEY)
MODEL = "seedance-2.0-fast-text-to-video"
CLEAR_ENDINGS = TERMINAL


def request(i: int, prefix: str = "Run", duration: int = 4) -> GenerationRequest:
    return GenerationRequest(
        model=MODEL,
        prompt=f"{prefix} {i}: a paper boat on a rainy street",
        duration=duration,
        quality="480p",
        aspect_ratio="16:9",
        generate_audio=False,
    )


def scaled_worker(
    store: Store, base_url: str, speed: float, *, key: str = KEY, transport: httpx.BaseTransport | None = None, **kw
) -> wk.Worker:
    """A worker whose schedule, rate limit and archive backoff run ``speed`` times faster, with ``key`` registered."""
    schedule = wk.Schedule().scaled(speed)
    kw.setdefault("max_rps", wk.DEFAULT_MAX_RPS * speed)
    kw.setdefault("archive_backoff", 2.0 / speed)
    kw.setdefault("allowed_hosts", ["127.0.0.1"])  # the simulator serves its videos from here
    w = wk.Worker(store, schedule=schedule, **kw)
    w.register_key(key, base_url, transport=transport)
    return w


def submit_runs(store: Store, ws_id: str, client: EvolinkClient, n: int, prefix: str, duration: int = 4) -> list[str]:
    """n runs through lib.submit, each "double clicked": prepared and sent twice with one submit key."""
    ids = []
    for i in range(n):
        req = request(i, prefix, duration)
        run = submit.prepare(store, ws_id, req, fingerprint=client.fingerprint, submit_key=f"{prefix}-{i}")
        again = submit.prepare(store, ws_id, req, fingerprint=client.fingerprint, submit_key=f"{prefix}-{i}")
        assert again.id == run.id
        submit.send(store, client, run)
        submit.send(store, client, again)  # the second click finds the run claimed: no POST
        ids.append(run.id)
    return ids


def wait_terminal(store: Store, run_ids: list[str], timeout: float = 120.0) -> None:
    """Until every run has ended (archived, failed, ...)."""

    def left() -> dict:
        return {i: store.get_run(i).status for i in run_ids if store.get_run(i).status not in TERMINAL}

    wait_until(lambda: not left(), timeout, message=lambda: f"runs still unfinished: {left()}")


def assert_clear_outcome(store: Store, engine, run_ids: list[str]) -> list[Run]:
    """Zero lost runs, zero duplicate tasks, a clear final status with code and message for each."""
    runs = [store.get_run(i) for i in run_ids]
    assert all(r is not None for r in runs), "a run disappeared from the store"
    for r in runs:
        assert r.status in CLEAR_ENDINGS, (r.id, r.status)
        if r.status == RunStatus.ARCHIVED:
            assert archive.media_path(store.data_dir, r.media_token) is not None, f"{r.id}: archived without a file"
        else:
            assert r.error_code and r.error_message, f"{r.id} ended {r.status} without code and message"
    task_ids = [r.task_id for r in runs if r.task_id]
    assert len(task_ids) == len(set(task_ids)), "two runs hold the same provider task"
    assert set(task_ids) <= set(engine.tasks), "a run holds a task the provider never created"
    # A provider task no run holds can only come from a POST whose answer was lost on the
    # wire; that run must say `unknown` (check the dashboard) and must not have been resent.
    orphans = len(engine.tasks) - len(task_ids)
    lost_answers = sum(1 for r in runs if r.status == RunStatus.UNKNOWN and r.task_id is None)
    assert 0 <= orphans <= lost_answers, f"{orphans} tasks no run holds, {lost_answers} runs with a lost answer"
    assert len(engine.tasks) <= len(runs), "more paid tasks than runs: a POST was repeated"
    tmp = store.data_dir / archive.TMP_DIR
    leftovers = list(tmp.glob("*")) if tmp.exists() else []
    assert not leftovers, f"partial downloads left behind: {leftovers}"
    return runs
