"""Comparison grids: a base request varied along one or two axes, priced per cell, saved as a spec.

A grid is plain data: ``expand`` turns a base (the request's fields as a dict) and
one or two ``Axis`` into ``Cell`` objects, each with its request or the schema's
plain messages saying why it cannot be sent, and its estimate. ``make_spec`` records
which run fills which cell, so a comparison can be laid out again later.

Example:
    >>> base = {"model": "seedance-2.0-fast-text-to-video", "prompt": "A fox", "duration": 4}
    >>> cells = expand(base, Axis("quality", ("480p", "1080p")), Axis("generate_audio", (True, False)))
    >>> [(c.label, c.valid) for c in cells]
    [('480p · audio on', True), ('480p · audio off', True), ('1080p · audio on', False), ('1080p · audio off', False)]
    >>> total = grid_total(cells)   # the valid cells only, a line each
    >>> [line.label for line in total.lines], total.credits == sum(c.estimate.credits for c in cells[:2])
    (['480p · audio on', '480p · audio off'], True)
"""

from __future__ import annotations

import difflib
import functools
import html
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from lib import catalog, i18n, pricing
from lib.i18n import t
from lib.schema import GenerationRequest, error_messages

MAX_CELLS = 16  # a 4 x 4 grid is already a lot of videos to watch (and to pay for) at once
PROMPT_LABELS = ("A", "B", "C")
MAX_TAKES = 8  # takes of one request sent at once: enough to see the model's spread
TAKE = "take"  # the axis that repeats the same request: it changes nothing sent, only which take a cell is


@dataclass(frozen=True)
class AxisKind:
    """A setting a grid can vary: its title on screen and the values it offers."""

    name: str
    title: str
    choices: tuple[Any, ...]


# The settings a comparison can vary, in the order the picker offers them.
AXES: dict[str, AxisKind] = {
    a.name: a
    for a in (
        AxisKind("prompt", "Prompt", PROMPT_LABELS),
        AxisKind("model", "Model", tuple(catalog.MODELS)),
        AxisKind("quality", "Quality", catalog.QUALITIES),
        AxisKind("duration", "Duration", tuple(range(catalog.DURATION_MIN, catalog.DURATION_MAX + 1))),
        AxisKind("aspect_ratio", "Aspect ratio", catalog.ASPECT_RATIOS),
        AxisKind("generate_audio", "Audio", (True, False)),
        AxisKind("content_filter", "Content filter", (True, False)),
        AxisKind("web_search", "Web search", (True, False)),
        AxisKind(TAKE, "Take", tuple(range(1, MAX_TAKES + 1))),
    )
}


def value_label(axis: str, value: Any) -> str:
    """Short words for one axis value, as row and column headers show it.

    >>> value_label("generate_audio", False), value_label("duration", 8), value_label("quality", "720p")
    ('audio off', '8 s', '720p')
    >>> value_label("take", 3)
    'Take 3'
    """
    if axis == TAKE:
        return t("Take {n}", n=value)
    if axis == "model":
        spec = catalog.MODELS.get(value)
        return spec.label if spec else str(value)
    if axis == "duration":
        return t("{s} s", s=value)
    if isinstance(value, bool):
        return t("{setting} on" if value else "{setting} off", setting=t(AXES[axis].title).lower())
    return str(value)


def summary(base: dict[str, Any]) -> str:
    """A base request's settings in plain words, in the order the picker offers them.

    >>> summary({"model": "seedance-2.0-text-to-video", "prompt": "A fox", "duration": 5, "generate_audio": True})
    'Text to video · standard · 5 s · audio on'
    >>> summary({"prompt": "A fox"})
    'the API defaults'
    """
    shown = (name for name in AXES if name not in ("prompt", TAKE) and name in base)
    return " · ".join(value_label(name, base[name]) for name in shown) or t("the API defaults")


