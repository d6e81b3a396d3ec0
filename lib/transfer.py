"""Bytes in and out of the app's own routes: request bodies read with a cap, files served with forgiving ranges.

A callback body is read only up to ``limit`` bytes (a declared ``Content-Length``
beyond it is refused before reading anything, a streamed body as soon as it passes
it), so a 300 MB POST costs no memory. A ``Range`` header the server cannot make
sense of (``bytes=5-2``, ``bytes=abc``, another unit) is ignored, as RFC 9110 allows:
the whole file, 200, instead of a 400 a browser would not retry.

Example (the range rule; ``read_capped`` is exercised on the real server's callback route)::

    >>> WholeFileOnBadRange._parse_range_header("bytes=5-2", 1000)  # malformed: no range, the whole file
    []
    >>> WholeFileOnBadRange._parse_range_header("bytes=0-99", 1000)
    [(0, 100)]
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, MalformedRangeHeader

CALLBACK_MAX = 64 * 1024  # a task's JSON is a few hundred bytes; a callback may carry no more than this


class BodyTooLarge(ValueError):
    """The request body passed the cap: answer 413 and read no further."""


async def read_capped(request: Request, limit: int) -> bytes:
    """The request's body, or ``BodyTooLarge`` once it passes ``limit`` bytes (never more is kept)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
    return bytes(body)


class WholeFileOnBadRange(FileResponse):
    """A ``FileResponse`` that serves the whole file when the ``Range`` header is malformed (not 400).

    A well-formed range past the end is still 416, as it should be.
    """

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            return []  # no range: the whole file
