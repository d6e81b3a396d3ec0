"""Offline stand-in for the Evolink video API: a Starlette app, a threaded runner and a PyAV renderer.

    >>> from lib.simulator import serve_in_thread
    >>> handle = serve_in_thread(port=0, speed=1000)   # doctest: +SKIP
    >>> handle.base_url, handle.app.state.stats        # doctest: +SKIP
    >>> handle.stop()                                  # doctest: +SKIP

Names are imported lazily so that the render worker process, which imports
``lib.simulator.render``, does not pay for Starlette and uvicorn.
"""

from __future__ import annotations

__all__ = ["TASK_ERRORS", "Faults", "SimulatorApp", "SimulatorHandle", "create_app", "serve_in_thread"]

_WHERE = {
    "create_app": "lib.simulator.app",
    "SimulatorApp": "lib.simulator.app",
    "Faults": "lib.simulator.app",
    "serve_in_thread": "lib.simulator.runner",
    "SimulatorHandle": "lib.simulator.runner",
    "TASK_ERRORS": "lib.simulator.engine",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'lib.simulator' has no attribute {name!r}")
