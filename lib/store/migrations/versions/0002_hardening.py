"""A provider task belongs to one run only: ``runs.task_id`` becomes unique.

Attaching a task id to an ``unknown`` run by hand must not give one paid task to two
runs; the database now refuses it whoever tries (NULLs, runs without a task, are
still many).

Revision ID: 0002_hardening
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_hardening"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    shared = (
        op.get_bind()
        .execute(
            sa.text("SELECT task_id FROM runs WHERE task_id IS NOT NULL GROUP BY task_id HAVING count(*) > 1 LIMIT 3")
        )
        .all()
    )
    if shared:
        ids = ", ".join(repr(row[0]) for row in shared)
        raise RuntimeError(
            f"Several runs hold the same provider task ({ids}); a task can belong to one run only. "
            "Set task_id to NULL on all but one run of each, then start the app again."
        )
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_task_id")
        batch.create_index("ix_runs_task_id", ["task_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_task_id")
        batch.create_index("ix_runs_task_id", ["task_id"])
