"""Bad input from users and hostile data from servers: refused with a plain message, or kept verbatim, never run.

* every ``GenerationRequest`` field with out-of-range, wrong-type, oversize and hostile
  values;
* a provider (``httpx.MockTransport``) sending path-traversal task ids, HTML in error
  texts, a 1 GB result (declared, and endless), a web page instead of a video, and
  non-http result links: the worker ends each run clearly, writes nothing but
  random-token files, and stores server text as bounded plain text;
* the Gallery page (AppTest) showing a run whose error text is HTML: literal text only.
"""

from __future__ import annotations

import json
import math
import re
import time

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from lib import archive, export, submit
from lib.client import EvolinkClient
from lib.schema import GenerationRequest, error_messages
from lib.status import TERMINAL, RunStatus
from lib.store import Store, tables
from lib.text import ERROR_TEXT_MAX
from lib.worker import Worker
from tests.support.apptest import walk
from tests.support.media import make_mp4
from tests.support.runs import FP, KEY, MODEL

BASE = "https://api.hostile.test"
HOSTILE_HTML = "<script>alert(1)</script><b>x</b>"

# --- the request model ---------------------------------------------------------------------------

BAD_VALUES = (
    [("model", v) for v in ("gpt-4", "", None, 123, "../../etc/passwd", "seedance-2.0-text-to-video ", HOSTILE_HTML)]
    + [("prompt", v) for v in ("", "   \n\t", None, 123, ["a"], "x" * 1_000_000, "汉" * 12_000)]
    + [("duration", v) for v in (3, 16, 0, -1, 4.5, "5", True, 10**100, math.nan, math.inf, [5])]
    + [("quality", v) for v in ("4k", "", 720, "720P", HOSTILE_HTML, b"720p")]
    + [("aspect_ratio", v) for v in ("16/9", "1:1 ", "", 1.77, "21:9" * 1000)]
    + [(f, v) for f in ("generate_audio", "content_filter", "web_search") for v in ("yes", 1, 0, "false", [], {})]
    + [
        ("image_urls", v)
        for v in (
            "http://x.test/a.png",
            ["javascript:alert(1)"],
            ["file:///etc/passwd"],
            [123],
            ["ftp://x.test/a.png"],
            {"a": 1},
        )
    ]
    + [
        ("callback_url", v)
        for v in (
            "http://example.com/h",
            "https://127.0.0.1/h",
            "https://localhost/h",
            "https://[::1]/h",
            "https://0x7f.1/h",
            "https://10.0.0.1/h",
            "javascript:alert(1)",
            123,
            "https://example.com/" + "a" * 3000,
        )
    ]
    + [
        ("api_key", "sk-smuggled"),  # not a field: extra keys are refused, not passed through
    ]
)


@pytest.mark.parametrize("field,value", BAD_VALUES, ids=lambda x: repr(x)[:40])
def test_bad_request_values_are_refused_with_a_plain_message(field, value):
    body = {"model": MODEL, "prompt": "A fox in snow", field: value}
    with pytest.raises(ValidationError) as err:  # how fast, for oversize values too: bench/validation.py
        GenerationRequest.from_payload(body)
    messages = error_messages(err.value)
    assert messages, "no message for the user"
    for msg in messages.values():
        assert isinstance(msg, str) and 10 < len(msg) < 400, msg
        assert msg[0].isupper() or msg.startswith(f"{field}:"), msg
        for jargon in ("Traceback", "pydantic", "type=", "input_value", "errors.pydantic.dev"):
            assert jargon not in msg, msg


HOSTILE_PROMPTS = [
    HOSTILE_HTML,
    "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)) `code`",
    "control \x00\x07\x1b[31mred\x1b[0m and \u202eRTL override",
    "'; DROP TABLE runs; --",
    "{{7*7}} ${7*7} %(x)s {0}",
    "emoji 🎬, 中文提示词, عربي",
    "line one\nline two\r\nline three",
]


