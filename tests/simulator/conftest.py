"""Fixtures for the simulator tests: one running simulator per module, an HTTP client, the schema check."""

from __future__ import annotations

import httpx
import pytest

from lib.simulator import serve_in_thread
from tests.support.simulator import AUTH, openapi_schemas, validator


@pytest.fixture(scope="session")
def validate():
    """validate(name, instance): jsonschema against the provider's response schema ``name``."""
    assert {"VideoGenerationResponse", "TaskDetailResponse", "ErrorResponse"} <= set(openapi_schemas())
    return validator()


@pytest.fixture(scope="module")
def sim():
    handle = serve_in_thread(port=0, speed=1000)
    yield handle
    handle.stop()


@pytest.fixture()
def http(sim):
    with httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=30) as client:
        yield client
