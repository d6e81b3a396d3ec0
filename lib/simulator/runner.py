"""Run the simulator with uvicorn: in a background thread (tests, demos) or in the foreground (the CLI)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from lib.simulator.app import SimulatorApp, create_app

HOST = "127.0.0.1"  # loopback only: the simulator accepts any token


@dataclass
class SimulatorHandle:
    """A running simulator: ``base_url`` (http://127.0.0.1:<port>), ``app``, ``stop()``."""

    base_url: str
    app: SimulatorApp
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, then stop the render pool and remove a temporary data dir."""
        self.server.should_exit = True
        self.thread.join(timeout)
        self.app.engine.cleanup()

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    # Binding here (not in uvicorn) tells us the real port at once when port=0.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _config(app, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on", access_log=False)


def serve_in_thread(
    port: int = 0, speed: float | None = None, *, log_level: str = "warning", **settings
) -> SimulatorHandle:
    """Serve a new simulator on 127.0.0.1 in a daemon thread; returns once it accepts connections.

    ``settings`` are ``create_app``'s keyword arguments (data_dir, link_ttl, balance,
    rate_429, retry_after, rate_500, slow_rate, slow_seconds, drop_rate, seed,
    duration_noise, progress, ...).
    """
    app = create_app(speed=speed, **settings)
    sock = _bind(HOST, port)
    server = uvicorn.Server(_config(app, HOST, sock.getsockname()[1], log_level))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="seedance-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            app.engine.cleanup()
            raise RuntimeError("the simulator did not start")
        time.sleep(0.01)
    return SimulatorHandle(f"http://{HOST}:{sock.getsockname()[1]}", app, server, thread)


def serve_forever(host: str, port: int, log_level: str = "info", **settings) -> None:
    """Serve in the foreground until Ctrl+C (``python -m lib.simulator``)."""
    app = create_app(**settings)
    try:
        uvicorn.Server(_config(app, host, port, log_level)).run()
    finally:
        app.engine.cleanup()
