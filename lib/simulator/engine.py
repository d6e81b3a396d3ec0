"""The simulator's state and rules: task lifecycle over time, rendering jobs, billing and the balance.

Nothing here knows about HTTP. A task's status is computed from its creation time and
its schedule each time it is read, so polling order and frequency never matter; it only
reaches ``completed`` once the schedule has run out *and* its video file is rendered.

Like the real service, a task need not finish when its ``estimated_time`` says:
``duration_noise`` (e.g. 0.3) stretches or shrinks each task's schedule by a random share
up to ±30 % (seeded), while the estimate it reports stays the typical time. Its progress
follows one of ``PROGRESS_MODELS``: ``linear`` (rises steadily to 99), ``stepwise`` (0,
then 50 from halfway, then 100) or ``none`` (0 until done).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import random
import re
import secrets
import string
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lib import catalog, pricing
from lib.schema import GenerationRequest, TaskState
from lib.settings import DEFAULT_DEMO_SPEED
from lib.simulator.queue import RenderQueue
from lib.simulator.render import RenderJob, render

DEFAULT_LINK_TTL = 24 * 3600
DEFAULT_BALANCE = 10_000.0

# Failed-task error codes the provider documents (facts file), each with the kind of
# text a user sees.
TASK_ERRORS: dict[str, str] = {
    "content_policy_violation": (
        "Content policy violation. Your request was blocked by safety filters; rephrase the prompt and try again."
    ),
    "invalid_parameters": "Invalid parameters. Check the model, duration, quality and aspect ratio and try again.",
    "image_processing_error": "An input image could not be processed. Use a JPEG, PNG or WebP under 30 MB.",
    "image_dimension_mismatch": (
        "The first and last frame images have different dimensions. Use images of the same size."
    ),
    "request_cancelled": "The request was cancelled before the video was generated.",
    "generation_failed_no_content": "Generation finished without producing a video. Try again or adjust the prompt.",
    "service_error": "The generation service hit an internal error. Please try again later.",
    "generation_timeout": "Generation took too long and was stopped. Try again, perhaps with a shorter duration.",
    "resource_exhausted": "The service is out of capacity right now. Please try again in a few minutes.",
    "quota_exceeded": "Your quota is used up. Top up your account to continue.",
    "service_unavailable": "The service is temporarily unavailable. Please try again later.",
    "resource_not_found": "A resource the request refers to could not be found.",
    "unknown_error": "An unknown error occurred. Please try again later.",
}

FAIL_TRIGGER = re.compile(r"\[fail:([A-Za-z_]+)\]")
TASK_ID_PREFIX = "task-unified-"
_ID_CHARS = string.ascii_lowercase + string.digits

# Typical generation time per output second, unscaled (facts: 4-5 s at 480p 20-45 s;
# 5-8 s at 720p 30-90 s; 10-15 s at 720p 60-180 s; 1080p "longer").
_SECONDS_PER_OUTPUT_SECOND = {"480p": 7.0, "720p": 10.0, "1080p": 16.0}
PENDING_SHARE = 0.1  # first tenth of the schedule: queued
PROGRESS_MODELS = ("linear", "stepwise", "none")  # how a task's reported progress moves (module docstring)

_ADAPTIVE_WORDS = (
    ("9:16", ("vertical", "portrait", "竖屏", "竖版", "tiktok", "reels")),
    ("1:1", ("square", "方形", "正方形")),
)


class RequestRejected(Exception):
    """A create request the API answers with an HTTP error (``status``, ``code``, ``message``, ``param``)."""

    def __init__(self, status: int, code: str, message: str, type_: str, param: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.type, self.param = status, code, message, type_, param


def new_task_id(now: float) -> str:
    """``task-unified-<unix time>-<8 chars [a-z0-9]>``, like the provider's."""
    return f"{TASK_ID_PREFIX}{int(now)}-{''.join(secrets.choice(_ID_CHARS) for _ in range(8))}"


def adaptive_ratio(prompt: str) -> str:
    """What "adaptive" resolves to: a portrait or square prompt gets that shape, anything else 16:9."""
    text = prompt.lower()
    for ratio, words in _ADAPTIVE_WORDS:
        if any(w in text for w in words):
            return ratio
    return "16:9"


def base_seconds(duration: int, quality: str) -> float:
    """Unscaled generation time for a run, within the facts' typical ranges."""
    return duration * _SECONDS_PER_OUTPUT_SECOND.get(quality, 10.0)


