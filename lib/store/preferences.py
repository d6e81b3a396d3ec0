"""What a browser chose for itself, whatever workspace it is in: its screen language.

Example:
    >>> from lib.store import Store
    >>> db = Store("sqlite://")
    >>> db.language_of("pid_someone_0123456789ab") is None
    True
    >>> db.set_language_of("pid_someone_0123456789ab", "zh"); db.language_of("pid_someone_0123456789ab")
    'zh'
    >>> db.set_language_of("pid_someone_0123456789ab", "en"); db.language_of("pid_someone_0123456789ab")
    'en'
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from lib.i18n import LANGUAGES
from lib.store.base import StoreBase
from lib.store.tables import preferences


class PreferenceStore(StoreBase):
    def language_of(self, participant_id: str) -> str | None:
        """The language this browser chose, or None when it never chose one."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(preferences.c.language).where(preferences.c.participant_id == participant_id)
            ).scalar_one_or_none()
        return value if value in LANGUAGES else None

    def set_language_of(self, participant_id: str, language: str, *, now: float | None = None) -> None:
        """Remember ``language`` (one of ``LANGUAGES``) for this browser."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        now = time.time() if now is None else now
        where = preferences.c.participant_id == participant_id
        with self._write() as conn:
            if not conn.execute(preferences.update().where(where).values(language=language, updated_at=now)).rowcount:
                conn.execute(
                    preferences.insert().values(participant_id=participant_id, language=language, updated_at=now)
                )
