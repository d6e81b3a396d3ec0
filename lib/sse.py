"""Run notices as Server-Sent Events: the wire format, and the stream an open page of a workspace reads.

A stream starts with reconnect advice (``retry:``) and sends each notice of its
workspace (``lib.events``) as ``event: run`` with JSON data ``{"run": id, "kind":
kind, "seq": n, "card": {...}}``; the card is the run as ``lib.cards`` shows it, read
once per notice however many pages listen, so a page can update that one card
without asking the server for anything else. ``resync`` (the page fell behind) has
no card: the page reloads its list. When nothing happens for ``heartbeat`` seconds
a comment line keeps proxies from closing the stream. In between, the stream awaits
its subscription: an idle stream costs no CPU. It ends when the page goes away (the
server cancels it), or when the server is closing.

Example:
    >>> frame("run", {"run": "r1", "kind": "created", "seq": 7})
    b'event: run\\ndata: {"run":"r1","kind":"created","seq":7}\\n\\n'
    >>> comment("still here")
    b': still here\\n\\n'
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from lib import events, i18n
from lib.events import RunEvent
from lib.settings import EVENTS_HEARTBEAT, EVENTS_RETRY_MS
from lib.store.records import valid_id

log = logging.getLogger("studio.sse")

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
REPLAY_SECONDS = 30.0  # a new stream also gets the notices of this long ago: the page read its runs just before
CARDS_KEPT = 512  # notices whose card is remembered for streams that have not sent it yet
BUSY_RETRY_MS = 30_000  # when too many streams are open: come back later, not at once


def frame(event: str, data: dict[str, Any]) -> bytes:
    """One event: its name and one line of compact JSON."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {body}\n\n".encode()


def comment(text: str) -> bytes:
    """A line the browser ignores (a heartbeat)."""
    return f": {text}\n\n".encode()


def retry(ms: int) -> bytes:
    """How long a browser waits before it reconnects a lost stream."""
    return f"retry: {int(ms)}\n\n".encode()


class Cards:
    """The card of a run as it was after one notice: read once (off the event loop) for every stream that sends it."""

    def __init__(self, read: Callable[[str], dict[str, Any] | None], keep: int = CARDS_KEPT) -> None:
        self._read = read
        self._keep = keep
        self._by_seq: OrderedDict[tuple[int, str], asyncio.Future[dict[str, Any] | None]] = OrderedDict()

    def _safe_read(self, run_id: str, language: str) -> dict[str, Any] | None:
        try:
            with i18n.use(language):  # the card's words in the language of the page that listens
                return self._read(run_id)
        except Exception:  # a page without the card reloads its list: never end a stream for it
            log.warning("sse: could not read a run for its notice", exc_info=True)
            return None

    async def get(self, event: RunEvent, language: str = i18n.DEFAULT) -> dict[str, Any] | None:
        if event.kind == "resync" or not event.run_id:
            return None
        found = self._by_seq.get((event.seq, language))
        if found is None:
            loop = asyncio.get_running_loop()
            found = loop.run_in_executor(None, self._safe_read, event.run_id, language)
            self._by_seq[(event.seq, language)] = found
            while len(self._by_seq) > self._keep:
                self._by_seq.popitem(last=False)
        return await asyncio.shield(found)


async def _next(sub: events.Subscription, timeout: float, closing: asyncio.Event | None) -> list[RunEvent] | None:
    """The next notices ([] after ``timeout``), or None once ``closing`` is set."""
    if closing is None:
        return await sub.next(timeout)
    if closing.is_set():
        return None
    notices = asyncio.ensure_future(sub.next(timeout))
    stop = asyncio.ensure_future(closing.wait())
    try:
        done, _ = await asyncio.wait({notices, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (notices, stop):
            task.cancel()
    return notices.result() if notices in done else None


async def stream(
    workspace_id: str,
    cards: Cards | None = None,
    *,
    heartbeat: float = EVENTS_HEARTBEAT,
    retry_ms: int = EVENTS_RETRY_MS,
    closing: asyncio.Event | None = None,
    language: str = i18n.DEFAULT,
) -> AsyncIterator[bytes]:
    """The event stream of one workspace; its subscription is closed however the stream ends."""
    try:
        sub = events.subscribe(workspace_id, replay=REPLAY_SECONDS)
    except events.TooManySubscribers:
        yield retry(BUSY_RETRY_MS) + comment("busy")
        return
    try:
        yield retry(retry_ms) + comment("connected")
        while True:
            notices = await _next(sub, heartbeat, closing)
            if notices is None:
                return
            if not notices:
                yield comment("heartbeat")
                continue
            for notice in notices:
                data: dict[str, Any] = {"run": notice.run_id, "kind": notice.kind, "seq": notice.seq}
                card = await cards.get(notice, language) if cards is not None else None
                if card is not None:
                    data["card"] = card
                yield frame("run", data)
    finally:
        sub.close()


def endpoint(
    workspace_exists: Callable[[str], bool],
    read_card: Callable[[str], dict[str, Any] | None],
    *,
    closing: asyncio.Event | None = None,
    heartbeat: float = EVENTS_HEARTBEAT,
) -> Callable[[Request], Any]:
    """A Starlette endpoint for ``.../{workspace}``: the stream, or 404 for a workspace that does not exist.

    Knowing the workspace id is what opens its gallery, so it is also what opens its stream.
    """
    cards = Cards(read_card)

    async def events_endpoint(request: Request) -> Response:
        workspace_id = request.path_params["workspace"]
        if not valid_id(workspace_id) or not workspace_exists(workspace_id):
            return PlainTextResponse("Not found", status_code=404)
        return StreamingResponse(
            stream(
                workspace_id,
                cards,
                heartbeat=heartbeat,
                closing=closing,
                language=i18n.normalize(request.query_params.get("lang")),
            ),
            media_type="text/event-stream",
            headers=HEADERS,
        )

    return events_endpoint