@dataclass(frozen=True)
class Axis:
    """One axis of a grid: which setting, and the values it takes.

    For the ``prompt`` axis the values are the prompt texts and ``labels`` name them
    (A, B, C); for every other axis the labels come from ``value_label``.
    """

    name: str
    values: tuple[Any, ...]
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.name not in AXES:
            raise ValueError(f"Axis: choose one of {', '.join(AXES)} (you gave {self.name!r}).")
        if not self.values:
            raise ValueError(f"{AXES[self.name].title}: choose at least one value to compare.")
        if len(set(map(repr, self.values))) != len(self.values):
            raise ValueError(f"{AXES[self.name].title}: each value once.")
        if self.labels is not None and len(self.labels) != len(self.values):
            raise ValueError("Axis: give one label per value.")

    @property
    def title(self) -> str:
        return t(AXES[self.name].title)

    def label(self, index: int) -> str:
        if self.labels is not None:
            return self.labels[index]
        return value_label(self.name, self.values[index])

    def to_dict(self) -> dict:
        return {
            "axis": self.name,
            "values": list(self.values),
            "labels": [self.label(i) for i in range(len(self.values))],
        }

    @classmethod
    def prompts(cls, variants: list[str]) -> Axis:
        """The prompt axis from up to three variants; blank ones are left out, the rest keep their letter."""
        kept = [(PROMPT_LABELS[i], text) for i, text in enumerate(variants[: len(PROMPT_LABELS)]) if text.strip()]
        return cls("prompt", tuple(t for _, t in kept), tuple(t("Prompt {label}", label=label) for label, _ in kept))

    @classmethod
    def takes(cls, count: int) -> Axis:
        """Takes 1..count of the same request (1 to ``MAX_TAKES``).

        >>> Axis.takes(3).values
        (1, 2, 3)
        """
        if not 1 <= count <= MAX_TAKES:
            raise ValueError(f"Takes: choose 1 to {MAX_TAKES} (you gave {count}).")
        return cls(TAKE, tuple(range(1, count + 1)))


@dataclass
class Cell:
    """One cell of a grid: its place, the settings it changes, and its request or why not."""

    row: int
    col: int
    label: str
    changes: dict[str, Any]
    request: GenerationRequest | None
    errors: dict[str, str] = field(default_factory=dict)
    estimate: pricing.Estimate | None = None

    @property
    def valid(self) -> bool:
        return self.request is not None

    @property
    def message(self) -> str:
        """The schema's plain messages, one sentence each."""
        return " ".join(self.errors.values())


def request_fields(request: GenerationRequest) -> dict[str, Any]:
    """A request's fields as a grid base: only what was set, never the callback URL (it holds a secret)."""
    return request.model_dump(exclude_none=True, exclude={"callback_url"})


def expand(base: dict[str, Any], rows: Axis, cols: Axis | None = None) -> list[Cell]:
    """Every cell of the grid, row by row; a cell that breaks a rule carries the schema's messages."""
    if cols is not None and cols.name == rows.name:
        raise ValueError("Choose two different settings for rows and columns.")
    n_cols = len(cols.values) if cols else 1
    if len(rows.values) * n_cols > MAX_CELLS:
        raise ValueError(f"A grid has at most {MAX_CELLS} cells; this one would have {len(rows.values) * n_cols}.")
    cells = []
    for r, row_value in enumerate(rows.values):
        for c in range(n_cols):
            changes = {rows.name: row_value}
            labels = [rows.label(r)]
            if cols is not None:
                changes[cols.name] = cols.values[c]
                labels.append(cols.label(c))
            cells.append(_cell(base, r, c, " · ".join(labels), changes))
    return cells


def _cell(base: dict, row: int, col: int, label: str, changes: dict) -> Cell:
    # A take is the same request again: the axis names the cell, nothing in the request changes.
    data = {**base, **{k: v for k, v in changes.items() if k != TAKE}}
    try:
        request = GenerationRequest(**data)
    except ValidationError as exc:
        return Cell(row, col, label, changes, None, error_messages(exc))
    return Cell(row, col, label, changes, request, estimate=pricing.estimate(request))


