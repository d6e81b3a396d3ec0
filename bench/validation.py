"""Benchmark: refusing oversize or hostile request fields stays cheap (a pasted 1 MB prompt must not stall a page).

    .venv/bin/python bench/validation.py [--quick]

Target: every refusal of the reliability suite's largest inputs (a 1 MB prompt, 12,000
CJK characters, a 3 kB callback URL, an 8 kB aspect ratio) within 1 s, worst of 5 runs.
The suite itself checks that they are refused with a plain message; how fast is
measured here, where a busy machine cannot fail a test.
"""

from __future__ import annotations

import argparse
import time

from _util import Row, machine, table

TARGET_S = 1.0
MODEL = "seedance-2.0-fast-text-to-video"
OVERSIZE = {
    "a 1 MB prompt": {"prompt": "x" * 1_000_000},
    "a 12,000-character CJK prompt": {"prompt": "汉" * 12_000},
    "a 3 kB callback URL": {"callback_url": "https://example.com/" + "a" * 3000},
    "an 8 kB aspect ratio": {"aspect_ratio": "21:9" * 1000},
}


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="one run instead of five")
    args = p.parse_args(argv)
    runs = 1 if args.quick else args.runs

    from pydantic import ValidationError

    from lib.schema import GenerationRequest

    rows = []
    for label, fields in OVERSIZE.items():
        body = {"model": MODEL, "prompt": "A fox in snow", **fields}
        worst = 0.0
        for _ in range(runs):
            started = time.perf_counter()
            try:
                GenerationRequest.from_payload(body)
            except ValidationError:
                pass
            else:
                raise SystemExit(f"{label} was accepted: the reliability suite says it must be refused")
            worst = max(worst, time.perf_counter() - started)
        rows.append(
            Row("validation", f"refuse {label}, worst of {runs}", f"{worst * 1000:.2f} ms", "≤ 1 s", worst <= TARGET_S)
        )
    print(table(rows, f"Refusing oversize input ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
