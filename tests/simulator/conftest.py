"""Shared fixtures for the simulator tests: a running simulator, an HTTP client, the OpenAPI schemas."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml

from lib.simulator import serve_in_thread

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2 for its TestClient; httpx is what we have.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: F401  (re-exported for the tests)

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "openapi-text-to-video-and-task-query.md"
AUTH = {"Authorization": "Bearer sk-test"}
MODEL = "seedance-2.0-text-to-video"


def openapi_components() -> dict:
    """``components.schemas`` of every OpenAPI block in the seed, merged (same names agree)."""
    text = SEED.read_text(encoding="utf-8")
    schemas: dict = {}
    for block in re.findall(r"^`{3,}yaml[^\n]*\n(.*?)^`{3,}\s*$", text, flags=re.S | re.M):
        doc = yaml.safe_load(block)
        schemas.update(doc.get("components", {}).get("schemas", {}))
    return schemas


@pytest.fixture(scope="session")
def validate():
    """validate(name, instance): jsonschema against the seed's schema ``name``, $refs resolved."""
    schemas = openapi_components()
    assert {"VideoGenerationResponse", "TaskDetailResponse", "ErrorResponse"} <= set(schemas)

    def check(name: str, instance) -> None:
        root = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
        jsonschema.Draft202012Validator(root).validate(instance)

    return check


@pytest.fixture(scope="module")
def sim():
    handle = serve_in_thread(port=0, speed=1000)
    yield handle
    handle.stop()


@pytest.fixture()
def http(sim):
    with httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=10) as client:
        yield client


def create(http: httpx.Client, **body) -> dict:
    payload = {"model": MODEL, "prompt": "A lighthouse at dusk", "duration": 4, "quality": "480p", **body}
    resp = http.post("/v1/videos/generations", json=payload)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_done(http: httpx.Client, task_id: str, timeout: float = 30) -> dict:
    """Poll until the task is completed or failed; returns its last body."""
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/v1/tasks/{task_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, f"task still {body['status']} after {timeout} s"
        time.sleep(0.05)


def probe(path: str) -> dict:
    """Size, frame rate, durations and streams of an MP4, read with PyAV."""
    import av

    with av.open(path) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video=0))
        return {
            "size": (video.codec_context.width, video.codec_context.height),
            "fps": float(video.average_rate),
            "frames": frames,
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "video_seconds": float(video.duration * video.time_base),
            "audio": audio is not None,
            "audio_codec": audio.codec_context.name if audio else None,
            "audio_seconds": float(audio.duration * audio.time_base) if audio else None,
        }
