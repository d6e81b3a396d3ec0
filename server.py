"""The ASGI app: the Streamlit UI plus the app's own routes, served on one port.

`streamlit run server.py` serves the UI (app.py), archived videos at /api/media/<token>
(with Range requests), provider callbacks at /api/hooks/evolink/<secret>, /api/health,
and in demo mode the offline simulator at /sim. The lifespan removes what interrupted
downloads left behind and starts the one background worker that polls and archives
runs, so unfinished runs resume after a restart even when nobody has a browser open.
A database that cannot be opened at start is explained in the log and on every page;
the server still starts and answers. Every response carries ``lib.headers``' security
headers.
Every browser gets a participant id cookie on the pages it loads (``lib.identity``).
"""

from __future__ import annotations

import json
import logging
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

from lib import archive, demo, headers, health, hooks, transfer, uploads, worker
from lib.identity import IdentityCookie
from lib.settings import DEMO_MOUNT, HEALTH_PATH, HOOK_PREFIX, MEDIA_PREFIX, UPLOAD_PREFIX, demo_base_url, load_settings
from lib.store import Store

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


async def media(request: Request) -> Response:
    path = archive.media_path(SETTINGS.data_dir, request.path_params["token"])
    if path is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    # Tokens are random and files never change: let browsers keep them.
    headers = {"Cache-Control": "private, max-age=86400"}
    download = "download" in request.query_params
    return transfer.WholeFileOnBadRange(
        path,
        media_type="video/mp4",
        headers=headers,
        filename="seedance-run.mp4" if download else None,
        content_disposition_type="attachment" if download else "inline",
    )


class MediaTokenGuard:
    """Any /api/media/ path that is not exactly one valid token is 404, like an unknown token.

    Streamlit's path-security middleware would answer 400 to some of them (``..``,
    encoded slashes) and 404 to others: one answer tells a prober nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(MEDIA_PREFIX) and not archive.valid_token(path[len(MEDIA_PREFIX) :]):
            await Response("Not found", status_code=404, media_type="text/plain")(scope, receive, send)
            return
        await self.app(scope, receive, send)


_STORE: Store | None = None


def _runs_finished(token: str) -> bool:
    """Whether some run sends this upload's link and every such run has finished."""
    global _STORE
    try:
        if _STORE is None:
            _STORE = Store.from_settings(SETTINGS)
        using = _STORE.runs_using(token)
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


def on_script_error(exc: Exception) -> bool:
    """A page, callback or fragment that hit the server's storage failing shows one plain sentence, no traceback."""
    sentence = health.trouble(exc)
    if sentence is None:
        return False
    health.note(exc)
    st.error(sentence, icon=":material/report:")
    return True


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    SETTINGS.data_dir.mkdir(parents=True, exist_ok=True)
    removed = archive.remove_stale_parts(SETTINGS.data_dir)
    if removed:
        log.warning("removed %d partial download(s) an earlier process left behind", removed)
    expired = uploads.cleanup(SETTINGS.data_dir)
    if expired:
        log.info("removed %d upload(s) older than 24 hours", expired)
    _start_worker()
    try:
        yield {"settings": SETTINGS}
    finally:
        worker.stop()
        if SIMULATOR is not None:
            SIMULATOR.state.close()


routes: list[BaseRoute] = [
    Route(HEALTH_PATH, health_status),
    Route(MEDIA_PREFIX + "{token}", media, methods=["GET", "HEAD"]),
    Route(HOOK_PREFIX + "{secret}", callback, methods=["POST"]),
    Route(UPLOAD_PREFIX + "{token}", upload, methods=["GET", "HEAD"]),
]
if SIMULATOR is not None:
    routes.append(Mount(DEMO_MOUNT, app=SIMULATOR))

CSP = headers.content_security_policy(headers.scripts_in(SCRIPTS))
app = st.App(
    "app.py",
    lifespan=lifespan,
    routes=routes,
    middleware=[Middleware(headers.SecurityHeaders, csp=CSP), Middleware(MediaTokenGuard), Middleware(IdentityCookie)],
    on_script_error=on_script_error,
)
