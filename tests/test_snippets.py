"""Code snippets: each one, run through its own language's parser, sends exactly to_payload()."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess

import pytest

from lib.schema import GenerationRequest
from lib.snippets import SNIPPETS, as_curl, as_node, as_python

PROMPTS = {
    "plain": "A red fox runs through snow",
    "apostrophes": "It's the fox's den; she said 'hello' and ''' twice",
    "double_quotes": 'The girl says "Good morning!" and waves',
    "newlines": "Shot 1: wide street.\nShot 2: close-up.\r\n\tTabbed line",
    "chinese": "一只小狐狸在雪地里奔跑，镜头缓慢推进。她说：\u201c你好\u201d",
    "shell": "$(rm -rf ~) `whoami` $HOME \\ \\n %s {} !! '; echo pwned; '",
    "python": "{task['id']} \"\"\" ''' \\x00 True null",
    "unicode": "emoji 🦊 line\u2028separator\u2029para and nul\x00 bell\x07",
}

REQUESTS = {
    "text": dict(
        model="seedance-2.0-text-to-video",
        duration=8,
        quality="720p",
        aspect_ratio="16:9",
        generate_audio=False,
        content_filter=True,
        web_search=True,
    ),
    "minimal": dict(model="seedance-2.0-fast-text-to-video"),
    "reference": dict(
        model="seedance-2.0-reference-to-video",
        image_urls=["https://example.com/a.png?x=1&y='2'"],
        video_urls=["https://example.com/v.mp4"],
        audio_urls=["https://example.com/a.mp3"],
        callback_url="https://hooks.example.com/api/hooks/evolink/s3cret",
    ),
}


def _requests():
    for pname, prompt in PROMPTS.items():
        for rname, fields in REQUESTS.items():
            yield pytest.param(GenerationRequest(prompt=prompt, **fields), id=f"{rname}-{pname}")


def python_body(snippet: str) -> dict:
    tree = ast.parse(snippet)  # the whole snippet must be valid Python
    (assign,) = [n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "payload"]
    return ast.literal_eval(assign.value)


def node_body(snippet: str) -> dict:
    head, rest = snippet.split("const payload = ", 1)
    assert head == ""
    return json.loads(rest.split(";\n", 1)[0])


def curl_body_via_bash(snippet: str, tmp_path) -> dict:
    """Let bash run the script, with curl replaced by a function that keeps its -d argument and answers nothing."""
    body = tmp_path / "body.json"
    fake = f'curl() {{ while [ $# -gt 0 ]; do if [ "$1" = -d ]; then printf %s "$2" > {body}; fi; shift; done; }}\n'
    # With no task id in the (empty) answer the script stops after the POST, as it should.
    out = subprocess.run(["bash", "-c", fake + snippet], capture_output=True, timeout=10)
    assert out.returncode == 1
    return json.loads(body.read_text("utf-8"))


@pytest.mark.parametrize("request_", list(_requests()))
def test_python_snippet_is_valid_python_sending_the_payload(request_):
    snippet = as_python(request_)
    assert python_body(snippet) == request_.to_payload()
    compile(snippet, "<snippet>", "exec")


@pytest.mark.parametrize("request_", list(_requests()))
def test_node_snippet_embeds_the_payload_as_json(request_):
    assert node_body(as_node(request_)) == request_.to_payload()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("request_", list(_requests()))
def test_curl_body_survives_the_shell(request_, tmp_path):
    snippet = as_curl(request_)
    subprocess.run(["bash", "-n"], input=snippet.encode(), check=True, timeout=10)
    assert curl_body_via_bash(snippet, tmp_path) == request_.to_payload()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_node_snippet_parses_as_an_es_module():
    req = GenerationRequest(
        model="seedance-2.0-text-to-video", prompt=PROMPTS["unicode"] + PROMPTS["shell"], web_search=False
    )
    subprocess.run(["node", "--check", "--input-type=module"], input=as_node(req).encode(), check=True, timeout=20)


@pytest.mark.parametrize("fn", [as_curl, as_python, as_node])
def test_snippets_read_the_key_from_the_environment_with_a_placeholder(fn):
    req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat")
    snippet = fn(req)
    assert "SEEDANCE_API_KEY" in snippet and "YOUR_API_KEY" in snippet
    assert "https://api.evolink.ai" in snippet and "/v1/videos/generations" in snippet and "/v1/tasks/" in snippet
    custom = fn(req, "http://127.0.0.1:8765/sim/")
    assert "http://127.0.0.1:8765/sim" in custom and "https://api.evolink.ai" not in custom


def test_snippets_take_no_key():
    import inspect

    for kind in SNIPPETS.values():
        assert list(inspect.signature(kind.write).parameters) == ["request", "base_url"]


def test_python_snippet_uses_python_literals_and_docs_layout():
    req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat", generate_audio=False, web_search=True)
    snippet = as_python(req)
    assert '"generate_audio": False' in snippet and '"web_search": True' in snippet
    assert "false" not in snippet and "true" not in snippet
    assert "import httpx\n" in snippet


def test_chinese_stays_readable():
    req = GenerationRequest(model="seedance-2.0-text-to-video", prompt=PROMPTS["chinese"])
    for kind in SNIPPETS.values():
        assert "一只小狐狸" in kind.write(req)


def test_curl_post_keeps_the_docs_layout():
    req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="It's", duration=8)
    assert (
        'TASK=$(curl -sS -X POST "$BASE_URL/v1/videos/generations" \\\n'
        '  -H "Authorization: Bearer $API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  -d '{\n"
        '  "model": "seedance-2.0-text-to-video",\n'
        '  "prompt": "It\'"\'"\'s",\n'
        '  "duration": 8\n'
        "}')\n"
    ) in as_curl(req)


def test_hostile_base_url_is_quoted_in_curl():
    req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat")
    snippet = as_curl(req, "https://x.example/$(touch /tmp/pwned)")
    subprocess.run(["bash", "-n"], input=snippet.encode(), check=True, timeout=10)
    assert "BASE_URL='https://x.example/$(touch /tmp/pwned)'" in snippet
