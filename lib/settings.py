"""Where the app's configuration comes from: environment first, then .streamlit/secrets.toml.

Example:
    >>> s = load_settings(env={}, secrets_path=None)
    >>> s.demo, s.api_key
    (True, None)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "https://api.evolink.ai"
DEMO_MOUNT = "/sim"
# The simulator accepts any well-formed bearer token; this one marks demo runs.
DEMO_API_KEY = "demo-key-offline-simulator"
DEFAULT_DEMO_SPEED = 6.0


@dataclass(frozen=True)
class Settings:
    api_key: str | None
    base_url: str | None  # None in demo mode until the server's own port is known
    data_dir: Path
    database_url: str | None
    public_url: str | None
    demo_speed: float

    @property
    def demo(self) -> bool:
        """No key and no base URL: the embedded simulator answers instead of the provider."""
        return self.api_key is None and self.base_url is None

    def __repr__(self) -> str:  # the key must never appear in logs
        return (
            f"Settings(demo={self.demo}, base_url={self.base_url!r}, data_dir={str(self.data_dir)!r}, "
            f"key={'set' if self.api_key else 'none'})"
        )


def _secrets(path: Path | None) -> dict:
    if path is None or not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def load_settings(
    env: dict | None = None, secrets_path: Path | None = ROOT / ".streamlit" / "secrets.toml"
) -> Settings:
    """Read settings; blank values count as unset."""
    env = os.environ if env is None else env
    secrets = _secrets(secrets_path)

    def get(name: str) -> str | None:
        value = env.get(name) or secrets.get(name)
        return str(value).strip() or None if value is not None else None

    api_key = get("EVOLINK_API_KEY")
    base_url = get("EVOLINK_BASE_URL")
    if api_key and not base_url:
        base_url = DEFAULT_BASE_URL
    try:
        speed = float(get("STUDIO_DEMO_SPEED") or DEFAULT_DEMO_SPEED)
    except ValueError:
        speed = DEFAULT_DEMO_SPEED
    return Settings(
        api_key=api_key,
        base_url=base_url.rstrip("/") if base_url else None,
        data_dir=Path(get("STUDIO_DATA_DIR") or ROOT / "data").resolve(),
        database_url=get("DATABASE_URL"),
        public_url=(get("STUDIO_PUBLIC_URL") or "").rstrip("/") or None,
        demo_speed=max(speed, 0.01),
    )


def demo_base_url(port: int, host: str = "127.0.0.1") -> str:
    """The simulator's address when server.py mounts it on the app's own port."""
    return f"http://{host}:{port}{DEMO_MOUNT}"
