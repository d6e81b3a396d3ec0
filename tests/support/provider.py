"""A fake Evolink API as an ``httpx.MockTransport``: hand ``provider.transport`` to a client or to the app.

The app takes it through its settings (``lib.settings.override(transport=...)``), so a
page test reaches this provider the way httpx intends, not by patching the client.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from lib.schema import GenerationRequest

POST_PATH = "/v1/videos/generations"
TASK_PATH = "/v1/tasks/"
CREDITS_PATH = "/v1/credits"


class FakeProvider:
    """Answers every POST with a new pending task ``task_<n>``; knows those tasks and a balance.

    ``posts`` holds every request body it was sent (parsed), ``requests`` every
    (method, path). Set ``on_post`` to answer a POST yourself: it gets the parsed
    request and returns a response, or None for the usual answer, or raises (e.g.
    ``httpx.ReadTimeout``) as a network would.
    """

    def __init__(self, balance: float = 10_000.0) -> None:
        self.posts: list[GenerationRequest] = []
        self.requests: list[tuple[str, str]] = []
        self.tasks: dict[str, dict] = {}
        self.balance = balance
        self.on_post: Callable[[GenerationRequest, httpx.Request], httpx.Response | None] | None = None
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path  # the app may talk to a prefix, e.g. the demo's /sim
        self.requests.append((request.method, path))
        if request.method == "POST" and path.endswith(POST_PATH):
            return self._create(request)
        if request.method == "GET" and TASK_PATH in path:
            task = self.tasks.get(path.rsplit("/", 1)[-1])
            if task is None:
                return error_response(404, "task_not_found", "The requested task could not be found")
            return httpx.Response(200, json=task)
        if request.method == "GET" and path.endswith(CREDITS_PATH):
            amounts = {"remaining_credits": self.balance, "used_credits": 0.0, "unlimited_credits": False}
            return httpx.Response(200, json={"data": {"token": amounts}, "success": True})
        return error_response(404, "not_found", f"No route {request.method} {path}")

    def _create(self, request: httpx.Request) -> httpx.Response:
        parsed = GenerationRequest.from_payload(json.loads(request.content))
        self.posts.append(parsed)
        if self.on_post is not None:
            answer = self.on_post(parsed, request)
            if answer is not None:
                return answer
        task = {
            "id": f"task_{len(self.posts)}",
            "object": "video.generation.task",
            "model": parsed.model,
            "status": "pending",
            "progress": 0,
            "task_info": {"can_cancel": True, "estimated_time": 60},
        }
        self.tasks[task["id"]] = task
        return httpx.Response(200, json=task)


def error_response(status: int, code: str, message: str) -> httpx.Response:
    """An error answer in the provider's shape (``{"error": {code, message, type}}``)."""
    return httpx.Response(status, json={"error": {"code": code, "message": message, "type": "invalid_request_error"}})
