"""Studio drafts: the prompt and settings one participant left in one workspace, kept across reloads and restarts.

What a draft holds, and how it is checked when read back, is ``lib.drafts``.

Example:
    >>> from lib.store import Store
    >>> db = Store("sqlite://")
    >>> ws = db.create_workspace("Drafts")
    >>> db.save_draft(ws.id, "pid_someone_0123456789ab", {"prompt": "A fox", "quality": "480p"})
    True
    >>> db.load_draft(ws.id, "pid_someone_0123456789ab")
    {'quality': '480p', 'prompt': 'A fox'}
    >>> db.clear_draft(ws.id, "pid_someone_0123456789ab"); db.load_draft(ws.id, "pid_someone_0123456789ab")
    {}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from lib import drafts as rules
from lib.store.base import StoreBase
from lib.store.tables import drafts


class DraftStore(StoreBase):
    def save_draft(
        self, workspace_id: str, participant_id: str, values: Mapping[str, Any], *, now: float | None = None
    ) -> bool:
        """Keep ``values`` as this participant's draft in this workspace; False if it is too large to keep."""
        text = rules.dumps(values)
        if text is None:
            return False
        now = time.time() if now is None else now
        where = (drafts.c.workspace_id == workspace_id, drafts.c.participant_id == participant_id)
        with self._write() as conn:
            updated = conn.execute(drafts.update().where(*where).values(values_json=text, updated_at=now)).rowcount
            if not updated:
                conn.execute(
                    drafts.insert().values(
                        workspace_id=workspace_id, participant_id=participant_id, values_json=text, updated_at=now
                    )
                )
        return True

    def load_draft(self, workspace_id: str, participant_id: str) -> dict[str, Any]:
        """The saved draft, checked field by field (``lib.drafts.clean``); empty when there is none."""
        with self._read() as conn:
            text = conn.execute(
                sa.select(drafts.c.values_json).where(
                    drafts.c.workspace_id == workspace_id, drafts.c.participant_id == participant_id
                )
            ).scalar_one_or_none()
        return rules.loads(text)

    def clear_draft(self, workspace_id: str, participant_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                drafts.delete().where(drafts.c.workspace_id == workspace_id, drafts.c.participant_id == participant_id)
            )
