"""A server whose database is damaged still starts, answers, and tells every page's visitor in plain words."""

from __future__ import annotations

import httpx
import pytest

from lib import health
from tests.support.browser import wait_idle
from tests.support.server import AppProcess


@pytest.fixture(scope="module")
def damaged_server(tmp_path_factory, chromium_path):
    data = tmp_path_factory.mktemp("damaged")
    (data / "studio.db").write_bytes(b"SQLite format 2\x00" + b"\x07" * 8192)  # a header SQLite refuses
    server = AppProcess(data).start(healthy=False)
    yield server
    server.stop()


def test_health_is_503_and_names_the_database(damaged_server):
    r = httpx.get(f"{damaged_server.url}/api/health")
    assert r.status_code == 503
    assert r.json()["database"] == "damaged" and r.json()["problems"] == [health.DAMAGED]
    assert "how to restore" not in r.text  # the page and the health check say what; the log says how


@pytest.mark.parametrize("path", ["/", "/gallery", "/compare", "/batch"])
def test_every_page_says_so_without_a_traceback(damaged_server, page, path):
    page.goto(f"{damaged_server.url}{path}")
    wait_idle(page)
    page.wait_for_selector("[data-testid='stAlertContentError']")
    text = page.inner_text("[data-testid='stMain']")
    assert health.DAMAGED in text
    assert page.locator("[data-testid='stException']").count() == 0
    assert "DatabaseError" not in page.inner_text("body")


def test_the_log_explains_how_to_restore(damaged_server):
    log = damaged_server.log_path.read_text(errors="replace")
    assert "studio.db" in log and ".recover" in log and "backup" in log
