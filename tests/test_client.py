"""EvolinkClient against httpx.MockTransport: error mapping, retry policy, key hygiene."""

from __future__ import annotations

import email.utils
import json
import logging
import time

import httpx
import pytest

from lib import client as client_mod
from lib.client import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    EvolinkClient,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    key_fingerprint,
)
from lib.retries import IN_CALL, RetryPolicy
from lib.schema import GenerationRequest, TaskState

KEY = "sk-secret-0123456789abcdef"
BASE = "https://api.test"
TASK = {
    "id": "task-unified-1774857405-abc123",
    "object": "video.generation.task",
    "created": 1761313744,
    "model": "seedance-2.0-text-to-video",
    "status": "pending",
    "progress": 0,
    "task_info": {"can_cancel": True, "estimated_time": 165, "video_duration": 8},
    "type": "video",
    "usage": {"billing_rule": "per_second", "credits_reserved": 50, "user_group": "default"},
}
CREDITS = {
    "data": {
        "token": {"remaining_credits": 812.5, "unlimited_credits": False, "used_credits": 187.5},
        "user": {"remaining_credits": 5000, "used_credits": 1000},
    },
    "message": "",
    "success": True,
}


def err(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message, "type": "api_error"}}, headers=headers
    )


class Server:
    """Answers requests from a script of responses (or exceptions to raise), recording each request."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step


def make(server: Server, **kw) -> tuple[EvolinkClient, list[float]]:
    slept: list[float] = []
    kw.setdefault("sleep", slept.append)
    return EvolinkClient(KEY, base_url=BASE, transport=httpx.MockTransport(server), **kw), slept


def req() -> GenerationRequest:
    return GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat on a piano", duration=8, quality="720p")


# --- requests as sent ---------------------------------------------------------------------


def test_create_posts_payload_with_bearer_auth():
    server = Server(httpx.Response(200, json=TASK))
    client, _ = make(server)
    task = client.create(req())
    (sent,) = server.requests
    assert sent.method == "POST"
    assert sent.url == f"{BASE}/v1/videos/generations"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(sent.content) == req().to_payload()
    assert task.id == TASK["id"] and task.credits_reserved == 50 and task.estimated_time == 165


def test_get_task_quotes_the_id_and_keeps_base_path():
    server = Server(httpx.Response(200, json=TASK))
    client, _ = make(server)
    client._http.base_url = "http://127.0.0.1:8501/sim"
    client.get_task("task a?b#c%2F")
    assert server.requests[0].url.raw_path == b"/sim/v1/tasks/task%20a%3Fb%23c%252F"


@pytest.mark.parametrize("bad", ["", "a/b", "../credits", ".", "..", "x\ny", "t" * 300])
def test_get_task_refuses_malformed_ids_without_sending(bad):
    server = Server(httpx.Response(200, json=TASK))
    client, _ = make(server)
    with pytest.raises(BadRequestError) as info:
        client.get_task(bad)
    assert info.value.code == "invalid_task_id" and info.value.status is None
    assert server.requests == []


def test_credits_parses_documented_shape():
    client, _ = make(Server(httpx.Response(200, json=CREDITS)))
    balance = client.credits()
    assert (balance.remaining, balance.used, balance.unlimited) == (812.5, 187.5, False)


def test_credits_falls_back_to_account_balance():
    body = {"data": {"user": {"remaining_credits": 42, "used_credits": 8}}, "success": True}
    client, _ = make(Server(httpx.Response(200, json=body)))
    assert client.credits().remaining == 42


def test_unknown_status_is_parsed_not_fatal():
    client, _ = make(Server(httpx.Response(200, json={**TASK, "status": "cancelled", "progress": "n/a"})))
    task = client.get_task(TASK["id"])
    assert task.status == "cancelled" and task.state is TaskState.OTHER and task.state.terminal
    assert task.progress == 0


def test_failed_task_carries_its_error():
    body = {
        **TASK,
        "status": "failed",
        "error": {"code": "content_policy_violation", "message": "no", "type": "task_error"},
    }
    client, _ = make(Server(httpx.Response(200, json=body)))
    task = client.get_task(TASK["id"])
    assert task.state is TaskState.FAILED and task.error.code == "content_policy_violation"


def test_context_manager_closes():
    with make(Server(httpx.Response(200, json=CREDITS)))[0] as client:
        client.credits()
    assert client._http.is_closed


@pytest.mark.parametrize("key", ["", "   ", None])
def test_empty_key_refused(key):
    with pytest.raises(ValueError):
        EvolinkClient(key)


# --- status -> error class -------------------------------------------------------------------

STATUS_CASES = [
    (400, BadRequestError, "invalid_request", "duration must be 4-15"),
    (401, AuthenticationError, "unauthorized", "Invalid token"),
    (402, InsufficientCreditsError, "insufficient_quota", "Insufficient credits"),
    (403, PermissionDeniedError, "model_access_denied", "No access to this model"),
    (404, NotFoundError, "task_not_found", "Task not found"),
    (429, RateLimitError, "rate_limit_exceeded", "Slow down"),
    (500, ServerError, "internal_error", "Internal error"),
    (502, ServerError, "upstream_error", "Upstream failed"),
    (503, ServerError, "service_unavailable", "Retry after 30 seconds"),
]


@pytest.mark.parametrize(("status", "cls", "code", "message"), STATUS_CASES)
def test_status_maps_to_error_class(status, cls, code, message):
    client, _ = make(Server(err(status, code, message)), max_retries=0)
    with pytest.raises(cls) as info:
        client.get_task(TASK["id"])
    e = info.value
    assert type(e) is cls and isinstance(e, ApiError)
    assert (e.status, e.code, e.message) == (status, code, message)
    assert e.hint and e.hint == cls.hint and "<" not in e.hint
    assert message in str(e) and str(status) in str(e)


@pytest.mark.parametrize("status", [409, 413, 422])
def test_other_4xx_is_plain_api_error(status):
    client, _ = make(Server(err(status, "too_big", "Request too large")), max_retries=0)
    with pytest.raises(ApiError) as info:
        client.credits()
    assert type(info.value) is ApiError and info.value.status == status and info.value.code == "too_big"


def test_402_hint_is_plain_language():
    client, _ = make(Server(err(402, "insufficient_quota", "quota")))
    with pytest.raises(InsufficientCreditsError) as info:
        client.create(req())
    assert info.value.hint == "Your Evolink account is out of credits. Top up, then try again."
    assert info.value.maybe_created is False


# --- Retry-After ----------------------------------------------------------------------------


def test_retry_after_seconds_honoured():
    server = Server(err(429, "rate_limit_exceeded", "slow", **{"Retry-After": "3"}), httpx.Response(200, json=CREDITS))
    client, slept = make(server)
    assert client.credits().remaining == 812.5
    assert slept == [3.0] and len(server.requests) == 2


def test_retry_after_http_date_honoured():
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    server = Server(err(503, "service_unavailable", "busy", **{"Retry-After": when}), httpx.Response(200, json=TASK))
    client, slept = make(server)
    client.get_task(TASK["id"])
    assert len(slept) == 1 and 17.0 <= slept[0] <= 20.0


def test_retry_after_in_the_past_means_now():
    when = email.utils.formatdate(time.time() - 60, usegmt=True)
    server = Server(err(429, "rate_limit_exceeded", "x", **{"Retry-After": when}), httpx.Response(200, json=CREDITS))
    client, slept = make(server)
    client.credits()
    assert slept == [0.0]


def test_retry_after_capped_and_reported_uncapped():
    server = Server(err(429, "rate_limit_exceeded", "slow", **{"Retry-After": "3600"}))
    client, slept = make(server, max_retries=2)
    with pytest.raises(RateLimitError) as info:
        client.credits()
    assert slept == [IN_CALL.retry_after_cap, IN_CALL.retry_after_cap] and len(server.requests) == 3
    assert info.value.retry_after == 3600.0
    assert "3600 seconds" in info.value.hint


def test_garbage_retry_after_falls_back_to_backoff():
    server = Server(err(429, "rate_limit_exceeded", "x", **{"Retry-After": "soon"}), httpx.Response(200, json=CREDITS))
    client, slept = make(server)
    client.credits()
    assert len(slept) == 1 and 0.75 * IN_CALL.initial_delay <= slept[0] <= IN_CALL.initial_delay


# --- GET retries ----------------------------------------------------------------------------


def test_get_retried_on_5xx_with_backoff_then_succeeds():
    server = Server(err(500, "internal_error", "x"), err(502, "upstream_error", "y"), httpx.Response(200, json=TASK))
    client, slept = make(server)
    assert client.get_task(TASK["id"]).id == TASK["id"]
    assert len(server.requests) == 3
    first, second = slept
    d = IN_CALL.initial_delay
    assert 0.75 * d <= first <= d and 1.5 * d <= second <= 2 * d


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("reset"),
    ],
)
def test_get_retried_on_transport_errors_then_succeeds(exc):
    server = Server(exc, httpx.Response(200, json=CREDITS))
    client, slept = make(server)
    assert client.credits().remaining == 812.5
    assert len(server.requests) == 2 and len(slept) == 1


def test_get_gives_up_after_max_retries_on_timeouts():
    server = Server(httpx.ReadTimeout("slow"))
    client, slept = make(server, max_retries=3)
    with pytest.raises(ApiTimeoutError) as info:
        client.get_task(TASK["id"])
    assert len(server.requests) == 4 and len(slept) == 3
    assert isinstance(info.value, ApiConnectionError) and info.value.status is None
    assert info.value.maybe_created is False


def test_get_gives_up_on_persistent_5xx():
    server = Server(err(503, "service_unavailable", "down"))
    client, _ = make(server)
    with pytest.raises(ServerError):
        client.credits()
    assert len(server.requests) == IN_CALL.max_retries + 1


def test_max_retries_zero_sends_once():
    server = Server(err(503, "service_unavailable", "down"))
    client, slept = make(server, max_retries=0)
    with pytest.raises(ServerError):
        client.credits()
    assert len(server.requests) == 1 and slept == []


def test_the_client_waits_by_the_policy_it_is_given():
    policy = RetryPolicy(max_retries=3, initial_delay=0.1, max_delay=0.3, rand=lambda: 0.0)
    server = Server(err(503, "service_unavailable", "down"))
    client, slept = make(server, retry=policy)
    with pytest.raises(ServerError):
        client.credits()
    assert slept == [0.1, 0.2, 0.3] and len(server.requests) == 4
    client, slept = make(Server(err(503, "service_unavailable", "down")), retry=policy, max_retries=1)
    with pytest.raises(ServerError):
        client.credits()
    assert slept == [0.1]


# --- POST retries: never risk a second paid task ---------------------------------------------


@pytest.mark.parametrize(
    ("step", "cls"),
    [
        (err(500, "internal_error", "boom"), ServerError),
        (err(502, "upstream_error", "boom"), ServerError),
        (err(503, "service_unavailable", "boom", **{"Retry-After": "1"}), ServerError),
        (httpx.ReadTimeout("slow"), ApiTimeoutError),
        (httpx.WriteTimeout("slow"), ApiTimeoutError),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), ApiConnectionError),
        (httpx.ReadError("connection reset"), ApiConnectionError),
    ],
)
def test_post_not_retried_when_task_may_exist(step, cls):
    server = Server(step, httpx.Response(200, json=TASK))
    client, slept = make(server)
    with pytest.raises(cls) as info:
        client.create(req())
    assert len(server.requests) == 1 and slept == []
    assert info.value.maybe_created is True
    assert "may still have been created" in info.value.hint


@pytest.mark.parametrize(
    "step",
    [
        err(429, "rate_limit_exceeded", "slow", **{"Retry-After": "2"}),
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
    ],
)
def test_post_retried_when_server_never_took_it(step):
    server = Server(step, httpx.Response(200, json=TASK))
    client, slept = make(server)
    assert client.create(req()).id == TASK["id"]
    assert len(server.requests) == 2 and len(slept) == 1
    assert json.loads(server.requests[1].content) == req().to_payload()


def test_post_connect_error_exhausted_is_not_maybe_created():
    server = Server(httpx.ConnectError("refused"))
    client, _ = make(server)
    with pytest.raises(ApiConnectionError) as info:
        client.create(req())
    assert type(info.value) is ApiConnectionError and info.value.maybe_created is False
    assert len(server.requests) == IN_CALL.max_retries + 1
    assert "api.test" in info.value.message


# --- unreadable answers ---------------------------------------------------------------------

HTML_502 = """<!DOCTYPE html><html><head><title>502 Bad Gateway</title>
<style>body{font-family:sans-serif}</style><script>alert('x')</script></head>
<body><h1>502 Bad Gateway</h1><hr><center>nginx/1.25.3</center></body></html>"""


def test_html_502_page_becomes_clean_server_error():
    server = Server(httpx.Response(502, text=HTML_502, headers={"content-type": "text/html"}))
    client, _ = make(server, max_retries=0)
    with pytest.raises(ServerError) as info:
        client.get_task(TASK["id"])
    e = info.value
    assert e.status == 502 and e.code == "http_502"
    assert "502 Bad Gateway" in e.message
    for text in (e.message, str(e), e.hint):
        assert "<" not in text and ">" not in text and "alert" not in text and "font-family" not in text


def test_html_page_on_200_is_invalid_response():
    server = Server(httpx.Response(200, text="<html><body>Captive portal: log in</body></html>"))
    client, _ = make(server)
    with pytest.raises(ApiError) as info:
        client.credits()
    assert type(info.value) is ApiError and info.value.code == "invalid_response"
    assert "web page" in info.value.message and "<" not in info.value.message


def test_malformed_json_on_success_is_clear_api_error():
    server = Server(
        httpx.Response(200, text='{"id": "task-1", "status": ', headers={"content-type": "application/json"})
    )
    client, _ = make(server)
    with pytest.raises(ApiError) as info:
        client.get_task("task-1")
    assert info.value.code == "invalid_response" and info.value.status == 200
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_malformed_create_answer_warns_task_may_exist():
    server = Server(httpx.Response(200, json={"status": "pending"}))  # no id
    client, _ = make(server)
    with pytest.raises(ApiError) as info:
        client.create(req())
    assert info.value.code == "invalid_response" and info.value.maybe_created
    assert len(server.requests) == 1


def test_non_json_error_body_is_cleaned_and_capped():
    body = "upstream \x1b[31mfailure\x1b[0m: " + "x" * 1000
    server = Server(httpx.Response(500, text=body, headers={"content-type": "text/plain"}))
    client, _ = make(server, max_retries=0)
    with pytest.raises(ServerError) as info:
        client.credits()
    e = info.value
    assert e.code == "http_500" and e.message.startswith("HTTP 500 Internal Server Error: upstream")
    assert "\x1b" not in e.message and len(e.message) < 260


def test_json_error_message_is_capped_and_stripped():
    server = Server(err(400, "invalid_request", "<script>alert(1)</script><b>bad</b> &lt;i&gt; " + "y" * 500))
    client, _ = make(server)
    with pytest.raises(BadRequestError) as info:
        client.create(req())
    assert (
        info.value.message.startswith("bad i y")
        and "alert" not in info.value.message
        and len(info.value.message) <= client_mod.SERVER_TEXT_MAX
    )


def test_unexpected_json_error_shape_uses_status_text():
    server = Server(httpx.Response(404, json=["nope"]))
    client, _ = make(server)
    with pytest.raises(NotFoundError) as info:
        client.get_task("task-x")
    assert info.value.code == "http_404" and "404" in info.value.message


# --- the key stays secret -------------------------------------------------------------------


def test_key_fingerprint():
    fp = key_fingerprint(KEY)
    assert fp.startswith("k_") and len(fp) == 14 and int(fp[2:], 16) >= 0
    assert fp == key_fingerprint(KEY + "\n") != key_fingerprint(KEY + "x")
    assert KEY not in fp


def test_key_never_in_repr_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    echo = err(401, "unauthorized", f"Invalid token {KEY}")
    server = Server(
        echo,
        err(429, "rate_limit_exceeded", f"slow down {KEY}"),
        httpx.ReadTimeout(f"timed out for {KEY[:4]}"),
        httpx.Response(502, text=f"<html><title>bad {KEY}</title></html>"),
        httpx.Response(500, text=f"plain {KEY}"),
    )
    client, _ = make(server, max_retries=0)
    assert KEY not in repr(client) and KEY not in str(client)
    assert client.fingerprint in repr(client)
    errors = []
    for _ in range(5):
        with pytest.raises(ApiError) as info:
            client.credits()
        errors.append(info.value)
    for e in errors:
        for text in (str(e), repr(e), e.message, e.hint, e.code, str(e.args)):
            assert KEY not in text
    assert "***" in errors[0].message  # the echoed key was redacted, the rest kept
    records = [r for r in caplog.records]
    assert records, "the client should log its requests"
    for r in records:
        assert KEY not in r.getMessage() and KEY not in str(r.args)


def test_logs_method_path_and_status(caplog):
    caplog.set_level(logging.INFO, logger="studio.client")
    client, _ = make(Server(httpx.Response(200, json=TASK)))
    client.get_task("task-1")
    mine = [r.getMessage() for r in caplog.records if r.name == "studio.client"]
    assert mine == ["GET /v1/tasks/task-1 -> 200"]
