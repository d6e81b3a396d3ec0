"""The current request as copy-paste code (curl, Python, Node) that submits, waits for and downloads the video.

Each snippet is a whole program: it sends one POST with exactly ``request.to_payload()``,
polls the task around the provider's ``estimated_time`` (never sooner than ``MIN_WAIT``
seconds apart, never more than ``MAX_WAIT``: the provider asks for 1–2 s between
requests at the least), gives up after ``GIVE_UP`` seconds, and saves the first result
as ``OUTPUT``. The key is read from the ``SEEDANCE_API_KEY`` environment variable of
whoever runs it, with the placeholder ``YOUR_API_KEY`` in its place: these functions
take no key, so a snippet can be shared or shown on screen safely. The body includes ``callback_url`` when the
request has one, so build the request without it before sharing a snippet outside the team.

Example:
    >>> from lib.schema import GenerationRequest
    >>> code = as_curl(GenerationRequest(model="seedance-2.0-text-to-video", prompt="It's a cat"))
    >>> print(code[code.index("TASK=$(curl"):code.index("}')") + 3])
    TASK=$(curl -sS -X POST "$BASE_URL/v1/videos/generations" \\
      -H "Authorization: Bearer $API_KEY" \\
      -H "Content-Type: application/json" \\
      -d '{
      "model": "seedance-2.0-text-to-video",
      "prompt": "It'"'"'s a cat"
    }')
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.schema import GenerationRequest
from lib.settings import CREATE_PATH, DEFAULT_BASE_URL, TASK_PREFIX

API_KEY_PLACEHOLDER = "YOUR_API_KEY"
API_KEY_ENV = "SEEDANCE_API_KEY"  # the reader's own shell: not the app's EVOLINK_API_KEY setting
OUTPUT = "seedance-video.mp4"
MIN_WAIT = 2  # seconds between polls at the least (the provider asks for 1–2 s)
MAX_WAIT = 10  # seconds between polls at the most, so a finished video is fetched soon
LATE_WAIT = 5  # seconds between polls once the estimate has passed (the provider's guide)
GIVE_UP = 15 * 60  # seconds: past this a task is reported as stuck rather than waited for


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def _json(request: GenerationRequest) -> str:
    # ensure_ascii=False keeps Chinese prompts readable in the snippet.
    return json.dumps(request.to_payload(), ensure_ascii=False, indent=2)


def as_curl(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """A bash script (curl and sed). The body is single-quoted, so nothing in it is expanded."""
    # Inside '...' only a quote itself needs care: close, emit "'", reopen.
    body = _json(request).replace("'", "'\"'\"'")
    return f"""#!/usr/bin/env bash
# Submit one Seedance video, wait for it, download it. Needs bash, curl and sed.
set -euo pipefail
API_KEY="${{{API_KEY_ENV}:-{API_KEY_PLACEHOLDER}}}"
BASE_URL={shlex.quote(_base(base_url))}
OUTPUT={OUTPUT}

