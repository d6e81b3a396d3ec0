"""The whole app as a user starts it (``streamlit run server.py``), in a subprocess with its own data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from lib.settings import HEALTH_PATH
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0  # seconds: a cold start on a busy 2-core machine imports a lot

# The session's one live-mode server (the ``studio_server`` fixture): the key its provider
# accepts, and the xdist group that keeps every module using it in the process that runs it.
SERVER_KEY = "sk-server-test-key"
SERVER_GROUP = "studio-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`streamlit run server.py` on a free port with its own data dir; demo mode unless ``env`` says otherwise."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = START_TIMEOUT, *, healthy: bool = True) -> AppProcess:
        """Start and wait until /api/health answers: 200, or any answer at all when not ``healthy``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVOLINK_")}
        env.update(
            STUDIO_DATA_DIR=str(self.data_dir),
            STUDIO_DEMO_SPEED=env.get("STUDIO_DEMO_SPEED", "40"),
            # Tests also point the app at simulators of their own on 127.0.0.1: let it save their videos.
            STUDIO_ALLOW_FETCH_HOSTS="127.0.0.1",
            # Health and downloads must not depend on how full this machine's disk is.
            STUDIO_MIN_FREE_BYTES="1048576",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    "server.py",
                    "--server.port",
                    str(self.port),
                    "--server.headless",
                    "true",
                    "--server.address",
                    "127.0.0.1",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(
            lambda: self._answers(healthy), timeout, interval=0.2, message=lambda: f"app did not answer:\n{self.log()}"
        )
        return self

    def _answers(self, healthy: bool) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"app exited early:\n{self.log()}")
        try:
            status = httpx.get(f"{self.url}{HEALTH_PATH}", timeout=2).status_code
        except httpx.HTTPError:
            return False
        return status == 200 or not healthy

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def kill(self) -> None:
        """Die like a crashed process: no shutdown hooks."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""
