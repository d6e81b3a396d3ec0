"""The ASGI app: the Streamlit UI plus the app's own routes, served on one port.

`streamlit run server.py` serves the UI (app.py), archived videos at /api/media/<token>
(with Range requests) and their stills at /api/media/<token>/poster.jpg and /sheet.jpg,
run notices for open pages at /api/events/<workspace> (Server-Sent Events), provider
callbacks at /api/hooks/evolink/<secret>, /api/health, and in demo mode the offline
simulator at /sim. The lifespan removes what interrupted
downloads left behind and starts the one background worker that polls and archives
runs, so unfinished runs resume after a restart even when nobody has a browser open;
on PostgreSQL it also starts the relay that passes run-change notices between servers
(``lib.events_pg``).
A database that cannot be opened at start is explained in the log and on every page;
the server still starts and answers. Every response carries ``lib.headers``' security
headers.
Every browser gets a participant id cookie on the pages it loads (``lib.identity``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit.runtime.pages_manager import PagesManager

from components import trouble
from lib import archive, cards, demo, events_pg, headers, health, hooks, media, recovery, sse, transfer, uploads, worker
from lib.identity import IdentityCookie
from lib.settings import (
    DEMO_MOUNT,
    EVENTS_PREFIX,
    HEALTH_PATH,
    HOOK_PREFIX,
    MEDIA_PREFIX,
    UPLOAD_PREFIX,
    demo_base_url,
    load_settings,
)
from lib.store import Store, submission

log = logging.getLogger("studio.server")

# app.py navigates with st.navigation. Until it has run once, Streamlit takes a
# pages/ folder for the old multipage layout, so a server's very first request for
# /gallery would run that page bare: no sidebar, no demo notice, no navigation.
PagesManager.uses_pages_directory = False
SETTINGS = load_settings()
SIMULATOR = None
if SETTINGS.demo:
    from lib.simulator import create_app as create_simulator

    # Only this process's own clients hold its key: nobody else can spend the demo's credits or fill its queue.
    SIMULATOR = create_simulator(
        speed=SETTINGS.demo_speed,
        data_dir=SETTINGS.data_dir / "simulator",
        balance=demo.BALANCE,
        api_key=demo.key(),
        media_check=lambda url: uploads.reachable(SETTINGS.data_dir, url),
    )


# The app's own inline scripts, allowed by the policy by hash (components/inline.py).
SCRIPTS = Path(__file__).resolve().parent / "components" / "scripts"


async def health_status(request: Request) -> Response:
    """Mode and worker, and whether the database and the disk can do their job: 503 when either cannot."""
    w = worker.current()
    report = await run_in_threadpool(
        health.check,
        SETTINGS,
        mode="demo" if SETTINGS.demo else "live",
        worker="running" if w is not None and w.running else "stopped",
    )
    return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)


async def media_file(request: Request) -> Response:
    """A video (inline, or as a download named after its run) or one of its stills."""
    found = media.parse(request.path_params["rest"])
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    token, kind = found
    # A still may have to be made first (a video saved before stills existed): off the event loop.
    path = await asyncio.to_thread(media.file_for, SETTINGS.data_dir, token, kind)
    if path is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    # Tokens are random and files never change: let browsers keep them.
    extra = {"Cache-Control": "private, max-age=86400, immutable"}
    run_id = request.query_params.get("download")
    if kind == "video" and run_id is not None:
        run = await asyncio.to_thread(_store().get_run, run_id)
        extra["Content-Disposition"] = (
            media.content_disposition(run.request.prompt, run.id)
            if run is not None and run.media_token == token
            else 'attachment; filename="seedance-run.mp4"'
        )
    # A malformed Range gets the whole file (200), not a 400.
    return transfer.WholeFileOnBadRange(path, media_type=media.MEDIA_TYPES[kind], headers=extra)


class MediaTokenGuard:
    """Any /api/media/ path that does not name a token's video or still is 404, like an unknown token.

    Streamlit's path-security middleware would answer 400 to some of them (``..``,
    encoded slashes) and 404 to others: one answer tells a prober nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(MEDIA_PREFIX) and media.parse(path[len(MEDIA_PREFIX) :]) is None:
            await Response("Not found", status_code=404, media_type="text/plain")(scope, receive, send)
            return
        await self.app(scope, receive, send)


@functools.cache
def _store() -> Store:
    return Store.from_settings(SETTINGS)


def _workspace_exists(workspace_id: str) -> bool:
    return _store().get_workspace(workspace_id) is not None


def _card(run_id: str) -> dict[str, Any] | None:
    run = _store().get_run(run_id)
    return cards.card(run, key_missing=recovery.key_missing(run)) if run is not None else None


# Set when the server starts to shut down: open event streams end, so it need not wait for them.
CLOSING = asyncio.Event()
events_stream = sse.endpoint(_workspace_exists, _card, closing=CLOSING)


