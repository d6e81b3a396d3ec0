"""The simulator answers like the documented API: shapes, ids, status codes, errors, lifecycle, billing."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.routing import Mount

from lib import pricing
from lib.schema import GenerationRequest, error_messages
from lib.settings import DEFAULT_DEMO_SPEED, override
from lib.simulator import create_app
from lib.simulator.engine import TASK_ERRORS, adaptive_ratio, base_seconds
from tests.support.simulator import AUTH, MODEL, TestClient, create, probe, wait_done
from tests.support.waiting import wait_until

# Under `make test-fast` (xdist's loadgroup) these tests run in one process:
# the module's simulator is started once, not once per process.
pytestmark = pytest.mark.xdist_group("api-simulator")

ID = re.compile(r"^task-unified-\d{10}-[a-z0-9]{8}$")


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clocked(tmp_path):
    """A simulator at real speed on a fake clock, behind Starlette's TestClient."""
    clock = FakeClock()
    app = create_app(speed=1, data_dir=tmp_path, clock=clock, link_ttl=3600)
    with TestClient(app, headers=AUTH) as client:
        yield app, client, clock
    app.close()


# --- create --------------------------------------------------------------------------------


def test_create_answers_a_pending_task_in_the_documented_shape(http, validate):
    body = create(http, duration=8, quality="720p")
    validate("VideoGenerationResponse", body)
    assert ID.match(body["id"])
    assert (body["status"], body["progress"], body["object"], body["type"]) == (
        "pending",
        0,
        "video.generation.task",
        "video",
    )
    assert body["model"] == MODEL
    expected = pricing.estimate(
        GenerationRequest(model=MODEL, prompt="A lighthouse at dusk", duration=8, quality="720p")
    ).credits
    assert body["usage"] == {
        "billing_rule": "per_second",
        "credits_reserved": pytest.approx(expected),
        "user_group": "default",
    }
    info = body["task_info"]
    assert info["can_cancel"] is True and info["video_duration"] == 8
    assert isinstance(info["estimated_time"], int) and info["estimated_time"] >= 1


def test_task_ids_are_unique_and_never_file_names(sim, http):
    ids = {create(http)["id"] for _ in range(3)}
    assert len(ids) == 3
    for task_id in ids:
        wait_done(http, task_id)
    names = [p.name for p in sim.app.engine.data_dir.iterdir() if p.is_file()]
    assert names and not any(tid in name for tid in ids for name in names)
    assert all(re.fullmatch(r"[0-9a-f]{32}\.mp4", n) for n in names)
    records = [p.name for p in (sim.app.engine.data_dir / "tasks").iterdir()]
    assert len(records) >= 3 and all(re.fullmatch(r"[0-9a-f]{32}\.json", n) for n in records)


INVALID = [
    {"model": "seedance-9", "prompt": "x"},
    {"model": MODEL, "prompt": "   "},
    {"model": MODEL, "prompt": "x", "duration": 3},
    {"model": MODEL, "prompt": "x", "duration": "8"},
    {"model": MODEL, "prompt": "x", "quality": "4k"},
    {"model": "seedance-2.0-fast-text-to-video", "prompt": "x", "quality": "1080p"},
    {"model": MODEL, "prompt": "x", "aspect_ratio": "2:1"},
    {"model": MODEL, "prompt": "x", "generate_audio": "yes"},
    {"model": MODEL, "prompt": "x", "colour": "red"},
    {"model": MODEL, "prompt": "x", "image_urls": ["https://example.com/a.png"]},
    {"model": "seedance-2.0-mini-text-to-video", "prompt": "x", "model_params": {"web_search": True}},
    {"model": MODEL, "prompt": "x", "callback_url": "http://example.com/hook"},
    {"model": "seedance-2.0-reference-to-video", "prompt": "x", "audio_urls": ["https://example.com/a.mp3"]},
    {"prompt": "x"},
]


@pytest.mark.parametrize("body", INVALID, ids=lambda b: ",".join(sorted(b)) + ":" + str(b.get("model", ""))[-12:])
def test_every_schema_rule_is_a_400_with_the_plain_message(http, validate, body):
    with pytest.raises(ValidationError) as caught:
        GenerationRequest.from_payload(body)
    field, message = next(iter(error_messages(caught.value).items()))
    resp = http.post("/v1/videos/generations", json=body)
    assert resp.status_code == 400
    validate("ErrorResponse", resp.json())
    assert resp.json() == {
        "error": {"code": "invalid_request", "message": message, "type": "invalid_request_error", "param": field}
    }


