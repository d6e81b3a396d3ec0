"""The whole app (`streamlit run server.py`, demo mode) for the browser tests of one module."""

from __future__ import annotations

import pytest

from tests.support.server import AppProcess


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, chromium_path):
    server = AppProcess(tmp_path_factory.mktemp("studio-data")).start()
    yield server
    server.stop()
