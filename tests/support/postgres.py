"""A throwaway PostgreSQL cluster for the tests: the machine's ``initdb``/``pg_ctl``, one per test session.

The cluster lives in a temporary directory owned by the ``postgres`` OS user (``initdb``
refuses to run as root), listens on a free port on 127.0.0.1 only, trusts local
connections and keeps nothing durable (``fsync=off``): it exists for one session.
Each test gets a database of its own at the code's schema (``Cluster.fresh_database``),
dropped afterwards; the next one is copied from the template while the test runs.

Without PostgreSQL's binaries the PostgreSQL tests skip and say why; under ``CI=true``
they fail instead, since CI (``.ci/run``) installs them.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tests.support.waiting import wait_until

MISSING = (
    "PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin): "
    "`apt-get install postgresql` to run the PostgreSQL half of the store tests"
)
SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The newest PostgreSQL's binaries on this machine (Debian's layout, or ``PG_BIN``), or None."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def _as_postgres() -> list[str]:
    """Run a command as the ``postgres`` OS user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SUPERUSER, "--"]


class Cluster:
    """One running PostgreSQL: ``url(db)`` for SQLAlchemy, ``new_database()``/``drop_database(name)``."""

    def __init__(self, bin_dir: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._template: str | None = None
        self._maker: ThreadPoolExecutor | None = None
        self._next: Future[str] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Cluster:
        if os.geteuid() == 0:
            uid = pwd.getpwnam(SUPERUSER).pw_uid
            os.chown(self.root, uid, -1)
        self.root.chmod(0o700)
        # --no-sync: like fsync=off below, since nothing of this cluster outlives the session.
        initdb = [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"]
        subprocess.run([*_as_postgres(), *initdb, "--no-sync"], check=True, capture_output=True)
        self._pg_start()
        wait_until(self._ready, 60, interval=0.2, message=lambda: f"PostgreSQL did not start:\n{self.log_tail()}")
        return self

    def _pg_start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c wal_level=minimal -c max_wal_senders=0"
        )
        # The server's output goes to its log file: a pipe would keep this call waiting for it.
        pg_ctl = [*_as_postgres(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data)]
        subprocess.run(
            [*pg_ctl, "-l", str(self.log), "-o", options, "-w", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def _ready(self) -> bool:
        try:
            self.execute("SELECT 1")
        except Exception:
            return False
        return True

    def execute(self, sql: str) -> None:
        """One statement outside a transaction (CREATE/DROP DATABASE) on the ``postgres`` database."""
        import psycopg

        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def new_database(self, template: str = "template0") -> str:
        """A fresh database copied from ``template`` (default: empty); returns its SQLAlchemy URL."""
        name = f"t_{secrets.token_hex(6)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def migrated_template(self) -> str:
        """The name of a database at the code's schema, made once: copying it beats migrating per test."""
        if self._template is None:
            import sqlalchemy as sa

            from lib.store import migrate

            url = self.new_database()
            engine = sa.create_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            self._template = url.rsplit("/", 1)[1]
        return self._template

    def fresh_database(self) -> str:
        """A new database at the code's schema, for one test; the one after it is copied meanwhile.

        Copying a database takes PostgreSQL a checkpoint and a copy of its files: done in
        the background while the test that asked first runs, the next test finds its own ready.
        """
        ready, self._next = self._next, None
        try:
            url = ready.result() if ready is not None else self.new_database(self.migrated_template())
        except Exception:  # e.g. made while a test restarted the cluster: make it again now
            url = self.new_database(self.migrated_template())
        self.prepare_next()
        return url

    def prepare_next(self) -> None:
        """Start copying the database the next ``fresh_database`` hands out."""
        if self._maker is None:
            self._maker = ThreadPoolExecutor(1, thread_name_prefix="studio-pg-next")
        self._next = self._maker.submit(self.new_database, self.migrated_template())

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def restart(self) -> None:
        """Stop and start again on the same port (every connection is cut)."""
        self._ctl("stop", "-m", "fast")
        self._pg_start()
        wait_until(self._ready, 60, interval=0.2, message=lambda: f"PostgreSQL did not restart:\n{self.log_tail()}")

    def stop(self) -> None:
        if not self.root.exists():
            return  # stopped already
        if self._maker is not None:
            self._maker.shutdown(wait=True)  # a copy under way ends before the server does
        self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*_as_postgres(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w", *args],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