@pytest.mark.parametrize(
    "content", [b"not json", b"[1, 2]", b'{"model": "x", "prompt": "y", "model_params": {"seed": 1}}']
)
def test_a_body_that_is_not_a_request_object_is_a_400(http, content):
    resp = http.post("/v1/videos/generations", content=content, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("header", [None, "Basic c2s6dGVzdA==", "Bearer", "Bearer two words", "sk-test"])
@pytest.mark.parametrize(
    "method,path",
    [("POST", "/v1/videos/generations"), ("GET", "/v1/tasks/task-unified-1-abcdefgh"), ("GET", "/v1/credits")],
)
def test_missing_or_malformed_bearer_token_is_401(sim, validate, header, method, path):
    import httpx

    headers = {"Authorization": header} if header is not None else {}
    resp = httpx.request(method, sim.base_url + path, headers=headers, json={"model": MODEL, "prompt": "x"})
    assert resp.status_code == 401
    validate("ErrorResponse", resp.json())
    assert resp.json()["error"] == {
        "code": "unauthorized",
        "message": "Invalid or expired token",
        "type": "authentication_error",
    }


def test_insufficient_balance_is_402(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path, balance=10)
    with TestClient(app, headers=AUTH) as client:
        resp = client.post("/v1/videos/generations", json={"model": MODEL, "prompt": "x", "duration": 4})
    app.close()
    assert resp.status_code == 402 and resp.json()["error"]["code"] == "insufficient_quota"
    assert not app.engine.tasks


# --- task query ----------------------------------------------------------------------------


@pytest.mark.parametrize("task_id", ["abc", "task-12345", "TASK-UNIFIED-1-abcdefgh"])
def test_task_id_of_the_wrong_form_is_400_invalid_task_id(http, validate, task_id):
    resp = http.get(f"/v1/tasks/{task_id}")
    assert resp.status_code == 400
    validate("ErrorResponse", resp.json())
    err = resp.json()["error"]
    assert (err["code"], err["param"], err["type"]) == ("invalid_task_id", "task_id", "invalid_request_error")
    assert "must start with 'task-unified-'" in err["message"]


def test_unknown_task_is_404_task_not_found(http, validate):
    resp = http.get("/v1/tasks/task-unified-1774857405-zzzzzzzz")
    assert resp.status_code == 404
    validate("ErrorResponse", resp.json())
    assert resp.json()["error"]["code"] == "task_not_found"


def test_lifecycle_is_time_based_with_rising_progress(clocked, validate):
    app, client, clock = clocked
    start = clock.now
    task = client.post(
        "/v1/videos/generations", json={"model": MODEL, "prompt": "A red kite", "duration": 4, "quality": "480p"}
    ).json()
    schedule = base_seconds(4, "480p")  # speed 1: the facts' own time
    assert task["task_info"]["estimated_time"] == round(schedule)
    assert 20 <= schedule <= 45  # the facts: 4-5 s at 480p take 20-45 s

    def at(t: float) -> dict:
        clock.now = start + t
        body = client.get(f"/v1/tasks/{task['id']}").json()
        validate("TaskDetailResponse", body)
        return body

    assert at(0.5)["status"] == "pending"
    seen = [at(t) for t in (schedule * 0.3, schedule * 0.6, schedule * 0.9)]
    assert [b["status"] for b in seen] == ["processing"] * 3
    progress = [b["progress"] for b in seen]
    assert progress == sorted(progress) and 0 < progress[0] < progress[-1] < 100
    assert "results" not in seen[-1]
    assert at(schedule * 0.2)["status"] == "processing"  # polling out of order changes nothing
    app.engine.tasks[task["id"]].render.result(timeout=30)
    done = at(schedule + 1)
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert done["task_info"]["can_cancel"] is False
    assert done["results"][0].startswith("http://testserver/files/") and done["results"][0].endswith(".mp4")


def test_a_late_render_keeps_the_task_processing(clocked):
    app, client, clock = clocked
    task = client.post(
        "/v1/videos/generations", json={"model": MODEL, "prompt": "A slow one", "duration": 4, "quality": "480p"}
    ).json()
    sim_task = app.engine.tasks[task["id"]]
    real = sim_task.render
    from concurrent.futures import Future

    sim_task.render = Future()  # the renderer has not finished yet
    clock.now += 1000
    body = client.get(f"/v1/tasks/{task['id']}").json()
    assert (body["status"], body["progress"]) == ("processing", 99)
    real.result(timeout=30)
    sim_task.render = real
    assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "completed"


def test_estimated_time_is_the_scaled_time():
    for duration, quality, lo, hi in (
        (4, "480p", 20, 45),
        (5, "480p", 20, 45),
        (5, "720p", 30, 90),
        (8, "720p", 30, 90),
        (10, "720p", 60, 180),
        (15, "720p", 60, 180),
    ):
        assert lo <= base_seconds(duration, quality) <= hi
    assert base_seconds(8, "1080p") > base_seconds(8, "720p")
    app = create_app(speed=DEFAULT_DEMO_SPEED)
    try:
        with TestClient(app, headers=AUTH) as client:
            # Told to fail: the estimate is the same, and no 8 s 720p video is rendered for nothing.
            prompt = "x [fail:service_error]"
            body = client.post(
                "/v1/videos/generations",
                json={"model": MODEL, "prompt": prompt, "duration": 8, "quality": "720p", "content_filter": True},
            ).json()
        assert body["task_info"]["estimated_time"] == round(base_seconds(8, "720p") / DEFAULT_DEMO_SPEED)
        assert 10 <= body["task_info"]["estimated_time"] <= 20  # the default demo pace
    finally:
        app.engine.cleanup()


def _default_speed() -> float:
    app = create_app()
    try:
        return app.engine.speed
    finally:
        app.engine.cleanup()


def test_demo_speed_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("STUDIO_DEMO_SPEED", "12.5")
    assert _default_speed() == 12.5
    monkeypatch.setenv("STUDIO_DEMO_SPEED", "fast")
    assert _default_speed() == DEFAULT_DEMO_SPEED
    with override(demo_speed=3.0):
        assert _default_speed() == 3.0


# --- results, expiry, billing --------------------------------------------------------------


def test_result_file_supports_range_and_head(http):
    done = wait_done(http, create(http, prompt="Range please")["id"])
    url = done["results"][0]
    head = http.head(url)
    assert head.status_code == 200 and head.headers["content-type"] == "video/mp4"
    size = int(head.headers["content-length"])
    part = http.get(url, headers={"Range": "bytes=100-199"})
    assert (
        part.status_code == 206
        and part.headers["content-range"] == f"bytes 100-199/{size}"
        and len(part.content) == 100
    )
    whole = http.get(url)
    assert len(whole.content) == size and whole.content[100:200] == part.content
    # moov before mdat: browsers can start playing before the whole file arrives
    assert 0 < whole.content.find(b"moov") < whole.content.find(b"mdat")


def test_unknown_file_is_404(http):
    assert http.get("/files/" + "0" * 32 + ".mp4").status_code == 404


def test_links_expire_with_a_403_like_a_signed_url(clocked):
    app, client, clock = clocked
    task = client.post(
        "/v1/videos/generations", json={"model": MODEL, "prompt": "Expiring", "duration": 4, "quality": "480p"}
    ).json()
    app.engine.tasks[task["id"]].render.result(timeout=30)
    clock.now += 60
    url = client.get(f"/v1/tasks/{task['id']}").json()["results"][0]
    assert client.get(url).status_code == 200
    clock.now += 3600 + 1
    resp = client.get(url)
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("application/xml")
    assert "<Message>Request has expired</Message>" in resp.text


def test_balance_goes_down_once_per_completed_task(http):
    before = http.get("/v1/credits").json()
    assert before["success"] is True and before["message"] == ""
    assert set(before["data"]) == {"token", "user"}
    assert set(before["data"]["token"]) == {"remaining_credits", "unlimited_credits", "used_credits"}
    task = create(http, duration=5)
    wait_done(http, task["id"])
    wait_done(http, task["id"])  # a second look bills nothing more
    after = http.get("/v1/credits").json()["data"]["token"]
    spent = task["usage"]["credits_reserved"]
    assert after["remaining_credits"] == pytest.approx(before["data"]["token"]["remaining_credits"] - spent)
    assert after["used_credits"] == pytest.approx(before["data"]["token"]["used_credits"] + spent)


# --- failure rehearsal ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["content_policy_violation", "generation_timeout"])
def test_fail_trigger_fails_the_task_unbilled(http, validate, code):
    before = http.get("/v1/credits").json()["data"]["token"]["used_credits"]
    task = create(http, prompt=f"A storm [fail:{code}] over the sea")
    done = wait_done(http, task["id"])
    validate("TaskDetailResponse", done)
    assert done["status"] == "failed" and "results" not in done
    assert done["error"] == {"code": code, "message": TASK_ERRORS[code], "type": "task_error"}
    assert http.get("/v1/credits").json()["data"]["token"]["used_credits"] == before


def test_fail_trigger_waits_for_the_processing_period(clocked):
    _app, client, clock = clocked
    task = client.post(
        "/v1/videos/generations", json={"model": MODEL, "prompt": "[fail:service_error]", "duration": 4}
    ).json()
    clock.now += 10
    assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "processing"
    clock.now += 1000
    assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "failed"


def test_unknown_fail_code_is_rejected(http):
    resp = http.post("/v1/videos/generations", json={"model": MODEL, "prompt": "x [fail:gremlins]"})
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "prompt" and "gremlins" in resp.json()["error"]["message"]


# --- adaptive, mounting, stats ---------------------------------------------------------------


def test_adaptive_ratio_follows_the_prompt():
    assert adaptive_ratio("A VERTICAL shot of a waterfall") == "9:16"
    assert adaptive_ratio("竖屏 城市夜景") == "9:16"
    assert adaptive_ratio("a square composition") == "1:1"
    assert adaptive_ratio("a beach") == "16:9"


@pytest.mark.slow
def test_adaptive_vertical_renders_9_16(sim, http):
    done = wait_done(
        http, create(http, prompt="A vertical shot of rain", aspect_ratio="adaptive", quality="480p")["id"]
    )
    token = done["results"][0].rsplit("/", 1)[1]
    info = probe(str(sim.app.engine.data_dir / token))
    assert info["size"] == (496, 864) and info["audio"]  # generate_audio defaults to true


def test_mounted_under_a_prefix_urls_keep_the_prefix(tmp_path):
    sim_app = create_app(speed=1000, data_dir=tmp_path)
    outer = Starlette(routes=[Mount("/sim", app=sim_app)])
    try:
        with TestClient(outer, headers=AUTH) as client:
            task = client.post(
                "/sim/v1/videos/generations",
                json={"model": MODEL, "prompt": "Mounted", "duration": 4, "quality": "480p"},
            ).json()
            sim_app.engine.tasks[task["id"]].render.result(timeout=60)
            done = wait_until(
                lambda: (body := client.get(f"/sim/v1/tasks/{task['id']}").json())["status"] == "completed" and body
            )
            assert done["results"][0].startswith("http://testserver/sim/files/")
            assert client.get(done["results"][0]).status_code == 200
            assert sim_app.state.stats["POST /v1/videos/generations"] == 1
            assert sim_app.engine._pool is not None  # started lazily: the host ran no inner lifespan
    finally:
        sim_app.state.close()
    assert sim_app.engine._pool is None


def test_stats_count_requests_per_method_and_route(tmp_path):
    app = create_app(speed=1000, data_dir=tmp_path)
    with TestClient(app, headers=AUTH) as client:
        client.post("/v1/videos/generations", json={"model": MODEL, "prompt": "x", "duration": 44})
        client.get("/v1/tasks/task-unified-1-aaaaaaaa")
        client.get("/v1/tasks/task-unified-2-bbbbbbbb")
        client.get("/v1/credits")
    app.close()
    assert dict(app.state.stats) == {
        "POST /v1/videos/generations": 1,
        "GET /v1/tasks/{task_id}": 2,
        "GET /v1/credits": 1,
    }


@pytest.mark.parametrize("outcome", ["crash", "cancelled"])
def test_a_failed_render_fails_the_task_unbilled(clocked, outcome):
    from concurrent.futures import Future

    app, client, clock = clocked
    # The render pool is handed a render that the test ends: no render process starts for it.
    render: Future = Future()
    app.engine.renders._submit = lambda fn, job: render
    task = client.post("/v1/videos/generations", json={"model": MODEL, "prompt": "Doomed", "duration": 4}).json()
    if outcome == "crash":
        render.set_exception(RuntimeError("encoder exploded"))
    else:
        assert render.cancel()
    assert app.engine.tasks[task["id"]].render.done()  # the task's own render ended with it
    clock.now += 1000
    body = client.get(f"/v1/tasks/{task['id']}").json()
    assert body["status"] == "failed" and body["error"]["code"] == "service_error"
    assert client.get("/v1/credits").json()["data"]["token"]["used_credits"] == 0
