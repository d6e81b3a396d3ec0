"""The simulator's HTTP face: a Starlette app answering like the documented Evolink API, with injectable faults.

Routes (relative to wherever the app is mounted):
    POST /v1/videos/generations   create a task (400/401/402 like the provider)
    GET  /v1/tasks/{task_id}      task status (400 invalid_task_id, 404 task_not_found)
    GET  /v1/credits              the balance
    GET  /files/{token}.mp4       a result video (Range requests; 403 once the link expired)

Expired links answer 403 with an S3-style XML body ("Request has expired"), like the
signed storage URLs the real API hands out.

Who may call it: made with ``api_key`` (the app's embedded demo passes its per-process
``lib.demo.key()``), only that bearer token is accepted and anyone else gets 401. Made
without one (``python -m lib.simulator``, tests), any well-formed token works: that
simulator is for experiments on 127.0.0.1. Renders queue per workspace (named by the
``lib.demo.WORKSPACE_HEADER`` header); a full queue answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass
from email.utils import formatdate
from pathlib import Path

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from lib import demo
from lib.schema import GenerationRequest, TaskState, error_messages
from lib.settings import API_PREFIX, CREATE_PATH, CREDITS_PATH, TASK_PREFIX, load_settings
from lib.simulator.engine import (
    DEFAULT_BALANCE,
    DEFAULT_LINK_TTL,
    PROGRESS_MODELS,
    TASK_ERRORS,
    TASK_ID_PREFIX,
    Engine,
    RequestRejected,
    SimTask,
)
from lib.simulator.queue import QueueFull, default_workers

MAX_BODY_BYTES = 64 * 1024 * 1024  # the provider's request body limit
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=:-]{1,512}$")  # any sane bearer token, unless the app has its own key
WORKSPACE_MAX = 64  # characters of the workspace header kept


@dataclass(frozen=True)
class Faults:
    """Fault injection for rehearsals and tests; each rate is a probability per /v1 request.

    Checked in this order: ``drop_rate`` (the handler runs, so a POST may create a task,
    then the connection is closed without a response), ``rate_429`` (429 with
    ``Retry-After: retry_after``), ``rate_500`` (500 before the handler: nothing
    happens), ``slow_rate`` (the answer is delayed by ``slow_seconds``).
    """

    rate_429: float = 0.0
    retry_after: int = 2
    rate_500: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 3.0
    drop_rate: float = 0.0
    seed: int | None = None

    @property
    def any(self) -> bool:
        return any((self.rate_429, self.rate_500, self.slow_rate, self.drop_rate))


def error(status: int, code: str, message: str, type_: str, param: str | None = None, headers=None) -> JSONResponse:
    """The provider's error body: ``{"error": {"code", "message", "type"[, "param"]}}``."""
    body = {"code": code, "message": message, "type": type_}
    if param:
        body["param"] = param
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class SimulatorApp(Starlette):
    """A Starlette app with the simulator's ``engine``, ``faults``, ``stats`` and ``close()``.

    Faults are applied here, outside Starlette's own middleware, so that a dropped
    connection can reach the server's transport when the app is served directly.
    """

    engine: Engine
    faults: Faults

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not _api_path(scope):
            return await super().__call__(scope, receive, send)
        self.state.stats[f"{scope['method']} {_route_key(scope)}"] += 1
        fault = self._draw_fault()
        if fault == "drop":
            return await self._drop(scope, receive, send)
        if fault in ("429", "500"):
            self.state.stats[f"fault {fault}"] += 1
            return await self._fault_response(fault, scope)(scope, receive, send)
        if fault == "slow":
            self.state.stats["fault slow"] += 1
            await asyncio.sleep(self.faults.slow_seconds)
        await super().__call__(scope, receive, send)

    def _draw_fault(self) -> str | None:
        if not self.faults.any:
            return None
        rng = self.state.rng
        # One draw per kind, always in the same order, so a seed replays the same sequence.
        draws = {kind: rng.random() for kind in ("drop", "429", "500", "slow")}
        rates = {
            "drop": self.faults.drop_rate,
            "429": self.faults.rate_429,
            "500": self.faults.rate_500,
            "slow": self.faults.slow_rate,
        }
        return next((kind for kind in draws if draws[kind] < rates[kind]), None)

    def _fault_response(self, fault: str, scope) -> Response:
        if fault == "429":
            type_ = "evo_api_error" if "/tasks/" in scope["path"] else "rate_limit_error"
            return error(
                429,
                "rate_limit_exceeded",
                "Too many requests, please try again later",
                type_,
                headers={"Retry-After": str(self.faults.retry_after)},
            )
        return error(500, "internal_error", "Internal server error", "api_error")

    async def _drop(self, scope, receive, send) -> None:
        """Run the request, lose the answer, close the connection."""
        self.state.stats["fault drop"] += 1

        async def swallow(message) -> None:
            return None

        await super().__call__(scope, receive, swallow)
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is not None:
            # Served directly by uvicorn: close the socket; wait for uvicorn to notice, so it
            # neither logs "returned without starting response" nor writes a 500.
            transport.close()
            with contextlib.suppress(Exception):
                while (await asyncio.wait_for(receive(), 5))["type"] != "http.disconnect":
                    pass
            return
        # Mounted behind other ASGI layers: headers go out, then an exception makes the
        # server abort the connection mid-response; clients see a protocol error too.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("simulated dropped connection")

    def close(self) -> None:
        """Stop the render pool. Call it when mounting the app elsewhere and shutting down."""
        self.engine.close()


