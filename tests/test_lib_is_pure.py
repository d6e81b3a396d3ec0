"""lib/ is plain Python: importing every one of its modules loads no Streamlit (DESIGN: lib never imports it)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import lib

ROOT = Path(__file__).resolve().parents[1]

# Not importable on their own: the command line's entry point, and the migration scripts
# (Alembic runs them inside a migration context; lib.store.migrate is their importable side).
SKIPPED = ("lib.simulator.__main__", "lib.store.migrations.")

# In a clean interpreter: this test process has Streamlit loaded by the page tests already.
_IMPORT_ALL = """
import importlib, json, pkgutil, sys
import lib
SKIPPED = tuple(sys.argv[1:])
names = sorted(m.name for m in pkgutil.walk_packages(lib.__path__, "lib.") if not m.name.startswith(SKIPPED))
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "streamlit": sorted(m for m in sys.modules if m.split(".")[0] == "streamlit")}))
"""


def test_every_lib_module_imports_without_streamlit():
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, *SKIPPED], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = {m.name for m in pkgutil.walk_packages(lib.__path__, "lib.") if not m.name.startswith(SKIPPED)}
    assert set(result["imported"]) == expected  # every module, packages' modules included
    assert {"lib.settings", "lib.client", "lib.simulator.engine", "lib.store.migrate"} <= expected
    assert result["streamlit"] == []


def test_no_lib_module_imports_streamlit_later_either():
    """An import inside a function would pass the test above and still tie lib to Streamlit."""
    import re

    pattern = re.compile(r"^\s*(import streamlit|from streamlit\b)", re.M)
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "lib").rglob("*.py") if pattern.search(path.read_text("utf-8"))
    ]
    assert offenders == []
