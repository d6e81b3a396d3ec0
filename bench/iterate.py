"""Benchmark: a lineage and an upload check stay cheap, whatever the workspace holds.

    .venv/bin/python bench/iterate.py [--quick]

Targets: the lineage of a run (read from the store with ``lib.lineage.family`` and laid
out with ``tree``) within 200 ms in a workspace of 5,000 runs where its family is a
20-generation chain with 60 remixes at the top, worst of 5; checking a 15 s 1080p
reference video (``lib.uploads.inspect``) within 1 s, worst of 5.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from _util import Row, machine, table

LINEAGE_TARGET_S = 0.2
INSPECT_TARGET_S = 1.0
MODEL = "seedance-2.0-text-to-video"


def _workspace(n_runs: int):
    from lib.schema import GenerationRequest
    from lib.store import NewRun, Store

    db = Store(tempfile.mkdtemp(prefix="bench-lineage-"))
    ws = db.create_workspace("Bench")
    req = GenerationRequest(model=MODEL, prompt="A lighthouse at dusk, slow pan")
    db.create_runs(ws.id, [NewRun(req, 1.0) for _ in range(n_runs)], fingerprint="k")
    chain = [db.create_run(ws.id, req, 1.0, True, "k")]
    for i in range(20):
        edited = req.model_copy(update={"prompt": f"{req.prompt}, take {i}"})
        chain.append(db.create_run(ws.id, edited, 1.0, True, "k", parent_id=chain[-1].id))
    for i in range(60):
        db.create_run(ws.id, req.model_copy(update={"duration": 4 + i % 10}), 1.0, True, "k", parent_id=chain[0].id)
    return db, ws.id, chain[-1].id


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="one run instead of five, and 1,000 runs in the workspace")
    args = p.parse_args(argv)
    runs = 1 if args.quick else args.runs
    size = 1000 if args.quick else 5000

    from lib import lineage, uploads
    from tests.support.media import make_mp4

    db, ws_id, focus = _workspace(size)
    worst, nodes = 0.0, 0
    for _ in range(runs):
        started = time.perf_counter()
        tree = lineage.tree(lineage.family(db, focus, ws_id), focus)
        lineage.helped(tree)
        worst = max(worst, time.perf_counter() - started)
        nodes = len(tree.nodes)
    rows = [
        Row(
            "iterate",
            f"lineage of a run ({nodes} nodes) in {size:,} runs, worst of {runs}",
            f"{worst * 1000:.1f} ms",
            "≤ 200 ms",
            worst <= LINEAGE_TARGET_S,
        )
    ]
    video = make_mp4(seconds=15, width=1920, height=1080, fps=24)
    worst = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        uploads.inspect(video, "reference.mp4", "video")
        worst = max(worst, time.perf_counter() - started)
    rows.append(
        Row(
            "iterate",
            f"check a 15 s 1080p upload ({len(video) / 1e6:.1f} MB), worst of {runs}",
            f"{worst * 1000:.1f} ms",
            "≤ 1 s",
            worst <= INSPECT_TARGET_S,
        )
    )
    print(table(rows, f"Lineage and uploads ({machine()})"))
    return rows


if __name__ == "__main__":
    main()
