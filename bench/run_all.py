"""Run every benchmark in sequence and print one combined table.

    .venv/bin/python bench/run_all.py [--quick]      (or: make bench)

Each benchmark also runs alone: bench/detection.py, studio.py, gallery.py, worker.py,
faults.py, simulator.py, validation.py, scale.py, iterate.py (each takes --quick and --help).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import time
import traceback

from _util import Row, machine, table

ORDER = ["simulator", "validation", "studio", "worker", "faults", "detection", "gallery", "scale", "iterate"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    p.add_argument("--only", nargs="*", choices=ORDER, help="run only these")
    args = p.parse_args()
    rows: list[Row] = []
    started = time.monotonic()
    for name in args.only or ORDER:
        print(f"\n=== bench/{name}.py ===", flush=True)
        try:
            rows += importlib.import_module(name).main(["--quick"] if args.quick else [])
        except Exception:
            traceback.print_exc()
            rows.append(Row(name, "did not finish", "error", "", False))
    title = (
        f"All benchmarks — {machine()}, {datetime.date.today()}, "
        f"{time.monotonic() - started:.0f} s{' (--quick)' if args.quick else ''}"
    )
    print(table(rows, title))
    misses = [r for r in rows if r.ok is False]
    print(f"\n{sum(r.ok is True for r in rows)} PASS, {len(misses)} MISS")


if __name__ == "__main__":
    main()
