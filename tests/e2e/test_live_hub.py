"""The page's shared event stream (components/live.js) in Chromium, with a stand-in EventSource the test drives.

The stream outlives a page switch, so a notice can arrive while no card listens; a card
that mounts afterwards says which notice its page had heard of when it read the store
(``since``) and must hear every later one.
"""

from __future__ import annotations

import pytest

from components.live import HUB_JS

# An EventSource that the test feeds: ``window.fake.emit(data)`` sends a run notice, ``reopen()`` reconnects.
FAKE_EVENT_SOURCE = """
window.fake = { sources: [] };
window.EventSource = class {
  constructor(url) { this.url = url; this.handlers = {}; this.closed = false; window.fake.sources.push(this); }
  addEventListener(name, fn) { (this.handlers[name] ||= []).push(fn); }
  close() { this.closed = true; }
  fire(name, event) { for (const fn of this.handlers[name] || []) fn(event); }
};
window.fake.emit = (n) => window.fake.sources.at(-1).fire("run", { data: JSON.stringify(n) });
window.fake.reopen = () => window.fake.sources.at(-1).fire("open", {});
window.heard = {};
window.listen = (name, since) => {
  window.heard[name] = [];
  return window.HUB.join("/api/events/ws1", (n) => window.heard[name].push(n.kind + ":" + n.seq), since);
};
"""


@pytest.fixture
def hub(page):
    """A blank page with the hub and a stand-in EventSource: nothing of the app's server."""
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=FAKE_EVENT_SOURCE)
    page.add_script_tag(content=HUB_JS + "\nwindow.HUB = HUB;")
    return page


def run(page, statement: str) -> None:
    """Run JavaScript for its effect (a string that evaluates to a function would be called)."""
    page.evaluate(f"() => {{ {statement}; }}")


def heard(page, name: str) -> list[str]:
    return page.evaluate(f"window.heard[{name!r}]")


def test_a_card_that_mounts_after_a_notice_went_by_hears_it(hub):
    hub.evaluate("() => { window.leaveGallery = window.listen('gallery', 0); }")
    run(hub, "window.fake.emit({run: 'r1', kind: 'updated', seq: 4})")
    run(hub, "window.leaveGallery()")  # a page switch: the stream stays open, nobody listens
    run(hub, "window.fake.emit({run: 'r1', kind: 'finished', seq: 5})")
    run(hub, "window.fake.emit({run: 'r2', kind: 'created', seq: 6})")
    # The new gallery read the store after notice 4 and before notice 5.
    run(hub, "window.listen('again', 4)")
    assert heard(hub, "again") == ["finished:5", "created:6"]
    assert hub.evaluate("window.fake.sources.length") == 1  # one stream all along
    run(hub, "window.fake.emit({run: 'r1', kind: 'rated', seq: 7})")
    assert heard(hub, "again") == ["finished:5", "created:6", "rated:7"]


def test_a_card_that_read_after_every_notice_hears_none_again(hub):
    run(hub, "window.listen('first', 0)")
    run(hub, "window.fake.emit({run: 'r1', kind: 'finished', seq: 9})")
    run(hub, "window.listen('late', 9)")
    run(hub, "window.listen('unsaid')")  # no since: only what comes next
    assert heard(hub, "first") == ["finished:9"]
    assert heard(hub, "late") == []
    assert heard(hub, "unsaid") == []


def test_after_a_reconnect_old_notices_are_not_replayed(hub):
    """The server may have restarted: its seqs start again, so notices of the old stream mean nothing."""
    run(hub, "window.listen('first', 0)")
    run(hub, "window.fake.reopen()")
    run(hub, "window.fake.emit({run: 'r1', kind: 'finished', seq: 40})")
    run(hub, "window.fake.reopen()")  # reconnected: every listener hears a resync
    assert heard(hub, "first") == ["finished:40", "resync:0"]
    run(hub, "window.listen('after', 2)")
    assert heard(hub, "after") == []
