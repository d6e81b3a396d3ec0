"""What the server says about its own storage: damaged databases, full disks, and the words for each."""

from __future__ import annotations

import errno
import sqlite3

import pytest
import sqlalchemy as sa

from lib import health
from lib.settings import load_settings


@pytest.fixture(autouse=True)
def fresh_checks():
    health.forget()
    yield
    health.forget()


def damage_pages(path) -> None:
    """Overwrite the middle of a SQLite file: the header stays readable, some pages do not."""
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, 3 * page):
        data[offset + 100 : offset + 900] = b"\xff" * 800
    path.write_bytes(bytes(data))


def a_database(path, rows: int = 3000) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("CREATE INDEX t_text ON t(text)")
    conn.executemany("INSERT INTO t (text) VALUES (?)", [(f"row {i} " * 20,) for i in range(rows)])
    conn.commit()
    conn.close()


# --- what an exception means ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (sqlite3.DatabaseError("database disk image is malformed"), "damaged"),
        (sqlite3.DatabaseError("file is not a database"), "damaged"),
        (sa.exc.DatabaseError("SELECT", {}, sqlite3.DatabaseError("file is not a database")), "damaged"),
        (sa.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("database or disk is full")), "full"),
        (sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error")), "unreadable"),
        (OSError(errno.ENOSPC, "No space left on device"), "full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "full"),
        (sa.exc.OperationalError("x", {}, sqlite3.OperationalError("database is locked")), None),
        (ValueError("file is not a database"), None),  # words alone are not enough: it must come from storage
        (KeyError("runs"), None),
    ],
)
def test_what_a_storage_failure_means(exc, kind):
    assert health.kind(exc) == kind
    assert (health.trouble(exc) is None) == (kind is None)


def test_the_cause_of_a_wrapped_error_counts():
    try:
        try:
            raise sqlite3.DatabaseError("database disk image is malformed")
        except sqlite3.DatabaseError as inner:
            raise RuntimeError("listing runs failed") from inner
    except RuntimeError as outer:
        assert health.trouble(outer) == health.DAMAGED


def test_the_sentences_are_plain_and_name_who_to_tell():
    for sentence in (health.DAMAGED, health.DISK_FULL, health.UNREADABLE):
        assert sentence.endswith("Tell the facilitator.") and "Error" not in sentence and "sqlite" not in sentence


# --- checks -------------------------------------------------------------------------------------------


def test_a_missing_or_healthy_database_is_ok(tmp_path):
    assert health.database(f"sqlite:///{tmp_path / 'none.db'}").ok
    a_database(tmp_path / "good.db")
    assert health.database(f"sqlite:///{tmp_path / 'good.db'}") == health.Part(True, "ok")


def test_a_damaged_header_is_found(tmp_path):
    (tmp_path / "bad.db").write_bytes(b"this is not a database at all" * 200)
    part = health.database(f"sqlite:///{tmp_path / 'bad.db'}")
    assert (part.ok, part.state, part.detail) == (False, "damaged", health.DAMAGED)


def test_damaged_pages_behind_a_good_header_are_found(tmp_path):
    path = tmp_path / "pages.db"
    a_database(path)
    damage_pages(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the header still opens
    conn.close()
    part = health.database(f"sqlite:///{path}")
    assert (part.ok, part.state) == (False, "damaged")


def test_a_check_is_reused_for_a_few_seconds(tmp_path):
    path = tmp_path / "later.db"
    url = f"sqlite:///{path}"
    a_database(path)
    assert health.database(url, now=100.0).ok
    damage_pages(path)
    assert health.database(url, now=100.0 + health.CHECK_EVERY / 2).ok  # cached
    assert not health.database(url, now=100.0 + health.CHECK_EVERY + 1).ok


def test_the_disk_floor(tmp_path):
    part, free = health.disk(tmp_path, 0)
    assert part.ok and free > 0
    part, _ = health.disk(tmp_path / "not" / "made" / "yet", 2**62)
    assert (part.ok, part.state, part.detail) == (False, "full", health.DISK_FULL)


def test_the_report_is_not_ok_when_either_fails(tmp_path):
    (tmp_path / "studio.db").write_bytes(b"garbage" * 1000)
    settings = load_settings(env={"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_MIN_FREE_BYTES": "0"}, secrets_path=None)
    body = health.check(settings, mode="demo").as_json()
    assert body["status"] == "error" and body["database"] == "damaged" and body["disk"] == "ok"
    assert body["problems"] == [health.DAMAGED] and body["mode"] == "demo"
    (tmp_path / "studio.db").unlink()
    health.forget()
    full = load_settings(env={"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_MIN_FREE_BYTES": str(2**62)}, secrets_path=None)
    body = health.check(full).as_json()
    assert (body["status"], body["database"], body["disk"]) == ("error", "ok", "full")


def test_the_start_up_explanation_says_how_to_restore(tmp_path):
    settings = load_settings(env={"STUDIO_DATA_DIR": str(tmp_path)}, secrets_path=None)
    text = health.explain(settings, sa.exc.DatabaseError("x", {}, sqlite3.DatabaseError("file is not a database")))
    assert str(tmp_path / "studio.db") in text and ".recover" in text and "backup" in text
    assert "nothing was changed" in text
    full = health.explain(settings, OSError(errno.ENOSPC, "No space left on device"))
    assert "full" in full and "Free some space" in full


def test_min_free_bytes_comes_from_the_environment():
    assert load_settings(env={}, secrets_path=None).min_free_bytes == 1024**3
    assert load_settings(env={"STUDIO_MIN_FREE_BYTES": "5000"}, secrets_path=None).min_free_bytes == 5000
    assert load_settings(env={"STUDIO_MIN_FREE_BYTES": "lots"}, secrets_path=None).min_free_bytes == 1024**3
