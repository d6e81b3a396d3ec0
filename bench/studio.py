"""Benchmark: server-side rerun time of the Studio page after a keystroke, with a 300-word prompt.

    .venv/bin/python bench/studio.py [--reruns 50] [--quick]

Drives ``pages/studio.py`` with Streamlit's AppTest (no browser, no network; demo
mode, a temporary data dir): types a 300-word prompt, then times N reruns that each
add one character, as a keystroke does. Nothing is subtracted: the time includes
AppTest's own overhead, which an empty page (one ``st.write``) shows for comparison.
Target: p95 ≤ 60 ms.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time

from _util import ROOT, Row, machine, median, pct, table

TARGET_P95_MS = 60.0
WORDS = (
    "a lighthouse keeper climbs the spiral staircase at dusk while waves crash below slow dolly in "
    'warm lamp light 35 mm film grain she says "we sail at noon" and gulls circle the lantern room'
).split()


def prompt(n_words: int = 300) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(n_words)) + "."


def time_reruns(at, key: str | None, text: str, n: int) -> list[float]:
    out = []
    for i in range(n):
        text += "abcdefghij"[i % 10]
        started = time.perf_counter()
        if key is None:
            at.run()
        else:
            at.text_area(key=key).input(text).run()
        out.append((time.perf_counter() - started) * 1000)
        assert not at.exception, at.exception
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reruns", type=int, default=50)
    p.add_argument("--quick", action="store_true", help="20 reruns")
    args = p.parse_args(argv)
    n = 20 if args.quick else args.reruns

    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "missing ScriptRunContext" noise

    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        os.environ["STUDIO_DATA_DIR"] = tmp
        for name in ("EVOLINK_API_KEY", "EVOLINK_BASE_URL"):
            os.environ.pop(name, None)
        text = prompt()
        at = AppTest.from_file(str(ROOT / "pages" / "studio.py"), default_timeout=60)
        at.run()
        at.text_area(key="prompt").input(text).run()  # warm: imports, caches, the first estimate
        for _ in range(3):
            time_reruns(at, "prompt", text + " ", 1)
        studio = time_reruns(at, "prompt", text + " ", n)

        empty = AppTest.from_string("import streamlit as st\nst.write('hello')", default_timeout=60)
        empty.run()
        time_reruns(empty, None, "", 3)
        base = time_reruns(empty, None, "", n)

    assert at.text_area(key="prompt").value.startswith(text[:100])
    p50, p95 = median(studio), pct(studio, 95)
    e50 = median(base)
    rows = [
        Row("studio", f"keystroke rerun p50 ({len(text.split())}-word prompt)", f"{p50:.1f} ms"),
        Row("studio", f"keystroke rerun p95 (N={n})", f"{p95:.1f} ms", f"≤ {TARGET_P95_MS:g} ms", p95 <= TARGET_P95_MS),
        Row("studio", "empty page rerun p50 / p95", f"{e50:.1f} / {pct(base, 95):.1f} ms"),
        Row("studio", "studio p50 / empty p50", f"{p50 / e50:.1f}×"),
    ]
    print(table(rows, f"Studio rerun ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
