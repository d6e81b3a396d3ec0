"""Fixtures every test directory may use, and the markers that split the suite.

- ``browser`` marks every test that drives Chromium (all of ``tests/e2e`` and any test
  using the ``browser``, ``page``, ``app_server`` or ``chromium_path`` fixture);
  ``reliability`` marks ``tests/reliability``. ``make test-fast`` leaves both out.
- ``db_url`` runs a test once on SQLite and once on PostgreSQL (a cluster the session
  starts itself, ``tests/support/postgres.py``; a fresh database per test);
  ``pg_url`` is PostgreSQL only.
- ``demo_app`` is the one way a page test runs the app (AppTest, demo mode, its own
  data dir) against ``provider``, a fake Evolink API given to the app as an httpx
  transport through its settings.

One sync Playwright per session: a second one inside the same run would find the
first one's event loop and refuse to start.
"""

from __future__ import annotations

import gc
import os
import re
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support import postgres
from tests.support.apptest import DemoApp
from tests.support.browser import CHROMIUM_ARGS, CSP_WORDS, MISSING, TIMEOUT_MS, find_chromium, watch_contexts
from tests.support.database import migrated
from tests.support.provider import FakeProvider

TESTS = Path(__file__).resolve().parent
BROWSER_FIXTURES = {"browser", "page", "app_server", "chromium_path"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path)).resolve()
        if (TESTS / "e2e") in path.parents or BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        if (TESTS / "reliability") in path.parents:
            item.add_marker(pytest.mark.reliability)


def pytest_configure(config: pytest.Config) -> None:
    # The tests keep Streamlit, SQLAlchemy, PyAV and every lib module loaded: hundreds of
    # thousands of long-lived objects that the cycle collector would otherwise walk again
    # every few hundred allocations, about a tenth of a test process's CPU.
    gc.set_threshold(50_000, 20, 50)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()  # what the imports and collection made lives until the end: never scanned again


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(MISSING)  # in CI the browser tests must run, never skip
    pytest.skip(MISSING)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        watch_contexts(b)  # every page counts its script runs, for tests/support/browser.rerun
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser, request):
    """A fresh page; the test fails if anything on it broke the app's Content-Security-Policy.

    When the test fails, a screenshot, the page's HTML and its console go to a folder
    named in the output (under the system's temporary directory, kept until removed).
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    violations: list[str] = []
    console: list[str] = []
    pg.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    pg.on("console", lambda msg: violations.append(msg.text) if CSP_WORDS in msg.text else None)
    yield pg
    if request.node.stash.get(_FAILED, False):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
        keep = Path(tempfile.gettempdir()) / "studio-failed-pages" / f"{name}-{int(time.time())}"
        keep.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(keep / "page.png"), full_page=True)
            (keep / "page.html").write_text(pg.content(), encoding="utf-8")
        except Exception as exc:  # the page may be gone; the console is still worth keeping
            console.append(f"(no screenshot: {exc})")
        (keep / "console.txt").write_text("\n".join(console), encoding="utf-8")
        print(f"\nThe failed page is kept in {keep}")
    context.close()
    assert not violations, f"the page broke the Content-Security-Policy: {violations[:3]}"


# --- the databases -----------------------------------------------------------------------------


_early_cluster: Future[postgres.Cluster] | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """In an xdist process, start its PostgreSQL while the tests are being collected.

    Such a process is handed a share of the whole suite, PostgreSQL tests among them;
    a run in one process starts the cluster when a test first asks for it.
    """
    global _early_cluster
    bin_dir = postgres.find_bin_dir()
    if os.environ.get("PYTEST_XDIST_WORKER") and bin_dir is not None:
        _early_cluster = ThreadPoolExecutor(1, thread_name_prefix="studio-pg-start").submit(_start_cluster, bin_dir)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _early_cluster is not None and _early_cluster.exception() is None:
        _early_cluster.result().stop()  # a no-op when the fixture stopped it already


def _start_cluster(bin_dir: Path) -> postgres.Cluster:
    from tests.support.server import free_port

    # Only the server: migrating the template on this thread could overlap a migration
    # a test runs meanwhile, and Alembic runs one at a time per process (alembic.op).
    return postgres.Cluster(bin_dir, free_port()).start()


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL per test session (per xdist process)."""
    bin_dir = postgres.find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail(postgres.MISSING)  # in CI the PostgreSQL tests must run, never skip
        pytest.skip(postgres.MISSING)
    cluster = _early_cluster.result() if _early_cluster is not None else _start_cluster(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh PostgreSQL database at the code's schema for this test (SQLAlchemy URL), dropped afterwards."""
    from lib.store import dispose_engines

    url = pg_cluster.fresh_database()
    yield url
    dispose_engines()
    pg_cluster.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The store's database, once per kind: a SQLite file in ``tmp_path``, then a fresh PostgreSQL database.

    Both start at the code's schema, copied from a database migrated once (``tests.support.database``
    and ``Cluster.migrated_template``).
    """
    if request.param == "sqlite":
        from lib.store.engine import database_url

        yield database_url(migrated(tmp_path))
        return
    yield request.getfixturevalue("pg_url")


# --- the app as a real server (no browser) -------------------------------------------------------


@pytest.fixture(scope="session")
def studio_sim(tmp_path_factory):
    """A provider simulator in this process: ``studio_server``'s provider (``tests.support.server.SERVER_KEY``)."""
    from lib.simulator import serve_in_thread

    handle = serve_in_thread(port=0, speed=40, data_dir=tmp_path_factory.mktemp("provider"))
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory, studio_sim):
    """``streamlit run server.py`` in live mode against ``studio_sim``, started once for every module that uses it.

    Such a module marks itself ``pytest.mark.xdist_group(tests.support.server.SERVER_GROUP)``, so that under
    ``make test-fast`` its tests run in the process that already has the server.
    """
    from tests.support.server import SERVER_KEY, AppProcess

    env = {"EVOLINK_API_KEY": SERVER_KEY, "EVOLINK_BASE_URL": studio_sim.base_url}
    app = AppProcess(tmp_path_factory.mktemp("studio-server"), env=env).start()
    yield app
    app.stop()


# --- the app under AppTest ----------------------------------------------------------------------


@pytest.fixture
def provider() -> FakeProvider:
    """A fake Evolink API: ``provider.posts`` is every generation the app asked for."""
    return FakeProvider()


@pytest.fixture
def demo_app(tmp_path, provider):
    """``demo_app.open("pages/studio.py")`` -> AppTest; data in ``tmp_path``, every API call to ``provider``."""
    with DemoApp(tmp_path, provider) as app:
        yield app
