"""Waiting for a condition instead of sleeping, and a clock the test moves by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Generous on purpose: a busy 2-core machine makes a test slow, and slow is not wrong.
TIMEOUT = 60.0


def wait_until(
    condition: Callable[[], T],
    timeout: float = TIMEOUT,
    *,
    interval: float = 0.05,
    message: str | Callable[[], str] = "condition not met",
) -> T:
    """Call ``condition`` until it returns something truthy and return that; fail after ``timeout`` seconds.

    >>> wait_until(lambda: 42)
    42
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout:g} s)")
        time.sleep(interval)


class Clock:
    """A clock that moves only when the test says so: pass it where code takes ``clock=``.

    >>> clock = Clock(100.0)
    >>> clock(), clock.advance(5), clock()
    (100.0, 105.0, 105.0)
    """

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now
