"""Gallery filters: each field narrows the runs, an empty one does not, and the two orders."""

from __future__ import annotations

import doctest

import pytest

from lib import gallery
from lib.gallery import GalleryFilter, Sort
from lib.schema import GenerationRequest, Task
from lib.status import RunStatus
from lib.store import Store


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Five runs of one workspace, newest first, as the gallery reads them."""
    db = Store(tmp_path_factory.mktemp("gallery"))
    ws = db.create_workspace()
    specs = [
        ("A Fox in snow", "seedance-2.0-text-to-video", "720p", "Ana", 5, "archive"),
        ("an owl at night", "seedance-2.0-fast-text-to-video", "480p", "ben", 2, "archive"),
        ("A fox at dawn", "seedance-2.0-fast-text-to-video", "720p", None, None, "fail"),
        ("A boat", "seedance-2.0-text-to-video", "480p", "Ana", 4, None),
        ("A snowy FOX", "seedance-2.0-text-to-video", "480p", "ben", 2, "archive"),
    ]
    for i, (prompt, model, quality, who, rating, end) in enumerate(specs):
        req = GenerationRequest(model=model, prompt=prompt, quality=quality)
        run = db.create_run(ws.id, req, 10.0, True, "k", participant=who, now=100.0 + i)
        db.set_rating(run.id, rating)
        if end:
            db.mark_submitted(run.id, Task(id=f"task-unified-{i}", status="pending"))
        if end == "archive":
            db.update_from_task(run.id, Task(id="t", status="completed", results=["http://x/v.mp4"]))
            db.mark_archived(run.id, f"token{i:027d}", 10)
        elif end == "fail":
            db.update_from_task(run.id, Task(id="t", status="failed"))
    return db.list_runs(ws.id)


def prompts(found):
    return [r.request.prompt for r in found]


def test_doctest():
    result = doctest.testmod(gallery)
    assert result.attempted and not result.failed


def test_no_filter_keeps_every_run_newest_first(runs):
    assert GalleryFilter().apply(runs) == runs
    assert prompts(runs)[0] == "A snowy FOX"


def test_each_field_narrows(runs):
    assert prompts(GalleryFilter(statuses=frozenset({RunStatus.FAILED})).apply(runs)) == ["A fox at dawn"]
    assert prompts(GalleryFilter(statuses=frozenset({RunStatus.SUBMITTING})).apply(runs)) == ["A boat"]
    assert len(GalleryFilter(model="seedance-2.0-fast-text-to-video").apply(runs)) == 2
    assert prompts(GalleryFilter(quality="720p").apply(runs)) == ["A fox at dawn", "A Fox in snow"]
    assert prompts(GalleryFilter(min_rating=4).apply(runs)) == ["A boat", "A Fox in snow"]
    assert prompts(GalleryFilter(participant="Ana").apply(runs)) == ["A boat", "A Fox in snow"]


def test_text_search_ignores_case_and_surrounding_spaces(runs):
    found = GalleryFilter(text="  fox ").apply(runs)
    assert prompts(found) == ["A snowy FOX", "A fox at dawn", "A Fox in snow"]
    assert GalleryFilter(text="   ").apply(runs) == runs


def test_fields_combine(runs):
    f = GalleryFilter(text="fox", statuses=frozenset({RunStatus.ARCHIVED}), quality="480p")
    assert prompts(f.apply(runs)) == ["A snowy FOX"]


def test_best_rated_first_puts_unrated_last_and_breaks_ties_newest_first(runs):
    ordered = GalleryFilter(sort=Sort.RATING).apply(runs)
    assert prompts(ordered) == ["A Fox in snow", "A boat", "A snowy FOX", "an owl at night", "A fox at dawn"]
    assert gallery.sort_by_rating(runs) == ordered


def test_participants_are_listed_once_sorted_without_case(runs):
    assert gallery.participants(runs) == ["Ana", "ben"]
    assert list(gallery.SORT_LABELS) == list(Sort)
