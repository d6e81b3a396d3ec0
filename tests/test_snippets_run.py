"""Copy as code, to the end: each snippet, run as written against the simulator, leaves a playable MP4."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from lib.schema import GenerationRequest
from lib.simulator import serve_in_thread
from lib.snippets import OUTPUT, as_curl, as_node, as_python

# Under `make test-fast` (xdist's loadgroup) these tests run in one process:
# the simulator is started once, not once per process.
pytestmark = pytest.mark.xdist_group("snippet-simulator")

RUN_TIMEOUT = 180  # generous: the machine may be busy; the snippet itself polls every few seconds


@pytest.fixture(scope="module")
def sim():
    handle = serve_in_thread(port=0, speed=1000)
    yield handle
    handle.stop()


def _request() -> GenerationRequest:
    return GenerationRequest(
        model="seedance-2.0-fast-text-to-video",
        prompt='A paper boat on a puddle; she says "It\'s mine" — 小船',
        duration=4,
        quality="480p",
        aspect_ratio="16:9",
    )


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEEDANCE_API_KEY": "sk-snippet-test"}
    out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _assert_video(path: Path) -> None:
    assert path.is_file(), "the snippet saved no video"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (864, 496)
        assert float(container.duration or 0) / av.time_base == pytest.approx(4, abs=0.5)


def test_python_snippet_submits_polls_and_downloads(sim, tmp_path):
    script = tmp_path / "generate.py"
    script.write_text(as_python(_request(), sim.base_url), encoding="utf-8")
    out = _run([sys.executable, str(script)], tmp_path)
    assert "Task ID: task-unified-" in out.stdout and "completed 100%" in out.stdout
    _assert_video(tmp_path / OUTPUT)


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs bash and curl")
def test_curl_snippet_submits_polls_and_downloads(sim, tmp_path):
    script = tmp_path / "generate.sh"
    script.write_text(as_curl(_request(), sim.base_url), encoding="utf-8")
    out = _run(["bash", str(script)], tmp_path)
    assert "Task ID: task-unified-" in out.stdout and "completed 100%" in out.stdout
    _assert_video(tmp_path / OUTPUT)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_node_snippet_submits_polls_and_downloads(sim, tmp_path):
    script = tmp_path / "generate.mjs"
    script.write_text(as_node(_request(), sim.base_url), encoding="utf-8")
    out = _run(["node", str(script)], tmp_path)
    assert "Task ID: task-unified-" in out.stdout
    _assert_video(tmp_path / OUTPUT)


def test_a_failed_task_stops_the_script_with_its_error(sim, tmp_path):
    request = _request().model_copy(update={"prompt": "A boat [fail:content_policy_violation]"})
    script = tmp_path / "generate.py"
    script.write_text(as_python(request, sim.base_url), encoding="utf-8")
    env = {**os.environ, "SEEDANCE_API_KEY": "sk-snippet-test"}
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert out.returncode != 0 and "content_policy_violation" in out.stderr
    assert not (tmp_path / OUTPUT).exists()