def grid_total(cells: list[Cell]) -> pricing.Estimate:
    """The total of the cells that will be sent, a line per cell (invalid cells are not sent)."""
    priced = [(c.label, c.estimate) for c in cells if c.valid and c.estimate is not None]
    return pricing.batch_total([e for _, e in priced], [label for label, _ in priced])


def title(rows: Axis, cols: Axis | None) -> str:
    """A comparison's name from its axes, e.g. ``'Quality × Audio'``; takes alone are ``'3 takes'``.

    >>> title(Axis("quality", ("480p", "720p")), Axis.takes(2)), title(Axis.takes(3), None)
    ('Quality × Take', '3 takes')
    """
    return _title(rows.name, len(rows.values), cols.name if cols else None)


def _title(rows: str, count: int, cols: str | None) -> str:
    if cols is None and rows == TAKE:
        return t("{n} takes", n=count)
    if cols is None:
        return t(AXES[rows].title)
    return t("{rows} × {cols}", rows=t(AXES[rows].title), cols=t(AXES[cols].title))


def takes(base: dict[str, Any], count: int) -> list[Cell]:
    """``count`` takes of one request as a one-axis grid (the Studio's "Takes"), priced as ``count`` runs.

    >>> cells = takes({"model": "seedance-2.0-fast-text-to-video", "prompt": "A fox", "duration": 4}, 3)
    >>> [c.label for c in cells], len({c.request for c in cells})
    (['Take 1', 'Take 2', 'Take 3'], 1)
    """
    return expand(base, Axis.takes(count))


# --- the saved spec ----------------------------------------------------------------------------


def make_spec(
    base: dict, rows: Axis, cols: Axis | None, cells: list[Cell], run_ids: dict[tuple[int, int], str]
) -> dict:
    """What the store keeps: the base, the axes, and each cell's run (or why it was not sent)."""
    return {
        "version": 1,
        "base": {k: list(v) if isinstance(v, tuple) else v for k, v in base.items() if k != "callback_url"},
        "rows": rows.to_dict(),
        "cols": cols.to_dict() if cols else None,
        "cells": [
            {
                "row": c.row,
                "col": c.col,
                "label": c.label,
                "run_id": run_ids.get((c.row, c.col)),
                "error": None if c.valid else c.message,
            }
            for c in cells
        ],
        "winner": None,
    }


def layout(spec: dict) -> tuple[list[str], list[str], list[list[dict]]]:
    """Row labels, column labels (one blank column for a one-axis grid) and the cells as a matrix."""
    row_labels = list(spec["rows"]["labels"])
    col_labels = list(spec["cols"]["labels"]) if spec.get("cols") else [""]
    matrix: list[list[dict]] = [[{} for _ in col_labels] for _ in row_labels]
    for cell in spec["cells"]:
        matrix[cell["row"]][cell["col"]] = cell
    return row_labels, col_labels, matrix


def with_winner(spec: dict, run_id: str | None) -> dict:
    """The spec with ``run_id`` as its winner (None clears it); only a run of this grid can win."""
    if run_id is not None and run_id not in {c.get("run_id") for c in spec["cells"]}:
        raise ValueError("Winner: choose one of this comparison's runs.")
    return {**spec, "winner": run_id}


# --- a saved comparison for its reader -------------------------------------------------------------
# A comparison is saved in the words of whoever made it; its reader may read another language.
# What was made from the spec (its title, headers and cell labels, why a cell was not sent) is
# made again from the spec in the reader's language; a title someone typed is kept as typed.


def shown_title(saved: str, spec: dict) -> str:
    """A saved comparison's title for the reader: made again from its axes, unless someone typed it.

    >>> spec = make_spec({}, Axis("quality", ("480p", "720p")), Axis.takes(2), [], {})
    >>> with i18n.use("zh"):
    ...     shown_title("Quality × Take", spec), shown_title("My favourite grid", spec)
    ('画质 × 条', 'My favourite grid')
    """
    try:
        rows, cols = spec["rows"], spec.get("cols")
        made = functools.partial(_title, rows["axis"], len(rows["values"]), cols["axis"] if cols else None)
        every = set()
        for language in i18n.LANGUAGES:
            with i18n.use(language):
                every.add(made())
    except (KeyError, TypeError):  # not a spec this version can read: keep what was saved
        return saved
    return made() if saved in every else saved


