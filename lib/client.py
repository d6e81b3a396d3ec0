"""The Evolink API over HTTP: create a run, read a task, check credits, with typed errors and safe retries.

Every failure is an ``ApiError`` subclass carrying a ``hint`` a non-developer can act
on. A call retries by ``lib.retries`` (the policy the worker's backoff shares): GETs on
429, 5xx, timeouts and dropped connections; the paid POST only when the server provably
did not take it (429, or a connection that was never established). Callers never loop.

Example:
    >>> with EvolinkClient("sk-...", base_url="http://127.0.0.1:8765") as client:  # doctest: +SKIP
    ...     task = client.create(GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat"))
    ...     client.get_task(task.id).status
    'pending'
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json as _json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from lib import demo, retries
from lib.messages import join, say
from lib.retries import RetryPolicy
from lib.schema import Balance, ErrorBody, GenerationRequest, Task
from lib.settings import CREATE_PATH, CREDITS_PATH, DEFAULT_BASE_URL, TASK_ID_MAX, TASK_PREFIX
from lib.text import one_line

# Create and query answer within seconds; a long silence is trouble, not work in progress.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
SERVER_TEXT_MAX = 200  # characters of server-provided text kept in a message

log = logging.getLogger("studio.client")

_M = TypeVar("_M", bound=BaseModel)


def key_fingerprint(api_key: str) -> str:
    """A short, stable, non-reversible name for a key, safe to store and log.

    The demo's per-process key always has the same one (``lib.demo.FINGERPRINT``), so
    demo runs outlive a restart.

    >>> key_fingerprint("sk-test")
    'k_f3abf2a6cc4f'
    """
    if demo.is_key(api_key):
        return demo.FINGERPRINT
    return "k_" + hashlib.sha256(api_key.strip().encode()).hexdigest()[:12]


def valid_task_id(task_id: object) -> bool:
    """Could this be a provider task id we may put in a request path? (Not whether the provider knows it.)

    >>> valid_task_id("task-unified-1761200000-ab12cd34"), valid_task_id("../credits"), valid_task_id("")
    (True, False, False)
    """
    return (
        isinstance(task_id, str)
        and bool(task_id)
        and "/" not in task_id
        and task_id not in (".", "..")
        and len(task_id) <= TASK_ID_MAX
        and task_id.isprintable()
    )


# --- errors ----------------------------------------------------------------------------


class ApiError(Exception):
    """Any failure talking to the Evolink API; ``hint`` is what to do, in the app's words (``lib.messages``)."""

    hint = say("api_error")

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        maybe_created: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status  # None: no HTTP answer (network) or refused before sending
        self.code = code or "api_error"
        self.hint = hint or type(self).hint
        self.retry_after = retry_after  # seconds the server asked us to wait, uncapped
        self.maybe_created = maybe_created  # a POST whose outcome is unknown

    def __str__(self) -> str:
        where = f"HTTP {self.status}, {self.code}" if self.status else self.code
        return f"{self.message} [{where}]"


class BadRequestError(ApiError):
    """400: the API refused the request as written."""

    hint = say("bad_request")


class AuthenticationError(ApiError):
    """401: the API key is missing, wrong or revoked."""

    hint = say("unauthorized")


class InsufficientCreditsError(ApiError):
    """402: the account has no credits left."""

    hint = say("no_credits")


class PermissionDeniedError(ApiError):
    """403: this key may not use this model or read this task."""

    hint = say("forbidden")


class NotFoundError(ApiError):
    """404: no such task (or not visible to this key)."""

    hint = say("not_found")


class RateLimitError(ApiError):
    """429: too many requests."""

    hint = say("rate_limited")


class ServerError(ApiError):
    """5xx: the service or a gateway in front of it failed."""

    hint = say("server_error")


class ApiConnectionError(ApiError):
    """No HTTP answer: the connection failed or dropped."""

    hint = say("unreachable")


class ApiTimeoutError(ApiConnectionError):
    """No answer in time."""

    hint = say("timed_out")


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}

_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)


def _is_html(resp: httpx.Response) -> bool:
    return "html" in resp.headers.get("content-type", "") or resp.text.lstrip()[:1] == "<"


# --- client ----------------------------------------------------------------------------


