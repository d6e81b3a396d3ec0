"""When to try an HTTP request again, and how long to wait first: one policy for the client and the worker.

What may be repeated (the rule that bites): a GET is safe to repeat after a 429, a 5xx,
a timeout or a dropped connection. The paid POST is repeated only when the server
provably did not take it: a 429, or a connection that was never established
(``NEVER_SENT``). After a 5xx or a timeout the provider may have created (and will
bill) the task, so the POST is not sent again.

How long to wait before attempt ``n + 1`` (``n`` counts from 0)::

    wait = min(initial_delay · 2ⁿ, max_delay) · (1 - jitter · u)     u uniform in [0, 1)
    wait = min(Retry-After, retry_after_cap)                        when the server said

Jitter spreads a workshop's dozen browsers so they do not retry in step. The client
retries within one call (``IN_CALL``: a few short waits); the worker uses the same
formula between polls with longer waits (``BETWEEN_POLLS``), and bounds its retries by
time instead of by count.

Example:
    >>> policy = RetryPolicy(initial_delay=1.0, max_delay=8.0, rand=lambda: 0.0)
    >>> [policy.delay(n) for n in range(5)]
    [1.0, 2.0, 4.0, 8.0, 8.0]
    >>> policy.delay(0, retry_after=90.0)
    30.0
    >>> policy.retry_status("POST", 503), policy.retry_status("GET", 503), policy.retry_status("POST", 429)
    (False, True, True)
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

import httpx

# The request never left this machine, so even a paid POST may be repeated.
NEVER_SENT: tuple[type[httpx.TransportError], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures on the way that another try may get past (a GET may repeat all of them).
TRANSIENT: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
# Methods whose repetition changes nothing on the server.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
# A status that proves the server did not take the request: any method may be repeated.
NOT_TAKEN = frozenset({429})


def never_sent(exc: BaseException) -> bool:
    """True when the request provably never reached the server (so it cannot have been billed)."""
    return isinstance(exc, NEVER_SENT)


@dataclass(frozen=True)
class RetryPolicy:
    """What is retried, how often, and how long to wait in between (see the module docstring)."""

    max_retries: int = 2  # tries after the first, within one call
    initial_delay: float = 0.5  # seconds before the first retry; doubles each time
    max_delay: float = 8.0  # the backoff never waits longer than this
    # The provider has asked for 30 s on 503. A longer wait is left to the caller, who
    # gets the full figure (``ApiError.retry_after``) instead of a frozen page.
    retry_after_cap: float = 30.0
    jitter: float = 0.25  # each wait is shortened by up to this fraction, at random
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def retry_status(self, method: str, status: int) -> bool:
        """May a request that got HTTP ``status`` be sent again?"""
        return status in NOT_TAKEN or (status >= 500 and method.upper() in IDEMPOTENT)

    def retry_error(self, method: str, exc: BaseException) -> bool:
        """May a request that failed on the way with ``exc`` be sent again?"""
        return isinstance(exc, TRANSIENT) and (never_sent(exc) or method.upper() in IDEMPOTENT)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0 for the first), honouring ``Retry-After``."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        backoff = min(self.initial_delay * 2 ** max(attempt, 0), self.max_delay)
        return backoff * (1.0 - self.jitter * self.rand())


# The client's retries inside one call: short, so a page waits seconds, not minutes.
IN_CALL = RetryPolicy()
# The worker's backoff between polls of one run: it has all day, the provider may not.
BETWEEN_POLLS = RetryPolicy(initial_delay=1.0, max_delay=120.0, retry_after_cap=120.0)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay seconds or an HTTP date), None if absent or unreadable.

    >>> parse_retry_after("3"), parse_retry_after("soon"), parse_retry_after(None)
    (3.0, None, None)
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0)
    30.0
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except ValueError:
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT, even when it does not say so
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None
