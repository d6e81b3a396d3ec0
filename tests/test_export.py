"""Exports: the video link, whole-number ratings, the participant's name and a public id, and no secrets."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lib import export
from lib.identity import new_participant_id, public_id
from lib.schema import GenerationRequest, Task
from lib.settings import override
from lib.store import Store, new_id, valid_id

REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A kite", duration=4, quality="480p")


@pytest.fixture
def seeded(tmp_path):
    db = Store(tmp_path)
    pid = new_participant_id()
    ws, _secret = db.start_workspace(pid, "Workshop")
    db.set_display_name(ws.id, pid, "Ana")
    done = db.create_run(ws.id, REQ, 10.0, True, "k_test", participant="Ana", participant_id=pid)
    db.claim_submit(done.id)
    db.mark_submitted(done.id, Task(id="task-1", status="pending"))
    db.update_from_task(done.id, Task(id="task-1", status="completed", results=["https://cdn.example/v.mp4"]))
    db.mark_archived(done.id, "t" * 32, 1000, 4.0, 864, 496)
    db.set_rating(done.id, 4)
    waiting = db.create_run(ws.id, REQ, 10.0, True, "k_test", participant="Ana", participant_id=pid)
    return db, ws, pid, db.get_run(done.id), waiting


def test_csv_has_the_video_link_a_whole_rating_and_the_participant(seeded):
    db, ws, pid, done, waiting = seeded
    text = export.to_csv(db.list_runs(ws.id), base_url="https://studio.example").decode()
    by_id = {r["run_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert by_id[done.id]["video_link"] == f"https://studio.example/api/media/{'t' * 32}"
    assert by_id[done.id]["rating"] == "4" and by_id[waiting.id]["rating"] == ""
    assert by_id[done.id]["participant"] == "Ana"
    assert by_id[done.id]["participant_id"] == public_id(pid, ws.id) == by_id[waiting.id]["participant_id"]
    assert by_id[waiting.id]["video_link"] == ""
    assert pid not in text  # the id a browser presents to be Ana never leaves the server


def test_ids_never_start_like_a_formula_so_an_export_keeps_them():
    # A run id starting with "-" came out of the CSV as "'-…" (neutralized) and no longer
    # matched its run: one id in 64 did.
    ids = [new_id() for _ in range(5000)] + [new_id(8) for _ in range(5000)]
    assert [i for i in ids if i.startswith(export.FORMULA_STARTS)] == []
    assert all(valid_id(i) for i in ids)


def test_json_carries_the_same_and_the_link_falls_back_to_the_public_url(seeded):
    db, ws, pid, done, _waiting = seeded
    with override(public_url="https://public.example"):
        doc = json.loads(export.to_json(ws, db.list_runs(ws.id)))
    [record] = [r for r in doc["runs"] if r["run_id"] == done.id]
    assert record["rating"] == 4 and isinstance(record["rating"], int)
    assert record["video_link"] == f"https://public.example/api/media/{'t' * 32}"
    assert record["participant_id"] == public_id(pid, ws.id)
    assert pid not in json.dumps(doc)
    with override(public_url=None):
        [record] = [r for r in json.loads(export.to_json(ws, [done]))["runs"]]
    assert record["video_link"] == f"/api/media/{'t' * 32}"  # a path on this server