# A field of the task's JSON: the first string or number after "name":.
field() {{ sed -n "s/.*\\"$1\\" *: *\\"\\{{0,1\\}}\\([^\\",}}]*\\).*/\\1/p" | head -n 1; }}

TASK=$(curl -sS -X POST "$BASE_URL{CREATE_PATH}" \\
  -H "Authorization: Bearer $API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{body}')
TASK_ID=$(printf '%s' "$TASK" | field id)
if [ -z "$TASK_ID" ]; then echo "$TASK" >&2; exit 1; fi
echo "Task ID: $TASK_ID"

# Poll around the provider's estimate: {MIN_WAIT}–{MAX_WAIT} s apart, every {LATE_WAIT} s once it has passed.
ESTIMATE=$(printf '%s' "$TASK" | field estimated_time)
ESTIMATE=${{ESTIMATE:-{LATE_WAIT}}}
START=$SECONDS
while :; do
  ELAPSED=$((SECONDS - START))
  if [ "$ELAPSED" -gt {GIVE_UP} ]; then echo "Gave up after {GIVE_UP} s" >&2; exit 1; fi
  if [ "$ELAPSED" -lt "$ESTIMATE" ]; then WAIT=$((ESTIMATE - ELAPSED)); else WAIT={LATE_WAIT}; fi
  if [ "$WAIT" -lt {MIN_WAIT} ]; then WAIT={MIN_WAIT}; fi
  if [ "$WAIT" -gt {MAX_WAIT} ]; then WAIT={MAX_WAIT}; fi
  sleep "$WAIT"
  TASK=$(curl -sS "$BASE_URL{TASK_PREFIX}$TASK_ID" -H "Authorization: Bearer $API_KEY")
  STATUS=$(printf '%s' "$TASK" | field status)
  echo "$STATUS $(printf '%s' "$TASK" | field progress)%"
  case "$STATUS" in
    completed) break ;;
    failed|cancelled) echo "$TASK" >&2; exit 1 ;;
  esac
done

# The result link is valid for 24 hours; it needs no key.
VIDEO_URL=$(printf '%s' "$TASK" | sed -n 's/.*"results" *: *\\[ *"\\([^"]*\\)".*/\\1/p' | sed 's#\\\\/#/#g')
curl -sS -L --fail -o "$OUTPUT" "$VIDEO_URL"
echo "Saved $OUTPUT"
"""


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
    return f"""import os
import time

import httpx

API_KEY = os.environ.get({json.dumps(API_KEY_ENV)}, {json.dumps(API_KEY_PLACEHOLDER)})
BASE_URL = {json.dumps(_base(base_url))}
OUTPUT = {json.dumps(OUTPUT)}
MIN_WAIT, MAX_WAIT, LATE_WAIT, GIVE_UP = {MIN_WAIT}, {MAX_WAIT}, {LATE_WAIT}, {GIVE_UP}  # seconds

payload = {_py(request.to_payload())}

headers = {{"Authorization": f"Bearer {{API_KEY}}"}}
with httpx.Client(base_url=BASE_URL, headers=headers, timeout=60) as api:
    response = api.post("{CREATE_PATH}", json=payload)
    response.raise_for_status()
    task = response.json()
    print(f"Task ID: {{task['id']}}")

    # Poll around the provider's estimate, MIN_WAIT..MAX_WAIT seconds apart.
    estimate = (task.get("task_info") or {{}}).get("estimated_time") or LATE_WAIT
    started = time.monotonic()
    while task["status"] not in ("completed", "failed", "cancelled"):
        elapsed = time.monotonic() - started
        if elapsed > GIVE_UP:
            raise SystemExit(f"Gave up after {{GIVE_UP}} s")
        wait = estimate - elapsed if elapsed < estimate else LATE_WAIT
        time.sleep(min(max(wait, MIN_WAIT), MAX_WAIT))
        response = api.get(f"{TASK_PREFIX}{{task['id']}}")
        response.raise_for_status()
        task = response.json()
        print(f"{{task['status']}} {{task.get('progress', 0)}}%")

if task["status"] != "completed":
    raise SystemExit(f"Task {{task['status']}}: {{task.get('error')}}")

# The result link is valid for 24 hours; it needs no key (so none is sent).
with httpx.stream("GET", task["results"][0], follow_redirects=True, timeout=120) as video:
    video.raise_for_status()
    with open(OUTPUT, "wb") as out:
        for chunk in video.iter_bytes():
            out.write(chunk)
print(f"Saved {{OUTPUT}}")
"""


def as_node(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """A Node.js (18+) ES module using fetch; JSON is a valid JavaScript object literal."""
    return f"""const payload = {_json(request)};

import {{ writeFile }} from "node:fs/promises";

const API_KEY = process.env.{API_KEY_ENV} ?? "{API_KEY_PLACEHOLDER}";
const BASE_URL = {json.dumps(_base(base_url))};
const OUTPUT = {json.dumps(OUTPUT)};
const [MIN_WAIT, MAX_WAIT, LATE_WAIT, GIVE_UP] = [{MIN_WAIT}, {MAX_WAIT}, {LATE_WAIT}, {GIVE_UP}]; // seconds
const headers = {{ "Authorization": `Bearer ${{API_KEY}}` }};

async function api(path, init = {{}}) {{
  const res = await fetch(BASE_URL + path, {{ ...init, headers: {{ ...headers, ...init.headers }} }});
  const body = await res.json();
  if (!res.ok) throw new Error(`${{res.status}}: ${{JSON.stringify(body)}}`);
  return body;
}}

let task = await api("{CREATE_PATH}", {{
  method: "POST",
  headers: {{ "Content-Type": "application/json" }},
  body: JSON.stringify(payload)
}});
console.log("Task ID:", task.id);

// Poll around the provider's estimate, MIN_WAIT..MAX_WAIT seconds apart.
const estimate = task.task_info?.estimated_time ?? LATE_WAIT;
const started = Date.now();
while (!["completed", "failed", "cancelled"].includes(task.status)) {{
  const elapsed = (Date.now() - started) / 1000;
  if (elapsed > GIVE_UP) throw new Error(`Gave up after ${{GIVE_UP}} s`);
  const wait = Math.min(Math.max(elapsed < estimate ? estimate - elapsed : LATE_WAIT, MIN_WAIT), MAX_WAIT);
  await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  task = await api(`{TASK_PREFIX}${{encodeURIComponent(task.id)}}`);
  console.log(task.status, `${{task.progress ?? 0}}%`);
}}
if (task.status !== "completed") throw new Error(`Task ${{task.status}}: ${{JSON.stringify(task.error)}}`);

// The result link is valid for 24 hours; it needs no key (so none is sent).
const video = await fetch(task.results[0]);
if (!video.ok) throw new Error(`Download failed: ${{video.status}}`);
await writeFile(OUTPUT, Buffer.from(await video.arrayBuffer()));
console.log("Saved", OUTPUT);
"""


@dataclass(frozen=True)
class Snippet:
    """One kind of snippet: its tab's name, the language its code is highlighted as, and its writer."""

    label: str
    language: str
    write: Callable[..., str]  # (request, base_url=DEFAULT_BASE_URL) -> the code


# The kinds the Studio offers, in the order of their tabs.
SNIPPETS = {
    "curl": Snippet("curl", "bash", as_curl),
    "python": Snippet("Python", "python", as_python),
    "node": Snippet("Node", "javascript", as_node),
}
