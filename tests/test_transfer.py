"""Request bodies read with a cap, and files whose malformed ranges get the whole file (Starlette, no server)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lib.transfer import BodyTooLarge, WholeFileOnBadRange, read_capped
from tests.support.simulator import TestClient

LIMIT = 1000


async def echo(request):
    try:
        body = await read_capped(request, LIMIT)
    except BodyTooLarge as exc:
        return PlainTextResponse(str(exc), status_code=413)
    return Response(str(len(body)))


@pytest.fixture
def client(tmp_path):
    (tmp_path / "f.bin").write_bytes(bytes(range(256)) * 4)

    async def file(request):
        return WholeFileOnBadRange(tmp_path / "f.bin")

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/f", file)])
    with TestClient(app) as c:
        yield c


def test_a_body_within_the_cap_is_read_whole(client):
    assert client.post("/echo", content=b"x" * LIMIT).text == str(LIMIT)


def test_a_declared_length_over_the_cap_is_refused(client):
    r = client.post("/echo", content=b"x" * (LIMIT + 1))
    assert r.status_code == 413 and "larger than 1000 bytes" in r.text


def test_a_body_without_a_declared_length_is_refused_once_it_passes_the_cap(client):
    def chunks():
        for _ in range(100):
            yield b"y" * 300

    assert client.post("/echo", content=chunks()).status_code == 413


@pytest.mark.parametrize(
    ("value", "status", "size"),
    [("bytes=5-2", 200, 1024), ("bytes=x", 200, 1024), ("bytes=0-9", 206, 10), ("bytes=2000-3000", 416, None)],
)
def test_ranges(client, value, status, size):
    r = client.get("/f", headers={"Range": value})
    assert r.status_code == status
    if size is not None:
        assert len(r.content) == size
