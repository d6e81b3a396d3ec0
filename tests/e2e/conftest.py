"""Fixtures that start the whole app (`streamlit run server.py`) and a headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import CHROMIUM_ARGS  # noqa: F401 - the browser fixtures live in tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`streamlit run server.py` in demo mode on a free port, with its own data dir."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> AppProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVOLINK_")}
        env.update(
            STUDIO_DATA_DIR=str(self.data_dir),
            STUDIO_DEMO_SPEED=env.get("STUDIO_DEMO_SPEED", "40"),
            # Tests also point the app at simulators of their own on 127.0.0.1: let it save their videos.
            STUDIO_ALLOW_FETCH_HOSTS="127.0.0.1",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"app did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
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


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, chromium_path):
    server = AppProcess(tmp_path_factory.mktemp("studio-data")).start()
    yield server
    server.stop()


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(150)
    page.wait_for_selector(IDLE, timeout=timeout)


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']"
    ).first.inner_text()
