"""The task we read back: a task's state, its usage and error, the balance, and the provider's error body.

Responses are read leniently: unknown fields are kept, a number where a string is
documented is taken as text, and a missing or unknown status never breaks a poll.

Example:
    >>> task = Task.model_validate({"id": "task-unified-1-abcdefgh", "status": "Processing", "progress": "42.5"})
    >>> task.state, task.progress, task.state.terminal
    (<TaskState.PROCESSING: 'processing'>, 42, False)
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class TaskState(StrEnum):
    """Where a task is. ``OTHER`` is any status this app does not know (e.g. ``cancelled``):
    treated as finished, neither success nor failure."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    OTHER = "other"

    @property
    def terminal(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.FAILED, TaskState.OTHER)


class _Open(BaseModel):
    # Unknown fields are kept; a number where a string is documented (an error code) is
    # taken as text rather than failing the whole response.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class TaskInfo(_Open):
    can_cancel: bool | None = None
    estimated_time: float | None = None
    video_duration: int | None = None


class Usage(_Open):
    billing_rule: str | None = None
    credits_reserved: float | None = None
    user_group: str | None = None


class TaskError(_Open):
    code: str = "unknown_error"
    message: str = ""
    type: str | None = None

    @field_validator("code", "message", mode="before")
    @classmethod
    def _null(cls, v: Any, info: ValidationInfo) -> Any:
        # "code": null / "message": null mean "not given", not a broken response.
        if v is None:
            return "unknown_error" if info.field_name == "code" else ""
        return v


class Task(_Open):
    """A task as ``POST /v1/videos/generations`` and ``GET /v1/tasks/{id}`` return it."""

    id: str
    status: str = TaskState.PENDING
    progress: int = 0
    created: int | None = None
    model: str | None = None
    object: str | None = None
    type: str | None = None
    task_info: TaskInfo | None = None
    usage: Usage | None = None
    results: list[str] | None = None
    error: TaskError | None = None

    @field_validator("progress", mode="before")
    @classmethod
    def _progress(cls, v: Any) -> int:
        try:
            value = float(v)
        except (TypeError, ValueError):
            return 0
        if math.isnan(value):
            return 0
        return int(max(0.0, min(100.0, value)))

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        return str(v).strip().lower() if v is not None else TaskState.PENDING

    @property
    def state(self) -> TaskState:
        try:
            return TaskState(self.status)
        except ValueError:
            return TaskState.OTHER

    @property
    def estimated_time(self) -> float | None:
        return self.task_info.estimated_time if self.task_info else None

    @property
    def credits_reserved(self) -> float | None:
        return self.usage.credits_reserved if self.usage else None

    @property
    def video_url(self) -> str | None:
        return self.results[0] if self.results else None


class CreditAmounts(_Open):
    remaining_credits: float | None = None
    used_credits: float | None = None
    unlimited_credits: bool | None = None


class _BalanceData(_Open):
    token: CreditAmounts | None = None
    user: CreditAmounts | None = None


class Balance(_Open):
    """``GET /v1/credits``: the key's own allowance (``token``) and the account's (``user``)."""

    data: _BalanceData = Field(default_factory=_BalanceData)
    success: bool | None = None
    message: str | None = None

    @property
    def _amounts(self) -> CreditAmounts:
        return self.data.token or self.data.user or CreditAmounts()

    @property
    def remaining(self) -> float | None:
        """What this key can still spend: its own allowance, capped by the account's
        balance (the provider's own example has a key allowance of 99416 on an account
        holding 1095). None when neither is known or the key is unlimited with no
        account figure."""
        token, user = self.data.token, self.data.user
        limits = [
            a.remaining_credits
            for a in (token, user)
            if a is not None and a.remaining_credits is not None and not a.unlimited_credits
        ]
        return min(limits) if limits else None

    @property
    def used(self) -> float | None:
        return self._amounts.used_credits

    @property
    def unlimited(self) -> bool:
        """True only when nothing limits spending: an unlimited key on an account whose
        balance is not reported."""
        return bool(self._amounts.unlimited_credits) and self.remaining is None


class ErrorDetail(_Open):
    code: str | None = None
    message: str | None = None
    type: str | None = None
    param: str | None = None


class ErrorBody(_Open):
    """``{"error": {"code", "message", "type"[, "param"]}}``"""

    error: ErrorDetail = Field(default_factory=ErrorDetail)
