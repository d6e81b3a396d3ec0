"""The retry policy: what may be repeated (GET vs the paid POST), the backoff formula, its caps, Retry-After."""

from __future__ import annotations

import email.utils
import random
from dataclasses import replace

import httpx
import pytest

from lib import retries
from lib.retries import BETWEEN_POLLS, IN_CALL, RetryPolicy, never_sent, parse_retry_after


def fixed(u: float) -> RetryPolicy:
    """A policy whose random source always answers ``u``."""
    return RetryPolicy(initial_delay=0.5, max_delay=8.0, jitter=0.25, rand=lambda: u)


# --- the backoff formula ------------------------------------------------------------------------


def test_backoff_doubles_from_the_initial_delay_up_to_the_cap():
    policy = fixed(0.0)  # no jitter drawn: the bare formula
    assert [policy.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_shortens_each_wait_by_at_most_its_fraction():
    assert fixed(0.5).delay(2) == pytest.approx(2.0 * (1 - 0.25 * 0.5))
    assert fixed(0.999).delay(10) == pytest.approx(8.0 * (1 - 0.25 * 0.999))  # jitter applies below the cap too


def test_jittered_waits_stay_within_bounds_and_spread_out():
    rng = random.Random(42)
    policy = RetryPolicy(initial_delay=1.0, max_delay=120.0, jitter=0.25, rand=rng.random)
    for attempt in range(12):
        waits = [policy.delay(attempt) for _ in range(200)]
        top = min(2.0**attempt, 120.0)
        assert all(0.75 * top <= w <= top for w in waits), attempt
        assert len({round(w, 6) for w in waits}) > 100  # retries of many clients do not line up


def test_a_seeded_source_gives_the_same_waits():
    a = RetryPolicy(rand=random.Random(7).random)
    b = RetryPolicy(rand=random.Random(7).random)
    assert [a.delay(n) for n in range(5)] == [b.delay(n) for n in range(5)]


def test_negative_attempt_counts_as_the_first():
    assert fixed(0.0).delay(-3) == 0.5


def test_retry_after_wins_over_the_formula_and_is_capped():
    policy = fixed(0.0)
    assert policy.delay(5, retry_after=3.0) == 3.0  # not the 8 s the formula would give
    assert policy.delay(0, retry_after=3600.0) == policy.retry_after_cap == 30.0
    assert policy.delay(0, retry_after=0.0) == 0.0
    assert policy.delay(0, retry_after=-5.0) == 0.0


def test_the_worker_and_the_client_share_the_formula_with_their_own_caps():
    worker, client = (replace(p, rand=lambda: 0.0) for p in (BETWEEN_POLLS, IN_CALL))
    assert [worker.delay(n) for n in (0, 3, 6, 7, 20)] == [1.0, 8.0, 64.0, 120.0, 120.0]
    assert [client.delay(n) for n in (0, 3, 6)] == [0.5, 4.0, 8.0]
    assert worker.delay(0, retry_after=600.0) == 120.0 and client.delay(0, retry_after=600.0) == 30.0


# --- what may be repeated -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_get_is_retried_on_429_and_5xx(status):
    assert IN_CALL.retry_status("GET", status)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
def test_other_client_errors_are_never_retried(status):
    assert not IN_CALL.retry_status("GET", status) and not IN_CALL.retry_status("POST", status)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_not_retried_after_a_5xx_the_task_may_exist(status):
    assert not IN_CALL.retry_status("POST", status)


def test_post_is_retried_after_429_it_was_not_taken():
    assert IN_CALL.retry_status("POST", 429) and IN_CALL.retry_status("post", 429)


def req() -> httpx.Request:
    return httpx.Request("POST", "https://api.test/v1/videos/generations")


NEVER_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")]
MAYBE_TAKEN = [
    httpx.ReadTimeout("slow"),
    httpx.WriteTimeout("slow"),
    httpx.ReadError("reset"),
    httpx.WriteError("reset"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
]
NEVER_RETRIED = [httpx.UnsupportedProtocol("ftp"), httpx.LocalProtocolError("bad"), httpx.ProxyError("proxy")]


@pytest.mark.parametrize("exc", NEVER_SENT + MAYBE_TAKEN, ids=lambda e: type(e).__name__)
def test_get_is_retried_after_any_transient_failure(exc):
    assert IN_CALL.retry_error("GET", exc)


@pytest.mark.parametrize("exc", NEVER_SENT, ids=lambda e: type(e).__name__)
def test_post_is_retried_only_when_the_connection_was_never_established(exc):
    assert never_sent(exc) and IN_CALL.retry_error("POST", exc)


@pytest.mark.parametrize("exc", MAYBE_TAKEN, ids=lambda e: type(e).__name__)
def test_post_is_not_retried_when_the_server_may_have_taken_it(exc):
    assert not never_sent(exc) and not IN_CALL.retry_error("POST", exc)


@pytest.mark.parametrize("exc", NEVER_RETRIED, ids=lambda e: type(e).__name__)
def test_failures_another_try_cannot_fix_are_not_retried(exc):
    assert not IN_CALL.retry_error("GET", exc) and not IN_CALL.retry_error("POST", exc)


# --- Retry-After --------------------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0", 0.0), ("2.5", 2.5), (" 7 ", 7.0), ("-4", 0.0), ("120", 120.0)],
)
def test_retry_after_in_seconds(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


def test_retry_after_as_an_http_date():
    assert parse_retry_after(email.utils.formatdate(NOW + 20, usegmt=True), now=NOW) == 20.0
    assert parse_retry_after(email.utils.formatdate(NOW - 60, usegmt=True), now=NOW) == 0.0  # past: now


def test_an_http_date_without_a_zone_is_gmt():
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:40", now=NOW) == 20.0


@pytest.mark.parametrize(
    "value", [None, "", "soon", "nan", "inf", "1e400", "Mon, 99 Foo 2020", "Wed, 21 Oct 2015 99:99:99 GMT"]
)
def test_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value, now=NOW) is None


def test_the_module_keeps_one_parser():
    # Both callers read the header through this module; nothing else in lib parses it.
    from pathlib import Path

    lib = Path(retries.__file__).parent
    parsers = [p.relative_to(lib) for p in lib.rglob("*.py") if "parsedate" in p.read_text()]
    assert [str(p) for p in parsers] == ["retries.py"]
