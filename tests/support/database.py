"""A data dir whose SQLite database is already at the code's schema: copied, not migrated for every test.

Running every migration on a new database takes Alembic a good share of a short test;
the tests that are about migrating (``tests/test_migrations.py``) make their databases
themselves. ``migrated(data_dir)`` copies a database this process migrated once, made
the way the store makes its own (``lib.store``, WAL mode), to where ``Store(data_dir)``
looks; the store then finds it at its schema and has nothing to do.

    >>> from lib.store import Store
    >>> store = Store(migrated(Path(tempfile.mkdtemp())))
    >>> store.get_workspace(store.create_workspace("Kites").id).name
    'Kites'
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from lib.settings import DB_FILE

_lock = threading.Lock()
_template: Path | None = None
_keep: tempfile.TemporaryDirectory | None = None


def _made() -> Path:
    global _template, _keep
    with _lock:
        if _template is None:
            from lib.store import Store

            _keep = tempfile.TemporaryDirectory(prefix="studio-schema-")
            folder = Path(_keep.name)
            Store(folder).engine.dispose()  # the last connection closed: the WAL is folded into the file
            assert not (folder / f"{DB_FILE}-wal").exists(), "the template database is not whole"
            _template = folder / DB_FILE
        return _template


def migrated(data_dir: Path) -> Path:
    """``data_dir`` (made if missing), its database a fresh copy at the code's schema; an existing one is kept."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / DB_FILE
    if not target.exists():
        shutil.copyfile(_made(), target)
    return data_dir
