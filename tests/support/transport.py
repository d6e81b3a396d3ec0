"""The one recording transport: every request a client sends, when, and what came back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import httpx


class Exchange(NamedTuple):
    at: float  # when the request left, by the recorder's clock
    method: str
    url: str
    outcome: str  # the status code, or the name of the exception raised instead


class Recorder(httpx.BaseTransport):
    """Passes every request to ``inner`` (a real ``httpx.HTTPTransport`` by default) and notes it in ``log``.

    Times come from ``clock`` (``time.monotonic`` unless the test moves a clock of its own).
    Safe to share between threads, e.g. a client and the worker's poller.
    """

    def __init__(
        self, inner: httpx.BaseTransport | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner if inner is not None else httpx.HTTPTransport()
        self.clock = clock
        self.log: list[Exchange] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        at = self.clock()
        try:
            response = self.inner.handle_request(request)
        except Exception as exc:
            self._note(Exchange(at, request.method, str(request.url), type(exc).__name__))
            raise
        self._note(Exchange(at, request.method, str(request.url), str(response.status_code)))
        return response

    def _note(self, exchange: Exchange) -> None:
        with self._lock:
            self.log.append(exchange)

    @property
    def times(self) -> list[float]:
        return [e.at for e in self.log]

    @property
    def methods(self) -> list[str]:
        return [e.method for e in self.log]

    def close(self) -> None:
        self.inner.close()