@pytest.mark.parametrize("prompt", HOSTILE_PROMPTS, ids=range(len(HOSTILE_PROMPTS)))
def test_hostile_prompts_are_stored_and_exported_verbatim(tmp_path, prompt):
    req = GenerationRequest(model=MODEL, prompt=prompt)
    assert req.to_payload()["prompt"] == prompt
    db = Store(tmp_path)
    ws = db.create_workspace(prompt)  # workspace names are untrusted too: stored as plain text
    run = submit.prepare(db, ws.id, req, fingerprint=FP, submit_key="k1")
    again = db.get_run(run.id)
    assert again.request.prompt == prompt
    with db.engine.connect() as conn:  # the SQL "injection" did nothing
        count = [sa.select(sa.func.count()).select_from(t) for t in (tables.runs, tables.workspaces)]
        counts = [conn.execute(q).scalar_one() for q in count]
    assert counts == [1, 1]
    csv = export.to_csv([again]).decode()
    doc = json.loads(export.to_json(ws, [again]))
    assert doc["runs"][0]["prompt"] == prompt
    assert prompt.replace("\r\n", "\n").split("\n")[0] in csv


# --- a hostile provider ----------------------------------------------------------------------------


class Hostile:
    """A provider whose every answer is set per test; records what the app asked for."""

    def __init__(self, task: dict, download=None) -> None:
        self.task = task
        self.download = download or (lambda req: httpx.Response(404))
        self.requests: list[httpx.Request] = []
        self.streamed = 0

    def api(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        if req.method == "POST":
            return httpx.Response(200, json={**self.task, "status": "pending", "progress": 0})
        return httpx.Response(200, json=self.task)

    def files(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        return self.download(req)

    def endless(self, chunk: int = 256 * 1024):
        def gen():
            block = b"\0" * chunk
            while True:
                self.streamed += len(block)
                if self.streamed > 2 * 1024**3:  # a safety net for the test itself
                    raise AssertionError("the download did not stop at the cap")
                yield block

        return gen()


def hostile_run(tmp_path, provider: Hostile, *, max_bytes=archive.MAX_BYTES, attempts=2, must_end=True):
    """Submit one run to ``provider`` and step the worker on a fake clock until the run ends."""
    db = Store(tmp_path)
    ws = db.create_workspace("hostile")
    req = GenerationRequest(model=MODEL, prompt="A fox", duration=4, quality="480p", aspect_ratio="16:9")
    client = EvolinkClient(KEY, base_url=BASE, transport=httpx.MockTransport(provider.api))
    run = submit.send(db, client, submit.prepare(db, ws.id, req, fingerprint=FP, submit_key="h1"))
    now = [time.time()]
    w = Worker(
        db,
        max_bytes=max_bytes,
        archive_attempts=attempts,
        archive_backoff=0.0,
        download_client=httpx.Client(transport=httpx.MockTransport(provider.files)),
        clock=lambda: now[0],
    )
    w.register_key(KEY, BASE, transport=httpx.MockTransport(provider.api))
    for _ in range(200):
        if db.get_run(run.id).status in TERMINAL:
            break
        now[0] += 5.0
        w.run_once(now[0])
    w.close()
    client.close()
    final = db.get_run(run.id)
    if must_end or final.status in TERMINAL:
        assert final.status in TERMINAL, final
        assert final.status == RunStatus.ARCHIVED or (final.error_code and final.error_message)
    # Nothing but random-token files under the data dir's media; nothing half-written.
    media = list((tmp_path / "media").glob("*")) if (tmp_path / "media").exists() else []
    assert all(archive.valid_token(p.stem) and p.suffix == ".mp4" for p in media), media
    assert not list((tmp_path / "tmp").glob("*")) if (tmp_path / "tmp").exists() else True
    assert {p.name for p in tmp_path.iterdir()} <= {"studio.db", "studio.db-wal", "studio.db-shm", "media", "tmp"}
    return final


def completed(url: str, **extra) -> dict:
    return {"id": "task-unified-1-abcdefgh", "status": "completed", "progress": 100, "results": [url], **extra}


@pytest.mark.parametrize(
    "task_id",
    ["../../../etc/passwd", "..", "a/../../b", "task-unified-1/../../credits", "%2e%2e%2fetc", "x\x00y", "x" * 5000],
)
def test_path_traversal_task_ids_never_reach_a_path(tmp_path, task_id):
    provider = Hostile({"id": task_id, "status": "processing", "progress": 5})
    # Ids that cannot steer a path are polled like any other (this provider says "processing" forever).
    final = hostile_run(tmp_path, provider, must_end=False)
    gets = [r for r in provider.requests if r.method == "GET"]
    for r in gets:
        assert r.url.path.startswith("/v1/tasks/") and r.url.path.count("/") == 3, r.url
        assert "/v1/tasks/.." not in r.url.path and "/etc/" not in r.url.path
    if "/" in task_id or task_id == "..":
        assert final.status == RunStatus.FAILED and final.error_code == "invalid_task_id" and not gets
    assert final.task_id is None or len(final.task_id) <= 256


def test_html_in_a_failed_task_is_stored_as_bounded_plain_text(tmp_path):
    message = HOSTILE_HTML + " \x1b[31m" + "y" * 100_000
    provider = Hostile(
        {
            "id": "task-unified-1-abcdefgh",
            "status": "failed",
            "progress": 100,
            "error": {"code": "<img src=x onerror=alert(1)>" * 10, "message": message},
        }
    )
    final = hostile_run(tmp_path, provider)
    assert final.status == RunStatus.FAILED
    assert final.error_message.startswith(HOSTILE_HTML)  # verbatim (never rendered as HTML) ...
    assert (
        len(final.error_message) <= ERROR_TEXT_MAX and "\x1b" not in final.error_message
    )  # ... but bounded, printable
    assert len(final.error_code) <= 64


def test_a_declared_1_gb_result_is_refused_before_downloading(tmp_path):
    def huge(req):
        return httpx.Response(
            200, headers={"content-length": str(1024**3), "content-type": "video/mp4"}, content=provider.endless()
        )

    provider = Hostile(completed("https://cdn.hostile.test/huge.mp4"), huge)
    final = hostile_run(tmp_path, provider)
    assert final.status == RunStatus.FAILED and final.error_code == "archive_failed"
    assert "limit" in final.error_message
    assert provider.streamed <= 1024**2  # refused on the header: at most the first chunk was pulled


def test_an_endless_result_stops_at_the_cap(tmp_path):
    cap = 3 * 1024**2

    def endless(req):
        return httpx.Response(200, headers={"content-type": "video/mp4"}, content=provider.endless())

    provider = Hostile(completed("https://cdn.hostile.test/endless.mp4"), endless)
    final = hostile_run(tmp_path, provider, max_bytes=cap)
    assert final.status == RunStatus.FAILED and final.error_code == "archive_failed" and "limit" in final.error_message
    assert provider.streamed <= cap + 2 * archive.CHUNK
    assert final.archive_attempts == 0  # too large is final: not downloaded again


@pytest.mark.parametrize(
    "body,ctype",
    [
        (b"<html><body>" + HOSTILE_HTML.encode() + b"</body></html>", "text/html"),
        (b"\x00" * 5000, "video/mp4"),
        (b"", "video/mp4"),
    ],
)
def test_a_result_that_is_not_a_video_is_refused(tmp_path, body, ctype):
    provider = Hostile(
        completed("https://cdn.hostile.test/v.mp4"),
        lambda req: httpx.Response(200, content=body, headers={"content-type": ctype}),
    )
    final = hostile_run(tmp_path, provider, attempts=2)
    assert final.status == RunStatus.FAILED and final.error_code == "archive_failed"
    assert "video" in final.error_message and "<" not in final.error_message
    assert final.media_token is None


def test_the_wrong_video_is_refused(tmp_path):
    clip = make_mp4(seconds=1, width=320, height=240)  # asked: 4 s at 480p
    provider = Hostile(completed("https://cdn.hostile.test/v.mp4"), lambda req: httpx.Response(200, content=clip))
    final = hostile_run(tmp_path / "data", provider, attempts=1)
    assert final.status == RunStatus.FAILED and final.error_code == "archive_failed"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://cdn.hostile.test/v.mp4",
        "//cdn.hostile.test/v.mp4",
        "https://",
        "x" * 9000,
    ],
)
def test_result_links_that_are_not_http_are_never_opened(tmp_path, url):
    provider = Hostile(completed(url))
    final = hostile_run(tmp_path, provider)
    assert final.status == RunStatus.FAILED
    assert not [r for r in provider.requests if r.url.host == "cdn.hostile.test"]