def reserved_credits(request: GenerationRequest) -> float:
    """What a task reserves: the app's own estimate (``lib.pricing``), so the demo bills as the cost card says."""
    return round(pricing.estimate(request).credits, 4)


def fail_code(prompt: str) -> str | None:
    """The task error code requested by a ``[fail:<code>]`` trigger, validated against the documented list."""
    match = FAIL_TRIGGER.search(prompt)
    if not match:
        return None
    code = match.group(1)
    if code not in TASK_ERRORS:
        raise RequestRejected(
            400,
            "invalid_request",
            f"Prompt: [fail:{code}] is not a task error code; use one of {', '.join(TASK_ERRORS)}.",
            "invalid_request_error",
            "prompt",
        )
    return code


@contextmanager
def _bare_main() -> Iterator[None]:
    """Hide the host's ``__main__`` while render processes may be spawned.

    A spawned process re-imports its parent's ``__main__``. Under Streamlit that is
    the page script being run, which would then execute (headless, and calling the
    API) in every render process.
    """
    placeholder = types.ModuleType("__main__")
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = placeholder
    try:
        yield
    finally:
        if sys.modules.get("__main__") is placeholder:  # a script run may have installed its own since
            if saved is None:
                del sys.modules["__main__"]
            else:
                sys.modules["__main__"] = saved


