"""Workspace exports (CSV and JSON) built with pandas: the runs, their settings and outcomes.

Only what a person needs to compare runs goes out; never a key, a key fingerprint, a
callback secret, an internal submit key or a participant's own id (the cookie that
makes a browser that participant): participants are named by their display name and
``lib.identity.public_id``. ``video_link`` is the saved video on this server (under
``base_url``, else ``STUDIO_PUBLIC_URL``, else a path on this server); the provider's
own link expires within a day. Ratings are whole numbers.

Example:
    >>> to_csv([]).decode().strip()
    ''
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from lib.identity import public_id
from lib.settings import MEDIA_PREFIX, load_settings
from lib.store import Run, Workspace

COLUMNS = [
    "run_id",
    "created",
    "participant",
    "participant_id",
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
    "video_link",
]


# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def video_link(run: Run, base_url: str | None = None) -> str | None:
    """Where the saved video plays (this server's media route), or None before it is saved."""
    if not run.archived or run.media_token is None:
        return None
    base = (base_url if base_url is not None else load_settings().public_url) or ""
    return f"{base.rstrip('/')}{MEDIA_PREFIX}{run.media_token}"


def rows(runs: list[Run], *, base_url: str | None = None) -> list[dict]:
    out = []
    for r in runs:
        req = r.request
        out.append(
            {
                "run_id": r.id,
                "created": _iso(r.created_at),
                "participant": r.participant,
                "participant_id": public_id(r.participant_id, r.workspace_id) if r.participant_id else None,
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
                "video_link": video_link(r, base_url),
            }
        )
    return out


def frame(runs: list[Run], *, base_url: str | None = None) -> pd.DataFrame:
    df = pd.DataFrame(rows(runs, base_url=base_url), columns=COLUMNS)
    df["rating"] = df["rating"].astype("Int64")  # 4, not 4.0, even with unrated runs among them
    return df


def to_csv(runs: list[Run], *, base_url: str | None = None) -> bytes:
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

    return frame(runs, base_url=base_url).map(inert).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def to_json(ws: Workspace, runs: list[Run], *, base_url: str | None = None) -> bytes:
    records = json.loads(frame(runs, base_url=base_url).to_json(orient="records", force_ascii=False))
    doc = {
        "workspace": {"id": ws.id, "name": ws.name, "exported": _iso(datetime.now(UTC).timestamp())},
        "runs": records,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
