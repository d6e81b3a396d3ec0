"""One piece of advice about a prompt: what every hint rule returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Hint:
    """One piece of advice about the prompt.

    ``start``/``end`` mark the characters it is about (``0, 0`` or ``0, len`` when it
    is about the whole prompt). ``fix`` replaces ``prompt[start:end]`` when a safe
    automatic fix exists, else None.

    >>> Hint("timestamps", "info", "Number the shots instead.", 0, 4)
    Hint(code='timestamps', severity='info', message='Number the shots instead.', start=0, end=4, fix=None)
    """

    code: str
    severity: Severity
    message: str
    start: int
    end: int
    fix: str | None = None
