"""Studio drafts: what they hold, how they are read back (never a label for a value), per workspace and participant."""

from __future__ import annotations

import doctest

import pytest

from lib import catalog, drafts
from lib.store import Store

PID = "pid_a_0000000000000000000000"


def test_doctest():
    result = doctest.testmod(drafts)
    assert result.attempted and not result.failed


@pytest.mark.parametrize(
    ("field", "shown", "value"),
    [
        *[("aspect_ratio", label, ratio) for ratio, label in catalog.ASPECT_RATIO_LABELS.items()],
        *[("aspect_ratio", f"{catalog.ASPECT_RATIO_LABELS[r]} — 1×1", r) for r in catalog.ASPECT_RATIOS],
        *[("model", m.label, m.id) for m in catalog.MODELS.values()],
        *[("quality", q, q) for q in catalog.QUALITIES],
    ],
)
def test_a_menu_label_is_read_as_its_option(field, shown, value):
    assert drafts.choice(field, shown) == value
    assert drafts.choice(field, value) == value


def test_what_is_out_of_range_or_of_the_wrong_kind_is_dropped():
    assert drafts.clean({"duration": 16, "quality": "4K", "aspect_ratio": "2:1", "model": "sora"}) == {}
    assert drafts.clean({"duration": True, "generate_audio": 1, "prompt": 5, "input_video_seconds": 99}) == {}
    assert drafts.clean({"duration": 4.0, "web_search": False, "input_video_seconds": 2.5}) == {
        "duration": 4,
        "web_search": False,
        "input_video_seconds": 2.5,
    }
    assert drafts.loads("not json") == {} and drafts.loads("[1, 2]") == {} and drafts.loads(None) == {}


def test_drafts_are_per_workspace_and_participant_and_survive_a_new_store(tmp_path):
    db = Store(tmp_path)
    ws = db.create_workspace("A")
    other = db.create_workspace("B")
    values = {"prompt": "A fox 🦊 <b>", "model": "seedance-2.0-fast-text-to-video", "duration": 9, "image_urls": ""}
    assert db.save_draft(ws.id, PID, values)
    assert Store(tmp_path).load_draft(ws.id, PID) == values
    assert db.load_draft(other.id, PID) == {} and db.load_draft(ws.id, "pid_someone_else_000000000") == {}
    assert db.save_draft(ws.id, PID, {"prompt": "Changed"})
    assert db.load_draft(ws.id, PID) == {"prompt": "Changed"}
    db.clear_draft(ws.id, PID)
    assert db.load_draft(ws.id, PID) == {}


def test_a_draft_too_large_to_keep_is_refused_not_cut(tmp_path):
    db = Store(tmp_path)
    ws = db.create_workspace("A")
    db.save_draft(ws.id, PID, {"prompt": "kept"})
    assert not db.save_draft(ws.id, PID, {"prompt": "x" * (drafts.MAX_JSON + 1)})
    assert db.load_draft(ws.id, PID) == {"prompt": "kept"}