def _runs_finished(token: str) -> bool:
    """Whether some run sends this upload's link and every such run has finished."""
    try:
        using = _store().runs_using(token)
    except Exception as exc:
        if health.trouble(exc) is None:
            raise
        return False  # the database is down: the 24 hours still bound the link
    return bool(using) and all(run.finished for run in using)


async def upload(request: Request) -> Response:
    """A file uploaded in the Studio, for the provider to fetch: 24 h, and only while a run may still need it."""
    found = await run_in_threadpool(uploads.servable, SETTINGS.data_dir, request.path_params["token"], _runs_finished)
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    path, meta = found
    return transfer.WholeFileOnBadRange(
        path, media_type=meta.content_type, headers={"Cache-Control": "private, no-store"}, filename=None
    )


async def callback(request: Request) -> Response:
    """A provider callback only triggers an immediate poll; its body is never trusted."""
    if not hooks.secret_matches(SETTINGS.data_dir, request.path_params["secret"]):
        return Response("Not found", status_code=404, media_type="text/plain")
    try:
        raw = await transfer.read_capped(request, transfer.CALLBACK_MAX)
    except transfer.BodyTooLarge:
        return Response("Too large", status_code=413, media_type="text/plain")
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    task_id = body.get("id") if isinstance(body, dict) else None
    w = worker.current()
    if not isinstance(task_id, str) or w is None or not w.poke_task(task_id):
        return Response("Not found", status_code=404, media_type="text/plain")
    return JSONResponse({"received": True})


def _worker_base_url() -> str | None:
    if not SETTINGS.demo:
        return SETTINGS.base_url
    return demo_base_url(int(st.get_option("server.port")))


def _start_worker() -> None:
    """Start the worker; a database that cannot be opened is explained in the log, and the server serves on."""
    try:
        worker.start(SETTINGS, base_url=_worker_base_url())
    except Exception as exc:
        if health.trouble(exc) is None:
            raise
        log.error("%s", health.explain(SETTINGS, exc))
        return
    log.info("worker started (%s mode)", "demo" if SETTINGS.demo else "live")


def _close_streams_on_exit_signal() -> None:
    """On SIGINT/SIGTERM, end the event streams first: the server waits for open responses before it stops."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)

        def handler(number: int, frame: Any, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(CLOSING.set)
            if callable(previous):
                previous(number, frame)

        try:
            signal.signal(signum, handler)
        except ValueError:  # not the main thread (an embedding server): it ends streams its own way
            return


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    SETTINGS.data_dir.mkdir(parents=True, exist_ok=True)
    removed = archive.remove_stale_parts(SETTINGS.data_dir)
    if removed:
        log.warning("removed %d partial download(s) an earlier process left behind", removed)
    CLOSING.clear()
    _close_streams_on_exit_signal()
    try:
        expired = uploads.cleanup(SETTINGS.data_dir)
    except OSError as exc:  # a disk that refuses to tidy must not keep the server from starting
        log.warning("could not remove old uploads at start: %s", exc)
        expired = 0
    if expired:
        log.info("removed %d upload(s) older than 24 hours", expired)
    _start_worker()
    # Several servers on one PostgreSQL: pages here hear what the other servers' workers did.
    events_pg.start(SETTINGS.db_url, server_id=submission.PROCESS)
    try:
        yield {"settings": SETTINGS}
    finally:
        CLOSING.set()
        events_pg.stop()
        worker.stop()
        if SIMULATOR is not None:
            SIMULATOR.state.close()


routes: list[BaseRoute] = [
    Route(HEALTH_PATH, health_status),
    Route(MEDIA_PREFIX + "{rest:path}", media_file, methods=["GET", "HEAD"]),
    Route(EVENTS_PREFIX + "{workspace}", events_stream),
    Route(HOOK_PREFIX + "{secret}", callback, methods=["POST"]),
    Route(UPLOAD_PREFIX + "{token}", upload, methods=["GET", "HEAD"]),
]
if SIMULATOR is not None:
    routes.append(Mount(DEMO_MOUNT, app=SIMULATOR))

# Streamlit's index.html has one inline script of its own; the app's are in components/scripts/.
_STREAMLIT_INDEX = Path(st.__file__).parent / "static" / "index.html"
CSP = headers.content_security_policy(
    [*headers.inline_scripts(_STREAMLIT_INDEX.read_text(encoding="utf-8")), *headers.scripts_in(SCRIPTS)]
)
app = st.App(
    "app.py",
    lifespan=lifespan,
    routes=routes,
    middleware=[Middleware(headers.SecurityHeaders, csp=CSP), Middleware(MediaTokenGuard), Middleware(IdentityCookie)],
    on_script_error=trouble.shown,  # a page, callback or fragment whose storage failed: one plain sentence
)
