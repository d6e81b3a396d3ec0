"""Workspace exports (CSV and JSON) built with pandas: the runs, their settings and outcomes.

Only what a person needs to compare runs goes out; never a key, a key fingerprint, a
callback secret or an internal submit key.

Example:
    >>> to_csv([]).decode().strip()
    ''
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from lib.store import Run, Workspace

COLUMNS = [
    "run_id",
    "created",
    "participant",
    "status",
    "model",
    "prompt",
    "duration",
    "quality",
    "aspect_ratio",
    "generate_audio",
    "content_filter",
    "web_search",
    "estimate_credits",
    "estimate_exact",
    "credits_reserved",
    "task_id",
    "error_code",
    "error_message",
    "rating",
    "notes",
    "parent_run",
    "group",
    "video_seconds",
]


# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def rows(runs: list[Run]) -> list[dict]:
    out = []
    for r in runs:
        req = r.request
        out.append(
            {
                "run_id": r.id,
                "created": _iso(r.created_at),
                "participant": r.participant,
                "status": r.status.value,
                "model": r.model,
                "prompt": req.prompt,
                "duration": req.effective("duration"),
                "quality": req.effective("quality"),
                "aspect_ratio": req.effective("aspect_ratio"),
                "generate_audio": req.effective("generate_audio"),
                "content_filter": req.effective("content_filter"),
                "web_search": req.effective("web_search"),
                "estimate_credits": round(r.estimate_credits, 4),
                "estimate_exact": r.estimate_exact,
                "credits_reserved": r.credits_reserved,
                "task_id": r.task_id,
                "error_code": r.error_code,
                "error_message": r.error_message,
                "rating": r.rating,
                "notes": r.notes,
                "parent_run": r.parent_id,
                "group": r.group_id,
                "video_seconds": r.media_duration,
            }
        )
    return out


def frame(runs: list[Run]) -> pd.DataFrame:
    return pd.DataFrame(rows(runs), columns=COLUMNS)


def to_csv(runs: list[Run]) -> bytes:
    """The runs as CSV; any text cell a spreadsheet would run as a formula starts with ``'`` instead.

    Prompts, names, notes and provider messages are anyone's text: ``=HYPERLINK(...)``
    must arrive as words, not as a live link. Numbers keep their sign; JSON stays exact.
    Rows end in CRLF (RFC 4180), so a cell holding a lone CR is quoted too instead of
    starting a new row in a spreadsheet (where its next line could be a formula).
    """
    if not runs:
        return b""

    def inert(value: object) -> object:
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            return "'" + value
        return value

    return frame(runs).map(inert).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def to_json(ws: Workspace, runs: list[Run]) -> bytes:
    records = json.loads(frame(runs).to_json(orient="records", force_ascii=False))
    doc = {
        "workspace": {"id": ws.id, "name": ws.name, "exported": _iso(datetime.now(UTC).timestamp())},
        "runs": records,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
