"""Migrations: an older database is upgraded in place with every run intact, and the migrated schema is the code's.

SQLite and PostgreSQL both: ``empty_url`` is a database with nothing in it, of each kind.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lib.status import RunStatus
from lib.store import Store, dispose_engines, migrate
from lib.store.tables import metadata

OLD_SCHEMA = Path(__file__).parent / "data" / "schema-before-migrations.sql"
REQUEST = {"model": "seedance-2.0-text-to-video", "prompt": "A heron at dawn", "duration": 5}


def _old_database(path: Path) -> None:
    """A studio.db as the app made it before migrations: the old schema, a workspace and two runs."""
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA.read_text())
        db.execute("INSERT INTO workspaces VALUES ('ws_old_1', 'Spring workshop', 1.0, 400.0, NULL)")
        for n, status in enumerate(("archived", "processing"), 1):
            db.execute(
                "INSERT INTO runs (id, workspace_id, submit_key, request_json, model, estimate_credits, estimate_exact,"
                " key_fingerprint, participant, status, progress, task_id, created_at, poll_count, poll_failures,"
                " archive_attempts, rating, owner, updated_at) VALUES (?, 'ws_old_1', ?, ?, ?, 67.5, 1, 'k_abc',"
                " 'ana', ?, 40, ?, ?, 3, 0, 0, 4, 'p', ?)",
                (f"run_old_{n}", f"key-{n}", json.dumps(REQUEST), REQUEST["model"], status, f"task-unified-{n}", n, n),
            )


@pytest.fixture(autouse=True)
def _fresh_engines():
    dispose_engines()
    yield
    dispose_engines()


def test_a_database_from_before_migrations_is_upgraded_and_every_run_is_intact(tmp_path):
    _old_database(tmp_path / "studio.db")
    store = Store(tmp_path)
    ws = store.get_workspace("ws_old_1")
    assert ws is not None and (ws.name, ws.budget_credits) == ("Spring workshop", 400.0)
    runs = {r.id: r for r in store.list_runs("ws_old_1")}
    assert set(runs) == {"run_old_1", "run_old_2"}
    assert runs["run_old_1"].status is RunStatus.ARCHIVED and runs["run_old_1"].rating == 4
    assert runs["run_old_2"].status is RunStatus.PROCESSING and runs["run_old_2"].task_id == "task-unified-2"
    assert runs["run_old_2"].request.prompt == REQUEST["prompt"]
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A database with no tables yet: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    yield url
    dispose_engines()
    cluster.drop_database(url)


def test_the_migrated_schema_is_exactly_the_codes_schema(empty_url):
    engine = sa.create_engine(empty_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


# The schema as the previous release left it: a database made then is upgraded at start.
PREVIOUS = "0002_hardening"


def test_a_database_of_the_previous_release_is_upgraded_with_every_run_intact(empty_url, tmp_path):
    engine = sa.create_engine(empty_url)
    with engine.begin() as conn:
        config = migrate._config(conn)
        command.upgrade(config, PREVIOUS)
        conn.execute(
            sa.text("INSERT INTO workspaces VALUES ('ws_prev_1', 'Autumn workshop', 1.0, 300.0, 50.0)"),
        )
        for n, status in enumerate(("archived", "processing", "submitting"), 1):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, workspace_id, submit_key, request_json, model, estimate_credits,"
                    " estimate_exact, key_fingerprint, participant, status, progress, task_id, media_token,"
                    " created_at, poll_count, poll_failures, archive_attempts, rating, owner, updated_at)"
                    " VALUES (:id, 'ws_prev_1', :key, :req, :model, 12.5, true, 'k_abc', 'bo', :status, 40,"
                    " :task, :media, :n, 2, 0, 0, 5, 'p', :n)"
                ),
                {
                    "id": f"run_prev_{n}",
                    "key": f"key-{n}",
                    "req": json.dumps(REQUEST),
                    "model": REQUEST["model"],
                    "status": status,
                    "task": f"task-unified-{n}" if n < 3 else None,
                    "media": "tok" if n == 1 else None,
                    "n": float(n),
                },
            )
    engine.dispose()
    assert migrate.upgrade(sa.create_engine(empty_url)) == _revisions()[_revisions().index(PREVIOUS) + 1 :]
    store = Store(empty_url, data_dir=tmp_path)
    ws = store.get_workspace("ws_prev_1")
    assert ws is not None and (ws.name, ws.budget_credits, ws.per_participant_cap) == ("Autumn workshop", 300.0, 50.0)
    runs = {r.id: r for r in store.list_runs("ws_prev_1")}
    assert set(runs) == {"run_prev_1", "run_prev_2", "run_prev_3"}
    assert runs["run_prev_1"].status is RunStatus.ARCHIVED and runs["run_prev_1"].media_token == "tok"
    assert runs["run_prev_1"].rating == 5 and runs["run_prev_2"].task_id == "task-unified-2"
    assert runs["run_prev_2"].request.prompt == REQUEST["prompt"] and runs["run_prev_3"].status is RunStatus.SUBMITTING
    assert all(r.lease_owner is None for r in runs.values())  # nobody follows them yet: the first worker claims them
    assert [r.id for r in store.claim_runs("server-a", now=100.0)] == ["run_prev_2"]
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_an_upgraded_old_database_has_the_codes_schema_too(tmp_path):
    _old_database(tmp_path / "studio.db")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'studio.db'}")
    assert migrate.upgrade(engine) == [r for r in _revisions() if r != migrate.BASELINE]
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_database_from_a_newer_version_is_refused_with_a_message_not_used(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'studio.db'}")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(migrate.SchemaTooNew, match="newer version of this app"):
        migrate.upgrade(engine)


def _revisions() -> list[str]:
    return list(reversed([s.revision for s in migrate._scripts().walk_revisions()]))
