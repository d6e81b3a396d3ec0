"""Injected faults behave as documented, deterministically, and the lib client copes with them."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from lib.client import ApiConnectionError, EvolinkClient, RateLimitError, ServerError
from lib.schema import GenerationRequest, TaskState
from lib.simulator import create_app, serve_in_thread
from tests.support.simulator import AUTH, MODEL, TestClient
from tests.support.waiting import wait_until

BODY = {"model": MODEL, "prompt": "Fault drill", "duration": 4, "quality": "480p"}
ENDPOINTS = [("POST", "/v1/videos/generations"), ("GET", "/v1/tasks/task-unified-1-abcdefgh"), ("GET", "/v1/credits")]


def _request(client, method: str, path: str):
    return client.request(method, path, json=BODY if method == "POST" else None)


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_rate_429_answers_rate_limited_with_retry_after(tmp_path, validate, method, path):
    app = create_app(speed=1000, data_dir=tmp_path, rate_429=1.0, retry_after=7)
    with TestClient(app, headers=AUTH) as client:
        resp = _request(client, method, path)
    app.close()
    assert resp.status_code == 429 and resp.headers["retry-after"] == "7"
    validate("ErrorResponse", resp.json())
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    assert resp.json()["error"]["type"] == ("evo_api_error" if "/tasks/" in path else "rate_limit_error")
    assert not app.engine.tasks  # a 429 proves nothing was created
    assert app.state.stats["fault 429"] == 1


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_rate_500_answers_internal_error(tmp_path, validate, method, path):
    app = create_app(speed=1000, data_dir=tmp_path, rate_500=1.0)
    with TestClient(app, headers=AUTH) as client:
        resp = _request(client, method, path)
    app.close()
    assert resp.status_code == 500
    validate("ErrorResponse", resp.json())
    assert resp.json()["error"] == {"code": "internal_error", "message": "Internal server error", "type": "api_error"}
    assert app.state.stats["fault 500"] == 1


def test_slow_rate_delays_the_answer(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path, slow_rate=1.0, slow_seconds=0.4)
    with TestClient(app, headers=AUTH) as client:
        started = time.perf_counter()
        resp = client.get("/v1/credits")
        elapsed = time.perf_counter() - started
    app.close()
    assert resp.status_code == 200 and elapsed >= 0.4
    assert app.state.stats["fault slow"] == 1


def test_faults_leave_result_files_alone(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path, rate_500=1.0)
    with TestClient(app) as client:
        assert client.get("/files/" + "a" * 32 + ".mp4").status_code == 404
    app.close()


def test_a_seed_replays_the_same_faults(tmp_path):
    def statuses(seed: int) -> list[int]:
        app = create_app(speed=1000, data_dir=tmp_path, rate_500=0.5, seed=seed)
        with TestClient(app, headers=AUTH) as client:
            out = [client.get("/v1/credits").status_code for _ in range(24)]
        app.close()
        return out

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 500}


def _assert_dropped(url: str) -> None:
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.post(url, json=BODY, headers=AUTH, timeout=10)


def test_drop_rate_closes_the_connection_without_an_answer():
    with serve_in_thread(port=0, speed=1000, drop_rate=1.0) as sim:
        _assert_dropped(sim.base_url + "/v1/videos/generations")
        # The request was handled before the connection dropped: a task may exist and
        # cost money, which is exactly why a POST is never retried blindly.
        assert len(sim.app.engine.tasks) == 1
        assert sim.app.state.stats["fault drop"] == 1


def test_drop_rate_also_drops_when_mounted_behind_another_app(tmp_path):
    sim_app = create_app(speed=1000, data_dir=tmp_path, drop_rate=1.0)
    outer = Starlette(routes=[Mount("/sim", app=sim_app)])
    server = uvicorn.Server(uvicorn.Config(outer, host="127.0.0.1", port=0, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, interval=0.01, message="the outer app did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        _assert_dropped(f"http://127.0.0.1:{port}/sim/v1/videos/generations")
    finally:
        server.should_exit = True
        thread.join(10)
        sim_app.close()


# --- the lib client end to end ------------------------------------------------------------------


def _request_obj(**kw) -> GenerationRequest:
    return GenerationRequest(model=MODEL, prompt="Client drill: a paper boat", duration=4, quality="480p", **kw)


def test_client_end_to_end():
    with serve_in_thread(port=0, speed=1000) as sim, EvolinkClient(api_key="sk-test", base_url=sim.base_url) as client:
        start = client.credits().remaining
        task = client.create(_request_obj(generate_audio=False))
        assert task.state is TaskState.PENDING and task.estimated_time >= 1
        task = wait_until(lambda: (t := client.get_task(task.id)).state.terminal and t)
        assert task.state is TaskState.COMPLETED and task.video_url.startswith(sim.base_url + "/files/")
        assert httpx.get(task.video_url).status_code == 200
        assert client.credits().remaining == pytest.approx(start - task.credits_reserved)
        assert sim.app.state.stats["POST /v1/videos/generations"] == 1


def test_client_retries_a_429_post_and_gives_up():
    with serve_in_thread(port=0, speed=1000, rate_429=1.0, retry_after=1) as sim:
        sleeps: list[float] = []
        with EvolinkClient(api_key="sk-test", base_url=sim.base_url, sleep=sleeps.append) as client:
            with pytest.raises(RateLimitError):
                client.create(_request_obj())
            posts = sim.app.state.stats["POST /v1/videos/generations"]
            assert posts == client.max_retries + 1 and sleeps == [1.0] * client.max_retries


def test_client_never_repeats_a_post_after_a_500_or_a_drop():
    for faults, error in (({"rate_500": 1.0}, ServerError), ({"drop_rate": 1.0}, ApiConnectionError)):
        with serve_in_thread(port=0, speed=1000, **faults) as sim:
            with EvolinkClient(api_key="sk-test", base_url=sim.base_url, sleep=lambda s: None) as client:
                with pytest.raises(error):
                    client.create(_request_obj())
            assert sim.app.state.stats["POST /v1/videos/generations"] == 1


def test_client_retries_gets_through_500s(tmp_path):
    with serve_in_thread(port=0, speed=1000, rate_500=1.0) as sim:
        with EvolinkClient(api_key="sk-test", base_url=sim.base_url, sleep=lambda s: None) as client:
            with pytest.raises(ServerError):
                client.credits()
            assert sim.app.state.stats["GET /v1/credits"] == client.max_retries + 1
