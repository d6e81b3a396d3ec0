"""The whole app starts, answers its health check and renders the Studio page."""

import httpx

from tests.support.browser import no_exception, wait_idle


def test_a_fresh_servers_first_request_for_a_page_gets_the_whole_app(app_server, page):
    """Runs first in this module: no script has run yet in this server process."""
    page.goto(f"{app_server.url}/gallery")
    wait_idle(page)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Studio" in nav and "Gallery" in nav and "Compare" in nav
    assert "Demo mode" in page.inner_text("body")
    assert "ws=" in page.url
    no_exception(page)


def test_health_reports_demo_mode_and_running_worker(app_server):
    body = httpx.get(f"{app_server.url}/api/health").json()
    assert {k: body[k] for k in ("status", "mode", "worker", "database", "disk")} == {
        "status": "ok",
        "mode": "demo",
        "worker": "running",
        "database": "ok",
        "disk": "ok",
    }


def test_only_the_app_itself_may_call_its_demo_simulator(app_server):
    for headers in ({}, {"Authorization": "Bearer demo-key-offline-simulator"}, {"Authorization": "Bearer sk-x"}):
        assert httpx.get(f"{app_server.url}/sim/v1/credits", headers=headers).status_code == 401
        body = {"model": "seedance-2.0-fast-text-to-video", "prompt": "A free ride", "duration": 4}
        r = httpx.post(f"{app_server.url}/sim/v1/videos/generations", json=body, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_studio_renders_without_exception(app_server, page):
    page.goto(app_server.url)
    wait_idle(page)
    page.wait_for_selector(".st-key-prompt")
    assert "Demo mode" in page.inner_text("body")
    no_exception(page)


def test_media_route_serves_no_file_for_a_bad_token(app_server):
    for token in ("..%2f..%2fetc%2fpasswd", "short", "A" * 32):
        r = httpx.get(f"{app_server.url}/api/media/{token}")
        assert r.status_code in (400, 404), token
        assert "root:" not in r.text
