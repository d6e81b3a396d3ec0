"""Talking to ``lib.simulator`` in tests, and checking its answers against the provider's OpenAPI schemas.

The schemas are a copy in ``tests/data`` (its first lines say where from): the tests
read nothing outside the repository.
"""

from __future__ import annotations

import concurrent.futures as cf
import warnings
from pathlib import Path

import httpx
import jsonschema
import yaml

from tests.support.waiting import wait_until

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2 for its TestClient; httpx is what we have.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = [
    "AUTH",
    "MODEL",
    "SCHEMAS",
    "ManualPool",
    "TestClient",
    "create",
    "openapi_schemas",
    "probe",
    "validator",
    "wait_done",
]

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "evolink-openapi-schemas.yaml"
AUTH = {"Authorization": "Bearer sk-test"}
MODEL = "seedance-2.0-text-to-video"


class ManualPool:
    """A render pool whose renders finish only when the test says so (``finish(n)``), in the order they started.

    Its ``submit`` stands in for the process pool's behind ``lib.simulator.queue.RenderQueue``.
    """

    def __init__(self) -> None:
        self.started: list[tuple[object, cf.Future]] = []

    def submit(self, fn, job) -> cf.Future:
        future: cf.Future = cf.Future()
        self.started.append((job, future))
        return future

    @property
    def jobs(self) -> list:
        return [job for job, _ in self.started]

    def finish(self, n: int = 1) -> None:
        for _job, future in [pair for pair in self.started if not pair[1].done()][:n]:
            future.set_result(None)

    def drain(self) -> None:
        """Finish renders as they start (each end may start the next) until none is left running."""
        while any(not future.done() for _job, future in self.started):
            self.finish()


def openapi_schemas() -> dict:
    """The provider's ``components.schemas`` (response shapes), by name."""
    return yaml.safe_load(SCHEMAS.read_text(encoding="utf-8"))["components"]["schemas"]


def validator():
    """validate(name, instance): jsonschema against the provider's schema ``name``, $refs resolved."""
    schemas = openapi_schemas()

    def validate(name: str, instance) -> None:
        root = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
        jsonschema.Draft202012Validator(root).validate(instance)

    return validate


def create(http: httpx.Client, **body) -> dict:
    """POST one generation (a 4 s 480p text-to-video unless ``body`` says otherwise); returns the task."""
    payload = {"model": MODEL, "prompt": "A lighthouse at dusk", "duration": 4, "quality": "480p", **body}
    resp = http.post("/v1/videos/generations", json=payload)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_done(http: httpx.Client, task_id: str, timeout: float = 60) -> dict:
    """Poll until the task is completed or failed; returns its last body."""
    last: dict = {}

    def finished() -> dict | None:
        last.update(http.get(f"/v1/tasks/{task_id}").json())
        return dict(last) if last["status"] in ("completed", "failed") else None

    return wait_until(finished, timeout, message=lambda: f"task still {last.get('status')}")


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
