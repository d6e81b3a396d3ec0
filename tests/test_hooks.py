"""The callback secret: created once, whole, mode 0600, the same for every process that races for it."""

from __future__ import annotations

import stat
import threading

from lib import hooks


def test_the_secret_is_made_once_and_kept(tmp_path):
    first = hooks.hook_secret(tmp_path)
    assert len(first) >= 32 and hooks.hook_secret(tmp_path) == first
    path = tmp_path / hooks.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [hooks.SECRET_FILE]  # no temporary file left


def test_an_empty_secret_left_by_a_crash_is_replaced(tmp_path):
    (tmp_path / hooks.SECRET_FILE).write_text("")
    value = hooks.hook_secret(tmp_path)
    assert value and (tmp_path / hooks.SECRET_FILE).read_text() == value
    assert not hooks.secret_matches(tmp_path, "")


def test_racing_processes_agree_on_one_secret(tmp_path):
    seen: list[str] = []
    start = threading.Barrier(8)

    def take() -> None:
        start.wait()
        seen.append(hooks.hook_secret(tmp_path))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1 and hooks.secret_matches(tmp_path, seen[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [hooks.SECRET_FILE]