# Where a finished task's video is served (its token is random: task ids never name files).
FILE_PATH = "/files/{token:str}.mp4"


def _api_path(scope) -> bool:
    return _local_path(scope).startswith(API_PREFIX)


def _local_path(scope) -> str:
    # When mounted, scope["path"] still holds the full path; strip the mount prefix.
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _route_key(scope) -> str:
    path = _local_path(scope)
    return TASK_PREFIX + "{task_id}" if path.startswith(TASK_PREFIX) else path


# --- helpers for handlers ------------------------------------------------------------------


def _authorized(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN.match(token):
        return False
    key = getattr(request.app.state, "api_key", None)
    return key is None or hmac.compare_digest(token.encode(), key.encode())


def _workspace(request: Request) -> str:
    """Whose render queue a create joins: the app's demo clients name their workspace."""
    return request.headers.get(demo.WORKSPACE_HEADER, "")[:WORKSPACE_MAX]


def _unauthorized() -> JSONResponse:
    return error(401, "unauthorized", "Invalid or expired token", "authentication_error")


def _engine(request: Request) -> Engine:
    engine = request.app.engine if isinstance(request.app, SimulatorApp) else request.app.state.engine
    engine.restore()  # once: tasks a previous process left in the data dir
    return engine


def _base_url(request: Request) -> str:
    """The app's own absolute URL root, mount prefix included (e.g. http://host:8501/sim)."""
    root = request.scope.get("root_path", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return origin + root.rstrip("/")


def task_json(engine: Engine, task: SimTask, request: Request, *, fresh: bool = False) -> dict:
    """A task as ``GET /v1/tasks/{id}`` shows it; ``fresh`` for the create response (always pending)."""
    status, progress = (TaskState.PENDING, 0) if fresh else engine.status(task)
    body = {
        "created": int(task.created),
        "id": task.id,
        "model": task.model,
        "object": "video.generation.task",
        "progress": progress,
        "status": str(status),
        "task_info": {
            "can_cancel": not status.terminal,
            "estimated_time": task.estimated_time,
            "video_duration": task.duration,
        },
        "type": "video",
        "usage": {"billing_rule": "per_second", "credits_reserved": task.credits, "user_group": "default"},
    }
    if status is TaskState.COMPLETED:
        body["results"] = [_base_url(request) + FILE_PATH.replace("{token:str}", str(task.file_token))]
    elif status is TaskState.FAILED:
        body["error"] = {"code": task.error_code, "message": TASK_ERRORS[task.error_code], "type": "task_error"}
    return body


# --- handlers ------------------------------------------------------------------------------


async def create_task(request: Request) -> Response:
    if not _authorized(request):
        return _unauthorized()
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        return error(413, "request_too_large", "The request body is larger than 64 MB.", "invalid_request_error")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "invalid_request", "The request body must be valid JSON.", "invalid_request_error")
    try:
        gen = GenerationRequest.from_payload(body)
    except ValidationError as exc:  # also a body that is not an object, or unknown model_params
        field, message = next(iter(error_messages(exc).items()))
        return error(400, "invalid_request", message, "invalid_request_error", field)
    engine = _engine(request)
    try:
        task = engine.create(gen, workspace=_workspace(request))
    except QueueFull as exc:
        request.app.state.stats["queue full"] += 1
        return error(exc.status, exc.code, exc.message, exc.type, headers={"Retry-After": str(exc.retry_after)})
    except RequestRejected as exc:
        return error(exc.status, exc.code, exc.message, exc.type, exc.param)
    return JSONResponse(task_json(engine, task, request, fresh=True))


async def get_task(request: Request) -> Response:
    if not _authorized(request):
        return _unauthorized()
    task_id = request.path_params["task_id"]
    if not task_id.startswith(TASK_ID_PREFIX):
        return error(
            400,
            "invalid_task_id",
            "Invalid task ID format, must start with 'task-unified-'",
            "invalid_request_error",
            "task_id",
        )
    engine = _engine(request)
    task = engine.tasks.get(task_id)
    if task is None:
        return error(404, "task_not_found", "The requested task could not be found", "invalid_request_error", "task_id")
    return JSONResponse(task_json(engine, task, request))


async def get_credits(request: Request) -> Response:
    if not _authorized(request):
        return _unauthorized()
    engine = _engine(request)
    engine.settle()
    amounts = {"remaining_credits": engine.ledger.remaining, "used_credits": engine.ledger.used}
    return JSONResponse(
        {
            "data": {"token": {**amounts, "unlimited_credits": False}, "user": dict(amounts)},
            "message": "",
            "success": True,
        }
    )


def _expired(engine: Engine, task: SimTask) -> Response:
    now = engine.clock()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        "<Message>Request has expired</Message>"
        f"<Expires>{formatdate(task.completed_at() + engine.link_ttl, usegmt=True)}</Expires>"
        f"<ServerTime>{formatdate(now, usegmt=True)}</ServerTime></Error>"
    )
    return Response(body, status_code=403, media_type="application/xml")