class EvolinkClient:
    """A synchronous client for one API key; use as a context manager or call ``close()``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy = retries.IN_CALL,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``max_retries`` overrides ``retry.max_retries`` (0: one try, e.g. for a quick balance check);
        ``headers`` are sent with every request (the demo's workspace header)."""
        # Pasted keys often carry a trailing newline; an empty key is a setup mistake.
        key = api_key.strip() if isinstance(api_key, str) else ""
        if not key:
            raise ValueError(
                "API key is empty: paste a key in the sidebar, or ask the facilitator to set the server's."
            )
        self._key = key
        self.fingerprint = key_fingerprint(key)
        if max_retries is not None:
            retry = dataclasses.replace(retry, max_retries=max(0, max_retries))
        self.retry = retry
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={
                **(headers or {}),
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                "User-Agent": "seedance-prompt-studio",
            },
        )

    @property
    def max_retries(self) -> int:
        """Tries after the first within one call (``self.retry.max_retries``)."""
        return self.retry.max_retries

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"EvolinkClient(base_url={self.base_url!r}, key={self.fingerprint})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EvolinkClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints ---------------------------------------------------------------------

    def create(self, request: GenerationRequest) -> Task:
        """Submit one paid generation (``POST /v1/videos/generations``)."""
        return self._request("POST", CREATE_PATH, Task, json=request.to_payload())

    def get_task(self, task_id: str) -> Task:
        """Read a task's status (``GET /v1/tasks/{task_id}``)."""
        # Ids come back from the server (or are pasted): never let one change the path we request.
        if not valid_task_id(task_id):
            raise BadRequestError(say("malformed_task_id"), code="invalid_task_id", hint=say("no_task_id"))
        return self._request("GET", TASK_PREFIX + quote(task_id, safe=""), Task)

    def credits(self) -> Balance:
        """The key's balance (``GET /v1/credits``); also a cheap way to test a key."""
        return self._request("GET", CREDITS_PATH, Balance)

    # --- plumbing ----------------------------------------------------------------------

    def _request(self, method: str, path: str, model: type[_M], *, json: Any = None) -> _M:
        post = method == "POST"
        attempt = 0
        while True:
            more = attempt < self.retry.max_retries
            try:
                resp = self._http.request(method, path, json=json)
            except httpx.TransportError as exc:
                log.warning("%s %s -> %s", method, path, type(exc).__name__)
                if more and self.retry.retry_error(method, exc):
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                raise self._transport_error(exc, maybe_created=post and not retries.never_sent(exc)) from exc
            log.info("%s %s -> %s", method, path, resp.status_code)
            if resp.is_success:
                return self._parse(resp, model, maybe_created=post)
            status = resp.status_code
            retry_after = retries.parse_retry_after(resp.headers.get("retry-after"))
            if more and self.retry.retry_status(method, status):
                self._wait(attempt, retry_after)
                attempt += 1
                continue
            # A 5xx after a POST may hide a created task; only 429 proves it was not taken.
            raise self._status_error(resp, retry_after, maybe_created=post and status >= 500)

    def _wait(self, attempt: int, retry_after: float | None) -> None:
        delay = self.retry.delay(attempt, retry_after)
        log.debug("retrying in %.2f s", delay)
        self._sleep(delay)

    def _parse(self, resp: httpx.Response, model: type[_M], *, maybe_created: bool) -> _M:
        try:
            text = resp.text
            # A server that echoes the key back (say, in a failed task's error text) must not
            # get it stored, logged or shown: it leaves the client as *** like in error answers.
            data = _json.loads(text.replace(self._key, "***")) if self._key in text else resp.json()
            return model.model_validate(data)
        except ValueError:  # bad JSON, bad encoding, or pydantic's ValidationError
            raise ApiError(
                say("web_page" if _is_html(resp) else "unreadable_answer", status=resp.status_code),
                status=resp.status_code,
                code="invalid_response",
                hint=join(say("invalid_response"), say("maybe_created") if maybe_created else ""),
                maybe_created=maybe_created,
            ) from None

    def _status_error(self, resp: httpx.Response, retry_after: float | None, *, maybe_created: bool) -> ApiError:
        status = resp.status_code
        cls = ServerError if status >= 500 else _BY_STATUS.get(status, ApiError)
        code, message = self._describe(resp)
        hint = cls.hint
        if cls is RateLimitError and retry_after:
            hint = say("rate_limited_for", seconds=math.ceil(retry_after))
        if maybe_created:
            hint = join(hint, say("maybe_created"))
        return cls(message, status=status, code=code, hint=hint, retry_after=retry_after, maybe_created=maybe_created)

    def _describe(self, resp: httpx.Response) -> tuple[str, str]:
        """``(code, message)`` from an error response, whatever shape it came in."""
        status = resp.status_code
        fallback = f"HTTP {status} {resp.reason_phrase}".strip()
        if _is_html(resp):
            # A proxy's error page: keep at most its title, never the markup.
            m = _TITLE.search(resp.text)
            title = self._clean(m.group(1)) if m else ""
            said = say("gateway_titled", status=status, title=title) if title else say("gateway", status=status)
            return f"http_{status}", said
        try:
            err = ErrorBody.model_validate(resp.json()).error
        except ValueError:
            text = self._clean(resp.text)
            return f"http_{status}", f"{fallback}: {text}" if text else fallback
        return self._clean(err.code or "", 64) or f"http_{status}", self._clean(err.message or "") or fallback

    def _clean(self, text: str, limit: int = SERVER_TEXT_MAX) -> str:
        """Server text made safe to show and log: no markup, no key, one short line."""
        text = html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))
        text = text.replace(self._key, "***").replace("<", "").replace(">", "")
        return one_line("".join(c if c.isprintable() else " " for c in text), limit)

    def _transport_error(self, exc: httpx.TransportError, *, maybe_created: bool) -> ApiError:
        host = self._http.base_url.host
        cls: type[ApiConnectionError]
        if isinstance(exc, httpx.TimeoutException):
            cls, said = ApiTimeoutError, "no_answer_in_time"
        else:
            cls, said = ApiConnectionError, "connection_failed"
        hint = join(cls.hint, say("maybe_created") if maybe_created else "")
        name = type(exc).__name__
        return cls(say(said, host=host, name=name), code=name, hint=hint, maybe_created=maybe_created)
