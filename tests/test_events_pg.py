"""The relay between servers on one PostgreSQL: a change one server's store commits reaches the other's pages.

Two ``Relay``s with their own server ids (and, for the second, its own ``Bus``) stand in
for two servers; the database is the test session's throwaway cluster.
"""

from __future__ import annotations

import doctest

import pytest

from lib import events, events_pg
from lib.schema import GenerationRequest
from lib.store import Store
from tests.support.waiting import wait_until

REQ = GenerationRequest(model="seedance-2.0-fast-text-to-video", prompt="A gull", duration=4, quality="480p")


def test_doctest():
    result = doctest.testmod(events_pg)
    assert result.attempted and not result.failed


@pytest.fixture
def servers(pg_url):
    """(relay of this process's bus as server "a", relay of a second bus as server "b", that bus)."""
    other = events.Bus()
    a = events_pg.Relay(pg_url, "server-a").start()
    b = events_pg.Relay(pg_url, "server-b", bus=other).start()
    for relay in (a, b):
        assert relay.listening.wait(30), "the relay never connected"
    yield a, b, other
    a.stop()
    b.stop()


def test_a_change_committed_on_one_server_reaches_pages_on_the_other_once(servers, pg_url, tmp_path):
    a, b, other = servers
    store = Store(pg_url, data_dir=tmp_path)
    ws = store.create_workspace("Two servers")
    with other.subscribe(ws.id) as there, events.subscribe(ws.id) as here:
        run = store.create_run(ws.id, REQ, 10.0, True, "k")
        store.set_rating(run.id, 4)
        heard: list[events.RunEvent] = []
        wait_until(lambda: heard.extend(there.wait(0.2)) or len(heard) >= 2, 30, message=lambda: f"heard {heard}")
        assert [(e.run_id, e.kind) for e in heard] == [(run.id, "created"), (run.id, "rated")]
        # This server heard its own notices once, in memory: its relay skips them when they come back.
        mine = here.wait(1)
        assert [(e.run_id, e.kind) for e in mine] == [(run.id, "created"), (run.id, "rated")]
        wait_until(lambda: a.stats["sent"] >= 2, 30)
        assert b.stats["sent"] == 0
        assert here.wait(0.5) == []


def test_notices_flow_again_after_the_database_restarts(servers, pg_cluster):
    _, b, other = servers
    with other.subscribe("ws_restart") as there:
        pg_cluster.restart()
        seen: list[events.RunEvent] = []
        # What was sent while the listener was away is lost: the pages here are told to re-read.
        wait_until(lambda: seen.extend(there.wait(0.2)) or seen, 60, message="no resync after the restart")
        assert [e.kind for e in seen] == ["resync"] and b.stats["reconnects"] >= 1

        def heard() -> bool:
            events.publish("ws_restart", "run_after1", "updated")  # the sender reconnects on demand
            return any(e.run_id == "run_after1" for e in there.wait(0.5))

        wait_until(heard, 60, interval=0.2, message="no notice crossed after the restart")


def test_a_notice_from_elsewhere_that_makes_no_sense_is_ignored(servers):
    _, b, other = servers
    with other.subscribe("ws_x") as there:
        for junk in ("not json", '{"s": "server-a"}', '{"s": "x", "w": "ws_x", "r": "r", "k": "drop table"}'):
            b._heard(junk)
        b._heard('{"s": "server-b", "w": "ws_x", "r": "r", "k": "updated"}')  # its own: skipped
        assert there.wait(0.2) == []


def test_no_relay_on_sqlite(tmp_path):
    assert events_pg.start(f"sqlite:///{tmp_path / 'studio.db'}", "server-a") is None