def _render_context() -> multiprocessing.context.BaseContext:
    """Where render processes come from: a fork server that has imported the renderer once.

    Never a fork of the server itself, which runs threads. The fork server is started
    once per process (PyAV and NumPy imported there once); each render pool after the
    first, like the one a broken pool is replaced by, then starts in milliseconds
    instead of importing them again.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([render.__module__])
    return ctx


@dataclass
class SimTask:
    """One task as the simulator keeps it: in memory, and as a small JSON record in its data dir
    so that a restarted server (the demo's, mounted in the app) still knows its tasks."""

    id: str
    created: float
    model: str
    duration: int
    schedule: float  # seconds from creation to the end of processing
    estimated_time: int
    credits: float
    fail_code: str | None = None
    file_token: str | None = None
    render: cf.Future | None = None
    rendered_at: float | None = None
    billed: bool = False
    payload: dict | None = None  # the request body, to render again after a restart
    progress_model: str = "linear"  # one of PROGRESS_MODELS

    _SAVED = (
        "id",
        "created",
        "model",
        "duration",
        "schedule",
        "estimated_time",
        "credits",
        "fail_code",
        "file_token",
        "rendered_at",
        "billed",
        "payload",
        "progress_model",
    )

    def record(self) -> dict:
        return {name: getattr(self, name) for name in self._SAVED}

    def phase(self, now: float) -> tuple[TaskState, int]:
        """(status, progress) at ``now``: pending, then processing, then completed/failed."""
        elapsed = now - self.created
        if elapsed < self.schedule * PENDING_SHARE:
            return TaskState.PENDING, 0
        if elapsed < self.schedule:
            share = (elapsed - self.schedule * PENDING_SHARE) / (self.schedule * (1 - PENDING_SHARE))
            return TaskState.PROCESSING, self.progress_at(share)
        if self.fail_code:
            return TaskState.FAILED, 100
        if self.render is None or not self.render.done():
            return TaskState.PROCESSING, self.progress_at(1.0)  # schedule ran out but the renderer is behind
        if self.render.cancelled() or self.render.exception() is not None:
            return TaskState.FAILED, 100  # the renderer crashed or was shut down: service_error
        return TaskState.COMPLETED, 100

    def progress_at(self, share: float) -> int:
        """The progress reported with ``share`` (0-1) of the processing time gone, by ``progress_model``."""
        if self.progress_model == "none":
            return 0
        if self.progress_model == "stepwise":
            return 0 if share < 0.5 else 50
        return max(1, min(99, int(share * 100)))

    @property
    def error_code(self) -> str:
        return self.fail_code or "service_error"

    def completed_at(self) -> float:
        """When the result link was "signed": the later of the schedule's end and the file being ready."""
        return max(self.created + self.schedule, self.rendered_at or 0.0)


@dataclass
class Ledger:
    """The account: a starting balance, credits used by completed tasks."""

    balance: float
    used: float = 0.0

    @property
    def remaining(self) -> float:
        return round(self.balance - self.used, 4)


@dataclass
class Engine:
    """Tasks, the render pool and the ledger behind one simulator app."""

    speed: float = DEFAULT_DEMO_SPEED
    data_dir: Path | None = None  # None: a temporary directory, removed by cleanup()
    link_ttl: float = DEFAULT_LINK_TTL
    balance: float = DEFAULT_BALANCE
    render_workers: int = 1
    queue_limit: int | None = None  # renders waiting or running at once (None: lib.simulator.queue's default)
    clock: Callable[[], float] = time.time
    # Task timing: each schedule is the typical time × (1 ± up to duration_noise), drawn
    # from a generator seeded with `seed`; `progress` is the model of tasks created from
    # now on (a benchmark may change it between tasks).
    duration_noise: float = 0.0
    progress: str = "linear"
    seed: int | None = None
    # Whether the provider could download a media link (None: every link is taken on trust).
    # The app's demo passes a check of its own uploads, read from its data dir directly.
    media_check: Callable[[str], bool] | None = None
    tasks: dict[str, SimTask] = field(default_factory=dict)
    files: dict[str, SimTask] = field(default_factory=dict)  # file token -> task

    def __post_init__(self) -> None:
        if not self.speed or self.speed <= 0:
            raise ValueError("speed must be a positive number")
        if not 0 <= self.duration_noise < 1:
            raise ValueError("duration_noise must be at least 0 and below 1 (0.3: ±30 %)")
        if self.progress not in PROGRESS_MODELS:
            raise ValueError(f"progress must be one of {', '.join(PROGRESS_MODELS)}")
        self._noise = random.Random(self.seed)
        self._tmp: tempfile.TemporaryDirectory | None = None
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="seedance-sim-")
            self.root = Path(self._tmp.name)
        else:
            self.root = Path(self.data_dir)
        self.data_dir = self.root
        self.root.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(float(self.balance))
        self.renders = RenderQueue(self._submit, workers=self.render_workers, limit=self.queue_limit)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._restored = False

    # --- persistence -----------------------------------------------------------------------

    @property
    def _records(self) -> Path:
        return self.root / "tasks"

    def _save(self, task: SimTask) -> None:
        # Named by a hash of our own id, written whole then renamed: never half a record.
        self._records.mkdir(parents=True, exist_ok=True)
        path = self._records / f"{hashlib.sha256(task.id.encode()).hexdigest()[:32]}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(task.record()))
        os.replace(tmp, path)

    def restore(self) -> int:
        """Load the tasks an earlier process left in the data dir; render what it had not finished.

        Called lazily on first use (like the render pool), so merely importing or mounting
        the simulator starts nothing. The balance starts fresh with each process: what
        earlier ones billed is not charged again. Returns how many tasks were restored.
        """
        with self._lock:
            if self._restored:
                return 0
            self._restored = True
        count = 0
        for path in sorted(self._records.glob("*.json")) if self._records.is_dir() else ():
            try:
                data = json.loads(path.read_text())
                task = SimTask(**{k: data.get(k) for k in SimTask._SAVED if k in data})
            except (OSError, ValueError, TypeError):
                continue  # a damaged record is one lost demo task, not a crashed server
            self.tasks[task.id] = task
            if task.file_token:
                self.files[task.file_token] = task
                if self.file_path(task.file_token).is_file():
                    done: cf.Future = cf.Future()
                    done.set_result(None)
                    task.render = done
                    task.rendered_at = task.rendered_at or self.file_path(task.file_token).stat().st_mtime
                elif task.payload is not None:
                    self._render(task, GenerationRequest.from_payload(task.payload), task.file_token)
            count += 1
        return count

    # --- the render pool ---------------------------------------------------------------

    def _executor(self) -> cf.ProcessPoolExecutor:
        # Started lazily: when mounted inside another app, our lifespan may never run.
        with self._lock:
            if self._pool is None:
                ctx = _render_context()
                self._pool = cf.ProcessPoolExecutor(max_workers=self.render_workers, mp_context=ctx)
            return self._pool

    def _submit(self, fn: Callable, job: RenderJob) -> cf.Future:
        """One render to the pool (the render queue calls this when a process is free)."""
        try:
            with _bare_main():
                return self._executor().submit(fn, job)
        except Exception:  # a broken or shut-down pool: this render fails, the next one gets a fresh pool
            with self._lock:
                pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        """Stop the render pool (pending renders are cancelled). Safe to call twice."""
        self.renders.cancel_all()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def cleanup(self) -> None:
        """close(), and remove the data directory if the engine made it."""
        self.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- tasks -------------------------------------------------------------------------

    def create(self, request: GenerationRequest, workspace: str = "") -> SimTask:
        """A new task; ``workspace`` is whose render queue it joins (``QueueFull`` when that is full)."""
        self.restore()
        code = fail_code(request.prompt) or self._unreachable_media(request)
        credits = reserved_credits(request)
        if credits > self.ledger.remaining - self._outstanding():
            raise RequestRejected(
                402, "insufficient_quota", "Insufficient quota. Please top up your account.", "insufficient_quota"
            )
        if code is None:
            self.renders.check(workspace)  # before anything is created or reserved
        now = self.clock()
        duration = request.effective("duration")
        quality = request.effective("quality")
        typical = base_seconds(duration, quality) / self.speed
        if self.progress not in PROGRESS_MODELS:
            raise ValueError(f"progress must be one of {', '.join(PROGRESS_MODELS)}")
        task = SimTask(
            id=new_task_id(now),
            created=now,
            model=request.model,
            duration=duration,
            schedule=typical * self._stretch(),
            estimated_time=max(1, round(typical)),
            credits=credits,
            fail_code=code,
            payload=request.to_payload(),
            progress_model=self.progress,
        )
        if code is None:
            self._start_render(task, request, workspace)
        self.tasks[task.id] = task
        self._save(task)
        return task

    def _unreachable_media(self, request: GenerationRequest) -> str | None:
        """The provider fails a task whose input it cannot download: so does the simulator, for links it can check."""
        if self.media_check is None:
            return None
        for media in catalog.MEDIA.values():
            for url in getattr(request, media.field) or ():
                if not self.media_check(url):
                    return "resource_not_found"
        return None

    def _stretch(self) -> float:
        """How much longer (or shorter) than its estimate the next task takes: 1 ± up to ``duration_noise``."""
        if not self.duration_noise:
            return 1.0
        with self._lock:
            return 1.0 + self._noise.uniform(-self.duration_noise, self.duration_noise)

    def _start_render(self, task: SimTask, request: GenerationRequest, workspace: str = "") -> None:
        # A random token names the file: task ids never become file names.
        token = task.file_token = secrets.token_hex(16)
        self.files[token] = task
        self._render(task, request, token, workspace)

    def _render(self, task: SimTask, request: GenerationRequest, token: str, workspace: str = "") -> None:
        ratio = request.effective("aspect_ratio")
        if ratio == "adaptive":
            ratio = adaptive_ratio(request.prompt)
        quality = request.effective("quality")
        width, height = catalog.PIXELS[ratio][quality]
        job = RenderJob(
            path=str(self.file_path(token)),
            width=width,
            height=height,
            duration=task.duration,
            audio=bool(request.effective("generate_audio")),
            prompt=request.prompt,
            model=request.model,
            quality=quality,
            aspect_ratio=ratio if request.effective("aspect_ratio") != "adaptive" else f"adaptive → {ratio}",
            label=task.id,
        )
        # Already admitted (``create`` checked the queue; a restored task is owed its video).
        future = self.renders.submit(render, job, workspace=workspace, force=True)

        def rendered(_: cf.Future) -> None:
            task.rendered_at = self.clock()

        task.render = future
        future.add_done_callback(rendered)

    def file_path(self, token: str) -> Path:
        return self.root / f"{token}.mp4"

    def status(self, task: SimTask) -> tuple[TaskState, int]:
        """The task's (status, progress) now; a completion is billed the first time it is seen."""
        status, progress = task.phase(self.clock())
        if status is TaskState.COMPLETED and not task.billed:
            task.billed = True
            self.ledger.used = round(self.ledger.used + task.credits, 4)
            self._save(task)
        return status, progress

    def settle(self) -> None:
        """Bill every task that has completed by now (before reporting the balance)."""
        self.restore()
        for task in list(self.tasks.values()):
            self.status(task)

    def _outstanding(self) -> float:
        # Credits reserved by tasks still running: a new task must fit beside them.
        now = self.clock()
        return sum(t.credits for t in self.tasks.values() if not t.billed and not t.phase(now)[0].terminal)

    def link_expired(self, task: SimTask) -> bool:
        return self.clock() > task.completed_at() + self.link_ttl
