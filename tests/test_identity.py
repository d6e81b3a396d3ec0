"""Participant identity: the cookie the middleware gives a browser, and what counts as a valid id."""

from __future__ import annotations

import doctest

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from lib import identity
from lib.identity import COOKIE, IdentityCookie, from_cookie_header, new_participant_id, valid_participant_id
from tests.support.simulator import TestClient  # quiet about httpx2


def test_doctest():
    result = doctest.testmod(identity)
    assert result.attempted and not result.failed


def _client(base_url: str = "http://studio.test") -> TestClient:
    async def page(request):
        return HTMLResponse("<html></html>")

    async def api(request):
        return JSONResponse({"ok": True})

    app = IdentityCookie(Starlette(routes=[Route("/", page), Route("/api/health", api)]))
    return TestClient(app, base_url=base_url)


def test_a_browser_without_an_id_gets_one_on_the_page_and_keeps_it():
    with _client() as http:
        first = http.get("/")
        header = first.headers["set-cookie"]
        pid = from_cookie_header(header.split(";")[0])
        assert valid_participant_id(pid)
        assert "Path=/" in header and "Max-Age=31536000" in header and "HttpOnly" in header
        assert "SameSite=Lax" in header and "Secure" not in header
        assert http.cookies[COOKIE] == pid
        again = http.get("/")  # the browser sends it back: nothing new
        assert "set-cookie" not in again.headers


def test_only_html_pages_set_it_and_https_makes_it_secure():
    with _client() as http:
        assert "set-cookie" not in http.get("/api/health").headers
    with _client("https://studio.test") as http:
        assert "Secure" in http.get("/").headers["set-cookie"]
    with _client() as http:  # behind a TLS proxy
        assert "Secure" in http.get("/", headers={"x-forwarded-proto": "https"}).headers["set-cookie"]


@pytest.mark.parametrize("bad", ["alice", "x" * 200, "../../etc", "a b c d e f g h i j k l m n", ""])
def test_a_forged_or_malformed_id_is_replaced(bad):
    with _client() as http:
        response = http.get("/", headers={"cookie": f"{COOKIE}={bad}"})
        fresh = from_cookie_header(response.headers["set-cookie"].split(";")[0])
        assert valid_participant_id(fresh) and fresh != bad


def test_ids_are_random_and_url_safe():
    ids = {new_participant_id() for _ in range(200)}
    assert len(ids) == 200 and all(valid_participant_id(i) for i in ids)
    assert not valid_participant_id(None) and not valid_participant_id(123)
    assert from_cookie_header('other=1; studio_pid="bad value') is None
