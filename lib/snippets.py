"""The current request as copy-paste code (curl, Python, Node), in the style of the provider's docs.

The key is always the placeholder ``YOUR_API_KEY``: these functions take no key, so a
snippet can be shared or shown on screen safely. The body is exactly
``request.to_payload()`` — including ``callback_url`` when the request has one, so build
the request without it before sharing a snippet outside the team.

Example:
    >>> from lib.schema import GenerationRequest
    >>> print(as_curl(GenerationRequest(model="seedance-2.0-text-to-video", prompt="It's a cat")))
    curl -X POST https://api.evolink.ai/v1/videos/generations \\
      -H "Authorization: Bearer YOUR_API_KEY" \\
      -H "Content-Type: application/json" \\
      -d '{
      "model": "seedance-2.0-text-to-video",
      "prompt": "It'"'"'s a cat"
    }'
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from lib.schema import GenerationRequest
from lib.settings import DEFAULT_BASE_URL

API_KEY_PLACEHOLDER = "YOUR_API_KEY"


def _endpoint(base_url: str) -> str:
    return base_url.rstrip("/") + "/v1/videos/generations"


def _json(request: GenerationRequest) -> str:
    # ensure_ascii=False keeps Chinese prompts readable in the snippet.
    return json.dumps(request.to_payload(), ensure_ascii=False, indent=2)


def as_curl(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """A bash/zsh command. The body is single-quoted, so nothing in it is expanded."""
    # Inside '...' only a quote itself needs care: close, emit "'", reopen.
    body = _json(request).replace("'", "'\"'\"'")
    return (
        f"curl -X POST {shlex.quote(_endpoint(base_url))} \\\n"
        f'  -H "Authorization: Bearer {API_KEY_PLACEHOLDER}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )


def _py(value: Any, indent: int = 0) -> str:
    """A Python literal laid out like ``json.dumps(indent=4)``."""
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (f"{inner}{_py(k)}: {_py(v, indent + 4)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{_py(v, indent + 4)}" for v in value) + f"\n{pad}]"
    if value is None or isinstance(value, bool):
        return repr(value)  # None / True / False, not JSON's null / true / false
    # A JSON string or number is also a valid Python literal (same escapes) and keeps
    # the docs' double quotes.
    return json.dumps(value, ensure_ascii=False)


def as_python(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """A Python script using httpx."""
    return f"""import httpx

payload = {_py(request.to_payload())}

response = httpx.post(
    {json.dumps(_endpoint(base_url))},
    headers={{
        "Authorization": "Bearer {API_KEY_PLACEHOLDER}",
        "Content-Type": "application/json",
    }},
    json=payload,
    timeout=60,
)
response.raise_for_status()
task = response.json()
print(f"Task ID: {{task['id']}}")
"""


def as_node(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """A Node.js (18+) ES module using fetch; JSON is a valid JavaScript object literal."""
    return f"""const payload = {_json(request)};

const res = await fetch({json.dumps(_endpoint(base_url))}, {{
  method: "POST",
  headers: {{
    "Authorization": "Bearer {API_KEY_PLACEHOLDER}",
    "Content-Type": "application/json"
  }},
  body: JSON.stringify(payload)
}});
const task = await res.json();
console.log("Task ID:", task.id);
"""


SNIPPETS = {"curl": as_curl, "python": as_python, "node": as_node}
