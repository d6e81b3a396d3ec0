"""Members of a workspace: the facilitator and the link that makes one, participants, names, recent workspaces."""

from __future__ import annotations

import hmac

import pytest

from lib.store import Role, Store, members
from lib.store.members import secret_hash
from lib.store.tables import workspaces
from tests.support.database import migrated

A, B, C = "pid_a_0000000000000000000000", "pid_b_0000000000000000000000", "pid_c_0000000000000000000000"


@pytest.fixture
def db(tmp_path) -> Store:
    return Store(migrated(tmp_path))


def test_whoever_starts_a_workspace_facilitates_it_and_only_a_hash_of_the_secret_is_stored(db):
    ws, secret = db.start_workspace(A, "Monday")
    assert db.is_facilitator(ws.id, A) and len(secret) >= 32
    with db.engine.connect() as conn:
        stored = conn.execute(workspaces.select().where(workspaces.c.id == ws.id)).first()._mapping
    assert stored["facilitator_hash"] == secret_hash(secret) and secret not in str(dict(stored))
    assert [(m.participant_id, m.role, m.display_name) for m in db.members(ws.id)] == [
        (A, Role.FACILITATOR, "Facilitator")
    ]


def test_newcomers_are_participants_with_names_of_their_own(db):
    ws, _ = db.start_workspace(A)
    assert db.join(ws.id, B).role is Role.PARTICIPANT and not db.is_facilitator(ws.id, B)
    assert db.join(ws.id, C).display_name == "Participant 2"
    assert db.join(ws.id, B).display_name == "Participant 1"  # a second visit is the same member
    assert [m.participant_id for m in db.members(ws.id)] == [A, B, C]
    with pytest.raises(KeyError):
        db.join("no-such-ws", B)


def test_the_facilitator_link_makes_another_browser_a_facilitator_only_with_the_right_secret(db):
    ws, secret = db.start_workspace(A)
    db.join(ws.id, B)
    for wrong in ("", "x", secret[:-1], secret + "x", secret.upper()):
        assert not db.claim_facilitator(ws.id, B, wrong)
    assert not db.is_facilitator(ws.id, B)
    assert db.claim_facilitator(ws.id, B, secret) and db.is_facilitator(ws.id, B)
    assert db.claim_facilitator(ws.id, C, secret) and db.member(ws.id, C).facilitator  # a browser new to it
    other, _ = db.start_workspace(A)
    assert not db.claim_facilitator(other.id, B, secret)  # a secret opens its own workspace only


def test_the_secret_is_compared_in_constant_time_and_never_logged(db, monkeypatch, caplog):
    compared, real = [], hmac.compare_digest
    monkeypatch.setattr(members.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    caplog.set_level("DEBUG")
    ws, secret = db.start_workspace(A)
    assert not db.claim_facilitator(ws.id, B, secret + "x")
    assert db.claim_facilitator(ws.id, B, secret)
    assert compared == [(secret_hash(secret + "x"), secret_hash(secret)), (secret_hash(secret), secret_hash(secret))]
    assert secret not in caplog.text and secret_hash(secret) not in caplog.text


def test_a_workspace_from_before_roles_is_adopted_by_its_first_visitor(db):
    legacy = db.create_workspace("Old")
    assert db.join(legacy.id, B).role is Role.FACILITATOR
    assert db.join(legacy.id, C).role is Role.PARTICIPANT


def test_a_display_name_is_per_workspace_and_carried_to_the_runs(db):
    from lib.schema import GenerationRequest

    ws, _ = db.start_workspace(A)
    other, _ = db.start_workspace(A)
    db.join(ws.id, B)
    run = db.create_run(
        ws.id,
        GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox"),
        1,
        True,
        "k",
        participant="Participant 1",
        participant_id=B,
    )
    db.set_display_name(ws.id, B, "  Bea <b>  ")
    assert db.member(ws.id, B).display_name == "Bea <b>"
    assert db.get_run(run.id).participant == "Bea <b>"
    assert db.member(other.id, B) is None
    with pytest.raises(ValueError):
        db.set_display_name(ws.id, B, "   ")
    with pytest.raises(KeyError):
        db.set_display_name(other.id, B, "Bea")


def test_recent_workspaces_are_this_browsers_most_recent_first(db):
    first, _ = db.start_workspace(A, "First", now=100.0)
    second, _ = db.start_workspace(B, "Second", now=200.0)
    db.join(second.id, A, now=300.0)
    assert [w.name for w in db.recent_workspaces(A)] == ["Second", "First"]
    db.join(first.id, A, now=400.0)
    assert [w.name for w in db.recent_workspaces(A)] == ["First", "Second"]
    assert [w.name for w in db.recent_workspaces(C)] == [] and db.recent_workspaces(None) == []
    assert len(db.recent_workspaces(A, limit=1)) == 1
