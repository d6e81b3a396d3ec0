"""Benchmark: how long the simulator takes to render an 8 s 720p video with audio.

    .venv/bin/python bench/simulator.py [--runs 3] [--quick]

Target: median of 3 renders ≤ 3 s on a 2-core machine (the demo must keep up with a
workshop). Renders in this process with ``lib.simulator.render.render`` — the same
function the simulator's render worker process runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _util import Row, machine, median, table

TARGET_S = 3.0
PROMPT = (
    "A lighthouse keeper climbs a spiral staircase at dusk, slow dolly in, warm lamp light, "
    "waves crashing below, cinematic, 35 mm film grain."
)


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="one render instead of three")
    args = p.parse_args(argv)
    runs = 1 if args.quick else args.runs

    from lib.simulator.render import RenderJob, render

    seconds, size = [], 0
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        for i in range(runs):
            job = RenderJob(
                path=str(Path(tmp) / f"r{i}.mp4"),
                width=1280,
                height=720,
                duration=8,
                audio=True,
                prompt=f"{PROMPT} take {i}",
                model="seedance-2.0-text-to-video",
                quality="720p",
                aspect_ratio="16:9",
                label=f"task-unified-bench-{i}",
            )
            started = time.perf_counter()
            out = render(job)
            seconds.append(time.perf_counter() - started)
            size = out["bytes"]
    med = median(seconds)
    rows = [
        Row(
            "simulator",
            f"render 8 s 720p + audio, median of {runs}",
            f"{med:.2f} s",
            f"≤ {TARGET_S:g} s",
            med <= TARGET_S,
        ),
        Row("simulator", "render runs (s)", ", ".join(f"{s:.2f}" for s in seconds)),
        Row("simulator", "file size", f"{size / 1024:.0f} KiB"),
    ]
    print(table(rows, f"Simulator render ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
