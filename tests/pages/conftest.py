"""Fixtures for the page tests (AppTest runs each page in this process)."""

from __future__ import annotations

import pytest
import streamlit as st

from lib import client as api
from lib.schema import Task


@pytest.fixture
def posts(monkeypatch):
    """Every POST a page sends, answered by a fake provider with a pending task."""
    sent = []

    def create(self, request):
        sent.append(request)
        return Task(id=f"task_{len(sent)}", status="pending")

    monkeypatch.setattr(api.EvolinkClient, "create", create)
    return sent


@pytest.fixture(autouse=True)
def fresh_caches():
    # settings() and store() are cache_resource: without this every test shares the first one's data dir.
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()
