"""A full disk or a damaged database: the page says so in one plain sentence, never with a traceback.

AppTest runs app.py's default page here (its ``switch_page`` runs a page without app.py);
every page behind the real server is checked in ``tests/e2e/test_storage.py``.
"""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from lib import health
from lib.store import Store


def _texts(at) -> str:
    return " ".join(str(e.value) for e in [*at.error, *at.markdown, *at.caption, *at.text])


def test_a_damaged_database_file_is_one_plain_sentence(demo_app):
    (demo_app.data_dir / "studio.db").write_bytes(b"this is not a database, it was overwritten" * 500)
    at = demo_app.open("app.py")
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [health.DAMAGED]
    assert "DatabaseError" not in _texts(at) and "Traceback" not in _texts(at)


@pytest.mark.parametrize(
    ("failure", "sentence"),
    [
        (sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")), health.DISK_FULL),
        (sa.exc.DatabaseError("SELECT", {}, sqlite3.DatabaseError("database disk image is malformed")), health.DAMAGED),
        (OSError(28, "No space left on device"), health.DISK_FULL),
    ],
)
def test_a_store_failing_mid_page_is_one_plain_sentence(demo_app, monkeypatch, failure, sentence):
    ws = demo_app.store.create_workspace("Workshop")

    def fail(self, *args, **kwargs):
        raise failure

    monkeypatch.setattr(Store, "committed_credits", fail)
    at = demo_app.open("app.py", query_params={"ws": ws.id})
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [sentence]


def test_anything_else_still_shows_as_an_error(demo_app, monkeypatch):
    ws = demo_app.store.create_workspace("Workshop")

    def bug(self, *args, **kwargs):
        raise KeyError("a bug, not the disk")

    monkeypatch.setattr(Store, "committed_credits", bug)
    at = demo_app.open("app.py", query_params={"ws": ws.id}, check=False)
    assert at.exception  # a bug is not hidden behind "tell the facilitator"
