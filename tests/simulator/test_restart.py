"""A restarted simulator on the same data dir still knows its tasks (the demo survives a server restart),
and its balance starts fresh: what an earlier process billed is neither kept nor billed again."""

from __future__ import annotations

import time

import httpx

from lib.simulator import serve_in_thread
from tests.support.waiting import Clock, wait_until

AUTH = {"Authorization": "Bearer sk-test"}


def _create(base: str, prompt: str) -> dict:
    body = {"model": "seedance-2.0-fast-text-to-video", "prompt": prompt, "duration": 4, "quality": "480p"}
    r = httpx.post(f"{base}/v1/videos/generations", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def _wait(base: str, task_id: str) -> dict:
    def finished() -> dict | None:
        task = httpx.get(f"{base}/v1/tasks/{task_id}", headers=AUTH).json()
        return task if task["status"] in ("completed", "failed") else None

    return wait_until(finished, interval=0.1, message=f"task {task_id} did not finish")


def test_finished_and_unfinished_tasks_survive_a_restart(tmp_path):
    with serve_in_thread(port=0, speed=200, data_dir=tmp_path) as sim:
        done = _create(sim.base_url, "A finished fox")
        _wait(sim.base_url, done["id"])
        failed = _create(sim.base_url, "A doomed fox [fail:generation_timeout]")
        spent = httpx.get(f"{sim.base_url}/v1/credits", headers=AUTH).json()["data"]["token"]["used_credits"]
    assert spent > 0
    # Its clock stands still: this task is certainly unfinished when the process stops.
    with serve_in_thread(port=0, speed=0.5, data_dir=tmp_path, clock=Clock(time.time())) as sim:
        running = _create(sim.base_url, "An unfinished fox")
    with serve_in_thread(port=0, speed=200, data_dir=tmp_path) as sim:
        again = httpx.get(f"{sim.base_url}/v1/tasks/{done['id']}", headers=AUTH).json()
        assert again["status"] == "completed"
        assert httpx.get(again["results"][0]).status_code == 200  # the file is still served
        assert _wait(sim.base_url, failed["id"])["error"]["code"] == "generation_timeout"
        used = httpx.get(f"{sim.base_url}/v1/credits", headers=AUTH).json()["data"]["token"]["used_credits"]
        assert used == 0  # a fresh balance, and the earlier completion is not billed again
        # The unfinished task is rendered by the new process and completes on its original schedule.
        assert httpx.get(f"{sim.base_url}/v1/tasks/{running['id']}", headers=AUTH).json()["status"] != "failed"
