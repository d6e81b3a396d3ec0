"""Where the app's configuration comes from: the environment first, then ``.streamlit/secrets.toml``.

This module is the only reader of the environment, and every default is defined
here once. Tests and embedding code change settings with ``override`` (for example
to hand the app an ``httpx.MockTransport`` in place of the network).

Example:
    >>> s = load_settings(env={}, secrets_path=None)
    >>> s.demo, s.api_key, s.demo_speed
    (True, None, 6.0)
    >>> with override(public_url="https://studio.example"):
    ...     load_settings(env={}, secrets_path=None).public_url
    'https://studio.example'
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lib.net import normal_host

ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"

DEFAULT_BASE_URL = "https://api.evolink.ai"
# The provider's endpoints under the base URL, named once: the client calls them, the
# simulator serves them, the copy-paste snippets write them out.
API_PREFIX = "/v1/"
CREATE_PATH = API_PREFIX + "videos/generations"
TASK_PREFIX = API_PREFIX + "tasks/"  # + a task id
CREDITS_PATH = API_PREFIX + "credits"
DEFAULT_DATA_DIR = ROOT / "data"
DEFAULT_DEMO_SPEED = 6.0  # the simulator runs this many times faster than the provider: a demo run takes 10–20 s
DB_FILE = "studio.db"  # the SQLite file in the data dir when no DATABASE_URL is set
# No video is downloaded unless this much stays free on the data dir's disk (STUDIO_MIN_FREE_BYTES).
DEFAULT_MIN_FREE_BYTES = 1024**3

# Routes of the app's own server (server.py), named once.
DEMO_MOUNT = "/sim"
HEALTH_PATH = "/api/health"
MEDIA_PREFIX = "/api/media/"
HOOK_PREFIX = "/api/hooks/evolink/"
UPLOAD_PREFIX = "/api/uploads/"  # files uploaded in the Studio, for the provider to fetch (lib/uploads.py)
EVENTS_PREFIX = "/api/events/"  # + a workspace id: run notices for that workspace's open pages

# The event stream: a comment this often keeps proxies from closing an idle stream, and
# a browser that lost the stream tries again after this many milliseconds.
EVENTS_HEARTBEAT = 20.0
EVENTS_RETRY_MS = 3000

# The longest provider task id we accept, store or send back in a URL.
TASK_ID_MAX = 256


@dataclass(frozen=True)
class Settings:
    api_key: str | None
    base_url: str | None  # None in demo mode until the server's own port is known
    data_dir: Path
    database_url: str | None
    public_url: str | None
    demo_speed: float
    # Hosts result downloads may reach although they are not public (lib.net), e.g. a
    # simulator on 127.0.0.1. The demo's own simulator is added by whoever starts the worker.
    allowed_fetch_hosts: tuple[str, ...] = ()
    # Bytes that must stay free on the data dir's disk: below it, downloads wait and /api/health says so.
    min_free_bytes: int = DEFAULT_MIN_FREE_BYTES
    # Not from the environment: a transport for every API client the app makes (tests).
    transport: httpx.BaseTransport | None = field(default=None, compare=False)

    @property
    def demo(self) -> bool:
        """No key and no base URL: the embedded simulator answers instead of the provider."""
        return self.api_key is None and self.base_url is None

    @property
    def db_url(self) -> str:
        """``DATABASE_URL``, else the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / DB_FILE}"

    def __repr__(self) -> str:  # the key must never appear in logs
        return (
            f"Settings(demo={self.demo}, base_url={self.base_url!r}, data_dir={str(self.data_dir)!r}, "
            f"key={'set' if self.api_key else 'none'})"
        )


_overrides: dict[str, Any] = {}


@contextmanager
def override(**fields: Any) -> Iterator[None]:
    """Settings fields replaced while the block runs (``transport=``, ``data_dir=``, ...)."""
    unknown = set(fields) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise TypeError(f"not a setting: {', '.join(sorted(unknown))}")
    saved = dict(_overrides)
    _overrides.update(fields)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


def _secrets(path: Path | None) -> dict:
    if path is None or not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _positive(value: str | None, default: float) -> float:
    try:
        number = float(value) if value else default
    except ValueError:
        return default
    return number if number > 0 else default


def _bytes(value: str | None, default: int) -> int:
    """A whole number of bytes, 0 or more; anything else is the default."""
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    return number if number >= 0 else default


def _hosts(value: str | None) -> tuple[str, ...]:
    """A comma-separated list of host names, as ``lib.net`` compares them."""
    hosts = (normal_host(h) for h in (value or "").split(","))
    return tuple(h for h in hosts if h)


def load_settings(env: Mapping[str, str] | None = None, secrets_path: Path | None = SECRETS_PATH) -> Settings:
    """Read settings; blank values count as unset."""
    source: Mapping[str, str] = os.environ if env is None else env
    secrets = _secrets(secrets_path)

    def get(name: str) -> str | None:
        value = source.get(name) or secrets.get(name)
        return (str(value).strip() or None) if value is not None else None

    api_key = get("EVOLINK_API_KEY")
    base_url = get("EVOLINK_BASE_URL")
    if api_key and not base_url:
        base_url = DEFAULT_BASE_URL
    settings = Settings(
        api_key=api_key,
        base_url=base_url.rstrip("/") if base_url else None,
        data_dir=Path(get("STUDIO_DATA_DIR") or DEFAULT_DATA_DIR).resolve(),
        database_url=get("DATABASE_URL"),
        public_url=(get("STUDIO_PUBLIC_URL") or "").rstrip("/") or None,
        demo_speed=_positive(get("STUDIO_DEMO_SPEED"), DEFAULT_DEMO_SPEED),
        allowed_fetch_hosts=_hosts(get("STUDIO_ALLOW_FETCH_HOSTS")),
        min_free_bytes=_bytes(get("STUDIO_MIN_FREE_BYTES"), DEFAULT_MIN_FREE_BYTES),
    )
    return dataclasses.replace(settings, **_overrides) if _overrides else settings


def demo_base_url(port: int, host: str = "127.0.0.1") -> str:
    """The simulator's address when server.py mounts it on the app's own port."""
    return f"http://{host}:{port}{DEMO_MOUNT}"
