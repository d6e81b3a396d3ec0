"""Command line: ``python -m lib.simulator --port 8765 --speed 10`` serves the offline API alone.

For experiments: it accepts any bearer token (the app's embedded demo accepts only its
own per-process key), so keep it on 127.0.0.1.
"""

from __future__ import annotations

import argparse

from lib.settings import DEFAULT_DEMO_SPEED
from lib.simulator.engine import DEFAULT_BALANCE, DEFAULT_LINK_TTL, PROGRESS_MODELS


def _noise(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("a share from 0 up to (not including) 1, e.g. 0.3 for ±30%")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m lib.simulator", description="Offline Seedance 2.0 / Evolink API simulator."
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--speed",
        type=float,
        default=None,
        help=f"N = N times faster than real (default STUDIO_DEMO_SPEED or {DEFAULT_DEMO_SPEED:g})",
    )
    p.add_argument("--data-dir", default=None, help="where result videos are written (default: a temporary directory)")
    p.add_argument(
        "--link-ttl", type=float, default=DEFAULT_LINK_TTL, help="seconds a result URL works (default 86400)"
    )
    p.add_argument("--balance", type=float, default=DEFAULT_BALANCE, help="starting credits (default 10000)")
    p.add_argument("--rate-429", type=float, default=0.0, help="share of /v1 requests answered 429")
    p.add_argument("--retry-after", type=int, default=2, help="Retry-After seconds on injected 429s")
    p.add_argument("--rate-500", type=float, default=0.0, help="share of /v1 requests answered 500")
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of /v1 requests delayed")
    p.add_argument("--slow-seconds", type=float, default=3.0, help="delay of a slow request")
    p.add_argument("--drop-rate", type=float, default=0.0, help="share of /v1 requests whose connection is dropped")
    p.add_argument(
        "--duration-noise",
        type=_noise,
        default=0.0,
        help="tasks take their estimated_time ± up to this share (e.g. 0.3 for ±30%%; default 0: exactly)",
    )
    p.add_argument(
        "--progress",
        choices=PROGRESS_MODELS,
        default=PROGRESS_MODELS[0],
        help="how reported progress moves: linear (default), stepwise (0, 50, 100) or none (0 until done)",
    )
    p.add_argument("--seed", type=int, default=None, help="seed for the fault dice and the duration noise")
    p.add_argument("--render-workers", type=int, default=None, help="render processes (default: sized to the machine)")
    p.add_argument("--queue-limit", type=int, default=None, help="renders queued before a 429")
    p.add_argument("--log-level", default="info")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = vars(parse_args(argv))
    host, port, log_level = args.pop("host"), args.pop("port"), args.pop("log_level")
    from lib.simulator.runner import serve_forever

    print(f"Seedance API simulator on http://{host}:{port} (any bearer token works)", flush=True)
    serve_forever(host, port, log_level, **args)


if __name__ == "__main__":
    main()
