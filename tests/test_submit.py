"""Submit keys: a double click (or a click queued behind a slow POST) is one submission; anything else is new."""

from __future__ import annotations

import doctest

import pytest

from lib import submit
from lib.schema import GenerationRequest
from lib.store import Store

FOX = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox runs through snow")
OWL = GenerationRequest(model="seedance-2.0-text-to-video", prompt="An owl at night")


def test_doctest():
    result = doctest.testmod(submit)
    assert result.attempted and not result.failed


def test_the_same_request_while_its_post_is_under_way_is_the_same_submission():
    state: dict = {}
    key = submit.form_key(FOX, state, now=0.0)
    # However long the POST takes, a click queued behind it is the same submission.
    assert submit.form_key(FOX, state, now=600.0) == key


def test_the_window_starts_when_the_answer_arrives():
    state: dict = {}
    key = submit.form_key(FOX, state, now=0.0)
    submit.answered(state, key, now=30.0)
    assert submit.form_key(FOX, state, now=30.0 + submit.DOUBLE_CLICK_WINDOW - 0.01) == key
    later = submit.form_key(FOX, state, now=30.0 + submit.DOUBLE_CLICK_WINDOW)
    assert later != key  # a deliberate second run of the same request
    assert submit.form_key(FOX, state, now=31.0 + submit.DOUBLE_CLICK_WINDOW) == later  # that one is sending


def test_a_different_request_is_a_new_submission_at_once():
    state: dict = {}
    fox = submit.form_key(FOX, state, now=0.0)
    owl = submit.form_key(OWL, state, now=0.1)
    assert owl != fox and owl.startswith(submit.payload_digest(OWL))
    assert submit.form_key(FOX, state, now=0.2) not in (fox, owl)


def test_an_answer_for_another_key_changes_nothing():
    state: dict = {}
    key = submit.form_key(FOX, state, now=0.0)
    submit.answered(state, "someone-else", now=1.0)
    assert state["sending"] and submit.form_key(FOX, state, now=999.0) == key


def test_the_window_can_be_set_per_call():
    state: dict = {}
    key = submit.form_key(FOX, state, now=0.0)
    submit.answered(state, key, now=0.0)
    assert submit.form_key(FOX, state, now=0.5, window=1.0) == key
    assert submit.form_key(FOX, state, now=1.5, window=1.0) != key


def test_the_digest_is_of_exactly_what_is_sent():
    assert submit.payload_digest(FOX) == submit.payload_digest(FOX.model_copy())
    assert submit.payload_digest(FOX) != submit.payload_digest(FOX.model_copy(update={"duration": 6}))


def test_group_and_retry_keys_are_stable_and_distinct():
    assert submit.group_key("grp_1", 0) == submit.group_key("grp_1", 0) != submit.group_key("grp_1", 1)
    assert submit.retry_key("run123") == submit.retry_key("run123") != submit.retry_key("run124")


@pytest.mark.parametrize("window_passed", [False, True])
def test_keys_drive_the_store_one_run_per_submission(tmp_path, window_passed):
    db = Store(tmp_path)
    ws = db.create_workspace()
    state: dict = {}
    first = submit.prepare(db, ws.id, FOX, fingerprint="k", submit_key=submit.form_key(FOX, state, now=0.0))
    submit.answered(state, first.submit_key, now=1.0)
    now = 1.0 + (submit.DOUBLE_CLICK_WINDOW if window_passed else 0.5)
    second = submit.prepare(db, ws.id, FOX, fingerprint="k", submit_key=submit.form_key(FOX, state, now=now))
    assert (second.id != first.id) is window_passed
    assert len(db.list_runs(ws.id)) == (2 if window_passed else 1)
