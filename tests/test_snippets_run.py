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


FAILING = _request().model_copy(update={"prompt": "A boat [fail:content_policy_violation]"})
HAS_CURL = shutil.which("curl") is not None and shutil.which("bash") is not None
HAS_NODE = shutil.which("node") is not None


class Started:
    """A snippet started as written, in a folder of its own; ``finished()`` waits for it to end."""

    def __init__(self, folder: Path, name: str, code: str, argv: list[str]) -> None:
        self.folder = folder
        (folder / name).write_text(code, encoding="utf-8")
        env = {**os.environ, "SEEDANCE_API_KEY": "sk-snippet-test"}
        self.proc = subprocess.Popen(
            [*argv, str(folder / name)],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finished(self) -> subprocess.CompletedProcess:
        stdout, stderr = self.proc.communicate(timeout=RUN_TIMEOUT)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def started(sim, tmp_path_factory):
    """Every snippet of this module, started at once: each spends most of its time waiting
    between polls, as a snippet should, and they wait side by side instead of in turn."""
    base = sim.base_url
    scripts = {
        "python": ("generate.py", as_python(_request(), base), [sys.executable]),
        "failing": ("generate.py", as_python(FAILING, base), [sys.executable]),
    }
    if HAS_CURL:
        scripts["curl"] = ("generate.sh", as_curl(_request(), base), ["bash"])
    if HAS_NODE:
        scripts["node"] = ("generate.mjs", as_node(_request(), base), ["node"])
    runs = {key: Started(tmp_path_factory.mktemp(key), *spec) for key, spec in scripts.items()}
    yield runs
    for run in runs.values():
        if run.proc.poll() is None:
            run.proc.kill()
        run.proc.communicate()


def _succeeded(run: Started) -> subprocess.CompletedProcess:
    out = run.finished()
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _assert_video(path: Path) -> None:
    assert path.is_file(), "the snippet saved no video"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (864, 496)
        assert float(container.duration or 0) / av.time_base == pytest.approx(4, abs=0.5)


def test_python_snippet_submits_polls_and_downloads(started):
    out = _succeeded(started["python"])
    assert "Task ID: task-unified-" in out.stdout and "completed 100%" in out.stdout
    _assert_video(started["python"].folder / OUTPUT)


@pytest.mark.skipif(not HAS_CURL, reason="needs bash and curl")
def test_curl_snippet_submits_polls_and_downloads(started):
    out = _succeeded(started["curl"])
    assert "Task ID: task-unified-" in out.stdout and "completed 100%" in out.stdout
    _assert_video(started["curl"].folder / OUTPUT)


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_node_snippet_submits_polls_and_downloads(started):
    out = _succeeded(started["node"])
    assert "Task ID: task-unified-" in out.stdout
    _assert_video(started["node"].folder / OUTPUT)


def test_a_failed_task_stops_the_script_with_its_error(started):
    out = started["failing"].finished()
    assert out.returncode != 0 and "content_policy_violation" in out.stderr
    assert not (started["failing"].folder / OUTPUT).exists()