async def get_file(request: Request) -> Response:
    engine = _engine(request)
    token = request.path_params["token"]
    task = engine.files.get(token)
    # Only a completed task's file exists for the outside world, as with the real storage.
    if task is None or engine.status(task)[0] is not TaskState.COMPLETED:
        return Response("Not Found", status_code=404, media_type="text/plain")
    if engine.link_expired(task):
        return _expired(engine, task)
    path: Path = engine.file_path(token)
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})


# --- the factory ---------------------------------------------------------------------------


def create_app(
    speed: float | None = None,
    data_dir: str | Path | None = None,
    link_ttl: float = DEFAULT_LINK_TTL,
    balance: float = DEFAULT_BALANCE,
    *,
    rate_429: float = 0.0,
    retry_after: int = 2,
    rate_500: float = 0.0,
    slow_rate: float = 0.0,
    slow_seconds: float = 3.0,
    drop_rate: float = 0.0,
    seed: int | None = None,
    render_workers: int | None = None,
    queue_limit: int | None = None,
    api_key: str | None = None,
    duration_noise: float = 0.0,
    progress: str = PROGRESS_MODELS[0],
    clock=None,
    media_check=None,
) -> SimulatorApp:
    """A fresh simulator (its own tasks, balance and files). ``speed`` None: the settings' demo speed.

    ``api_key``: the only bearer token accepted (None: any). ``render_workers`` None: sized
    to the machine; ``queue_limit`` None: ``lib.simulator.queue``'s default for that size.
    ``duration_noise`` (0.3: each task takes its estimate ±30 %) and ``progress`` (one of
    ``PROGRESS_MODELS``) set the task timing; ``seed`` seeds the fault dice and the noise.
    ``media_check(url)`` says whether the provider could download a media link; a task
    with one it could not fails with ``resource_not_found`` (None: links are not checked).
    """
    engine_args = {"clock": clock} if clock is not None else {}
    workers = default_workers() if render_workers is None else max(1, min(os.cpu_count() or 1, int(render_workers)))
    engine = Engine(
        speed=load_settings().demo_speed if speed is None else float(speed),
        data_dir=Path(data_dir) if data_dir is not None else None,
        link_ttl=float(link_ttl),
        balance=float(balance),
        render_workers=workers,
        queue_limit=queue_limit,
        duration_noise=float(duration_noise),
        progress=progress,
        seed=seed,
        media_check=media_check,
        **engine_args,
    )
    faults = Faults(rate_429, int(retry_after), rate_500, slow_rate, float(slow_seconds), drop_rate, seed)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        engine.close()

    app = SimulatorApp(
        routes=[
            Route(CREATE_PATH, create_task, methods=["POST"]),
            Route(TASK_PREFIX + "{task_id:path}", get_task, methods=["GET"]),
            Route(CREDITS_PATH, get_credits, methods=["GET"]),
            Route(FILE_PATH, get_file, methods=["GET", "HEAD"], name="sim_file"),
        ],
        lifespan=lifespan,
    )
    app.engine = engine
    app.faults = faults
    app.state.engine = engine
    app.state.close = engine.close  # the same as app.close(), for hosts that only hold app.state
    app.state.settings = {
        "speed": engine.speed,
        "link_ttl": engine.link_ttl,
        "balance": engine.ledger.balance,
        "duration_noise": engine.duration_noise,
        "progress": engine.progress,
        **asdict(faults),
    }
    app.state.stats = Counter()
    app.state.rng = random.Random(seed)
    app.state.api_key = api_key
    return app