def test_a_redirect_to_a_local_file_is_not_followed(tmp_path):
    provider = Hostile(
        completed("https://cdn.hostile.test/v.mp4"),
        lambda req: httpx.Response(302, headers={"location": "file:///etc/passwd"}),
    )
    final = hostile_run(tmp_path, provider)
    assert final.status == RunStatus.FAILED and final.media_token is None


# --- the gallery shows hostile text as text ----------------------------------------------------------


def test_gallery_shows_html_from_the_server_as_literal_text(demo_app):
    from lib.schema import Task, TaskError

    db = demo_app.store
    ws = db.create_workspace(HOSTILE_HTML)
    req = GenerationRequest(model=MODEL, prompt=HOSTILE_HTML + " a fox", duration=4, quality="480p")
    run = submit.prepare(db, ws.id, req, fingerprint=FP, submit_key="g1")
    db.claim_submit(run.id)
    db.mark_submitted(run.id, Task(id="task-unified-1-abcdefgh", status="pending"))
    db.update_from_task(
        run.id,
        Task(
            id="task-unified-1-abcdefgh",
            status="failed",
            error=TaskError(code="<img src=x onerror=alert(1)>", message=HOSTILE_HTML),
        ),
    )
    at = demo_app.open("pages/gallery.py", query_params={"ws": ws.id, "run": run.id})  # its details
    texts = [t.value for t in at.text]
    assert HOSTILE_HTML in texts  # the error message, as plain text
    assert any(t.startswith(HOSTILE_HTML) for t in texts)  # the prompt, as plain text
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        assert not getattr(proto, "allow_html", False) or "<" not in str(proto), "HTML allowed for server text"
        if node.type in ("markdown", "caption", "error", "warning", "info", "success", "alert"):
            assert "<script" not in str(getattr(node, "value", "")), f"{node.type} carries a script: {node.value!r}"


def test_server_text_cannot_escape_its_code_span_into_markdown(demo_app):
    from lib.schema import Task, TaskError

    db = demo_app.store
    ws = db.create_workspace("md")
    run = submit.prepare(db, ws.id, GenerationRequest(model=MODEL, prompt="A fox"), fingerprint=FP, submit_key="m1")
    db.claim_submit(run.id)
    task_id = "task-unified-1` ![pixel](https://evil.test/p.png) [click](https://evil.test) `x"
    db.mark_submitted(run.id, Task(id=task_id, status="pending"))
    db.update_from_task(
        run.id, Task(id=task_id, status="failed", error=TaskError(code="e` [click](https://evil.test) `", message="m"))
    )
    at = demo_app.open("pages/gallery.py", query_params={"ws": ws.id})
    for node in walk(at._tree):
        if node.type in ("markdown", "caption", "error", "warning", "info", "success"):
            # Outside code spans, no Markdown link or image built from server text.
            outside = re.sub(r"(`+)(.+?)\1", "", str(getattr(node, "value", "")))
            assert "](https://evil.test" not in outside, f"{node.type}: {node.value!r}"
