"""/api/uploads/<token> on the real server: the file for 24 h, while a run may need it, and nothing else."""

from __future__ import annotations

import io
import time

import httpx
import pytest
from PIL import Image

from lib import uploads
from lib.schema import GenerationRequest
from lib.store import Store
from tests.support.server import SERVER_GROUP

# The session's app server (``studio_server``), shared with tests/test_server.py: under
# `make test-fast` these tests run in the process that already has it.
pytestmark = pytest.mark.xdist_group(SERVER_GROUP)


@pytest.fixture
def server(studio_server):
    return studio_server


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _upload(server, *, now: float | None = None) -> tuple[uploads.Upload, bytes]:
    data = _png()
    return uploads.save(server.data_dir, data, "mine.png", uploads.inspect(data, "mine.png", "image"), now=now), data


def test_an_upload_is_served_with_its_type_and_never_cached(server):
    up, data = _upload(server)
    r = httpx.get(f"{server.url}/api/uploads/{up.token}", timeout=10)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "image/png" and "no-store" in r.headers["cache-control"]
    assert "mine.png" not in r.headers.get("content-disposition", "")  # the uploaded name is never used


@pytest.mark.parametrize("path", ["A" * 32, "not-a-token", "..%2Fstudio.db", "A" * 32 + ".json"])
def test_anything_but_a_stored_token_is_not_found(server, path):
    assert httpx.get(f"{server.url}/api/uploads/{path}", timeout=10).status_code in (400, 404)


def test_a_link_older_than_24_hours_is_gone(server):
    up, _ = _upload(server, now=time.time() - uploads.TTL - 5)
    assert httpx.get(f"{server.url}/api/uploads/{up.token}", timeout=10).status_code == 404


def test_the_link_stops_once_every_run_using_it_has_finished(server):
    up, _ = _upload(server)
    url = f"{server.url}/api/uploads/{up.token}"
    db = Store(server.data_dir)
    ws = db.create_workspace("Uploads")
    req = GenerationRequest(model="seedance-2.0-image-to-video", prompt="The kite flies", image_urls=[url])
    run = db.create_run(ws.id, req, 1.0, True, "k")
    assert httpx.get(url, timeout=10).status_code == 200  # the run is about to be sent: the provider needs it
    db.mark_submit_failed(run.id, "invalid_request", "refused")
    assert httpx.get(url, timeout=10).status_code == 404
    # A remix that sends the same link again opens it again (within the 24 hours).
    db.create_run(ws.id, req, 1.0, True, "k")
    assert httpx.get(url, timeout=10).status_code == 200
