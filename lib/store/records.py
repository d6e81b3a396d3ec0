"""What the store hands out: plain frozen records of workspaces, members, runs and comparisons, and the ids they carry.

Example:
    >>> valid_id(new_id()), valid_id("../etc/passwd")
    (True, False)
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cached_property
from typing import Any

from lib import status
from lib.schema import GenerationRequest
from lib.status import RunStatus

_ID = re.compile(r"^[A-Za-z0-9_-]{6,32}$")


def new_id(nbytes: int = 9) -> str:
    """A random url-safe id (only ``[A-Za-z0-9_-]``), safe in widget keys and URLs.

    Never one that starts with ``-``: a spreadsheet reads such a cell as a formula, so an
    export would have to change the id (``lib.export``) and it would no longer match.
    """
    while (value := secrets.token_urlsafe(nbytes)).startswith("-"):
        pass
    return value


def valid_id(value: object) -> bool:
    """True for strings shaped like our ids; use before trusting one from a URL."""
    return isinstance(value, str) and bool(_ID.fullmatch(value))


@dataclass(frozen=True)
class Workspace:
    """A workspace: its name and the facilitator's limits in credits (None: no limit)."""

    id: str
    name: str
    created_at: float
    budget_credits: float | None
    per_participant_cap: float | None


class Role(StrEnum):
    """What a participant may do in a workspace: the facilitator also sets its name and limits."""

    FACILITATOR = "facilitator"
    PARTICIPANT = "participant"


@dataclass(frozen=True)
class Member:
    """One browser's place in one workspace: its role, display name, and when it last opened it."""

    workspace_id: str
    participant_id: str
    role: Role
    display_name: str
    joined_at: float
    last_seen: float

    @property
    def facilitator(self) -> bool:
        return self.role is Role.FACILITATOR


@dataclass(frozen=True)
class Spend:
    """What one participant's runs commit in a workspace (the facilitator's table)."""

    participant_id: str
    display_name: str
    credits: float
    runs: int


@dataclass(frozen=True)
class Run:
    """One run as stored: plain fields; ``.request`` rebuilds the GenerationRequest."""

    id: str
    workspace_id: str
    submit_key: str | None
    request_json: str
    model: str
    estimate_credits: float
    estimate_exact: bool
    key_fingerprint: str
    participant: str | None  # the display name
    participant_id: str | None
    parent_id: str | None
    group_id: str | None
    status: RunStatus
    progress: int
    task_id: str | None
    credits_reserved: float | None
    estimated_time: float | None
    video_url: str | None
    error_code: str | None
    error_message: str | None
    poll_error: str | None
    media_token: str | None
    media_bytes: int | None
    media_duration: float | None
    media_width: int | None
    media_height: int | None
    created_at: float
    claimed_at: float | None
    submitted_at: float | None
    completed_at: float | None
    archived_at: float | None
    finished_at: float | None
    next_poll_at: float | None
    last_polled_at: float | None
    poll_count: int
    poll_failures: int
    archive_attempts: int
    rating: int | None
    notes: str | None
    owner: str
    updated_at: float
    lease_owner: str | None = None
    lease_expires: float | None = None

    @cached_property
    def payload(self) -> dict:
        return json.loads(self.request_json)

    @cached_property
    def request(self) -> GenerationRequest:
        return GenerationRequest.from_payload(self.payload)

    @property
    def finished(self) -> bool:
        return self.status.terminal

    @property
    def archived(self) -> bool:
        return self.status is RunStatus.ARCHIVED and self.media_token is not None

    @property
    def billed(self) -> bool:
        """May this run cost credits? (What budgets count.)"""
        return status.billed(self.status, self.completed_at)

    @property
    def label(self) -> str:
        return self.status.label


@dataclass(frozen=True)
class Comparison:
    """A saved comparison grid; ``spec`` is the plain dict ``lib.compare`` reads and writes."""

    id: str
    workspace_id: str
    title: str
    spec_json: str
    created_at: float

    @cached_property
    def spec(self) -> dict:
        return json.loads(self.spec_json)


_RUN_FIELDS = tuple(f.name for f in fields(Run))


def run_of(row: Any) -> Run:
    values = {name: row._mapping[name] for name in _RUN_FIELDS}
    values["status"] = RunStatus(values["status"])
    return Run(**values)


def workspace_of(row: Any) -> Workspace:
    m = row._mapping
    return Workspace(
        id=m["id"],
        name=m["name"],
        created_at=m["created_at"],
        budget_credits=m["budget_credits"],
        per_participant_cap=m["per_participant_cap"],
    )


def member_of(row: Any) -> Member:
    m = row._mapping
    return Member(
        workspace_id=m["workspace_id"],
        participant_id=m["participant_id"],
        role=Role(m["role"]),
        display_name=m["display_name"],
        joined_at=m["joined_at"],
        last_seen=m["last_seen"],
    )


def comparison_of(row: Any) -> Comparison:
    m = row._mapping
    return Comparison(
        id=m["id"],
        workspace_id=m["workspace_id"],
        title=m["title"],
        spec_json=m["spec_json"],
        created_at=m["created_at"],
    )
