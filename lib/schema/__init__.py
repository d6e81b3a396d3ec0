"""Pydantic models of the API contract: the request we send (``request``) and the task we read (``task``).

Everything is importable from ``lib.schema`` itself, e.g.
``from lib.schema import GenerationRequest, Task``.
"""

from __future__ import annotations

from lib.schema.request import (
    CALLBACK_URL_MAX,
    GenerationRequest,
    approx_tokens,
    error_messages,
)
from lib.schema.task import (
    Balance,
    CreditAmounts,
    ErrorBody,
    ErrorDetail,
    Task,
    TaskError,
    TaskInfo,
    TaskState,
    Usage,
)

__all__ = [
    "CALLBACK_URL_MAX",
    "Balance",
    "CreditAmounts",
    "ErrorBody",
    "ErrorDetail",
    "GenerationRequest",
    "Task",
    "TaskError",
    "TaskInfo",
    "TaskState",
    "Usage",
    "approx_tokens",
    "error_messages",
]