def shown_spec(spec: dict) -> dict:
    """A saved spec with its row and column headers, cell labels and reasons in the reader's language.

    >>> spec = make_spec({}, Axis("generate_audio", (True, False)), None, [], {})
    >>> with i18n.use("zh"):
    ...     shown_spec(spec)["rows"]["labels"]
    ['音频开', '音频关']
    """
    try:
        rows, cols = _axis_of(spec["rows"]), _axis_of(spec.get("cols"))
    except (KeyError, TypeError, ValueError):  # not a spec this version can read: show it as it was saved
        return spec
    if rows is None:
        return spec
    out = {**spec, "rows": {**spec["rows"], "labels": [rows.label(i) for i in range(len(rows.values))]}}
    if cols is not None:
        out["cols"] = {**spec["cols"], "labels": [cols.label(i) for i in range(len(cols.values))]}
    out["cells"] = [_shown_cell(spec.get("base") or {}, rows, cols, cell) for cell in spec.get("cells", [])]
    return out


def _axis_of(saved: dict | None) -> Axis | None:
    if not saved:
        return None
    name, values = saved["axis"], tuple(saved["values"])
    if name != "prompt":
        return Axis(name, values)
    # A prompt's label is its letter, saved in its maker's words ("Prompt A", "提示词 A").
    said: dict[str, str] = {}
    for language in i18n.LANGUAGES:
        with i18n.use(language):
            said |= {t("Prompt {label}", label=letter): letter for letter in PROMPT_LABELS}
    labels = tuple(
        t("Prompt {label}", label=said[label]) if label in said else label for label in saved.get("labels", ())
    )
    return Axis(name, values, labels if len(labels) == len(values) else None)


def _shown_cell(base: dict, rows: Axis, cols: Axis | None, cell: dict) -> dict:
    try:
        r, c = cell["row"], cell["col"]
        changes = {rows.name: rows.values[r]}
        labels = [rows.label(r)]
        if cols is not None:
            changes[cols.name] = cols.values[c]
            labels.append(cols.label(c))
        out = {**cell, "label": " · ".join(labels)}
        if cell.get("error"):
            again = _cell(base, r, c, out["label"], changes)
            out["error"] = cell["error"] if again.valid else again.message  # the rules may have changed since
        return out
    except (KeyError, IndexError, TypeError, ValueError):
        return cell


def prompt_variants(spec: dict) -> dict[str, str]:
    """Label → prompt text of a grid's prompt axis (empty when prompts do not vary)."""
    for key in ("rows", "cols"):
        axis = spec.get(key)
        if axis and axis["axis"] == "prompt":
            return dict(zip(axis["labels"], axis["values"], strict=False))
    return {}


# --- word diff of prompt variants ---------------------------------------------------------------

_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff(base: str, variant: str) -> list[tuple[str, str]]:
    """The variant against the base, word by word: ``("same" | "added" | "removed", text)``.

    >>> word_diff("a red fox runs", "a grey fox runs fast")
    [('same', 'a '), ('removed', 'red'), ('added', 'grey'), ('same', ' fox runs'), ('added', ' fast')]
    """
    a, b = _TOKEN.findall(base), _TOKEN.findall(variant)
    out: list[tuple[str, str]] = []

    def emit(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            emit("same", "".join(a[i1:i2]))
        else:
            emit("removed", "".join(a[i1:i2]))
            emit("added", "".join(b[j1:j2]))
    return out


def diff_html(ops: list[tuple[str, str]]) -> str:
    """The diff as HTML with every piece of prompt text escaped (prompts are user text).

    >>> diff_html([("same", "a "), ("added", "<b>")])
    '<span>a </span><ins>&lt;b&gt;</ins>'
    """
    tags = {"same": "span", "added": "ins", "removed": "del"}
    return "".join(f"<{tags[op]}>{html.escape(text)}</{tags[op]}>" for op, text in ops)
