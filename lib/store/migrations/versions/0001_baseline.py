"""The schema as it was before migrations existed: workspaces, runs, comparisons.

A database created by ``metadata.create_all`` before this file existed has exactly
these tables; ``lib.store.migrate`` stamps such a database with this revision
instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("budget_credits", sa.Float, nullable=True),
        sa.Column("per_participant_cap", sa.Float, nullable=True),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("submit_key", sa.String(128), nullable=True, unique=True),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("estimate_credits", sa.Float, nullable=False),
        sa.Column("estimate_exact", sa.Boolean, nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("participant", sa.String(100), nullable=True),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("group_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("task_id", sa.String(256), nullable=True),
        sa.Column("credits_reserved", sa.Float, nullable=True),
        sa.Column("estimated_time", sa.Float, nullable=True),
        sa.Column("video_url", sa.Text, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("poll_error", sa.Text, nullable=True),
        sa.Column("media_token", sa.String(64), nullable=True),
        sa.Column("media_bytes", sa.Integer, nullable=True),
        sa.Column("media_duration", sa.Float, nullable=True),
        sa.Column("media_width", sa.Integer, nullable=True),
        sa.Column("media_height", sa.Integer, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=True),
        sa.Column("submitted_at", sa.Float, nullable=True),
        sa.Column("completed_at", sa.Float, nullable=True),
        sa.Column("archived_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("next_poll_at", sa.Float, nullable=True),
        sa.Column("last_polled_at", sa.Float, nullable=True),
        sa.Column("poll_count", sa.Integer, nullable=False),
        sa.Column("poll_failures", sa.Integer, nullable=False),
        sa.Column("archive_attempts", sa.Integer, nullable=False),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_runs_workspace_id", "runs", ["workspace_id"])
    op.create_index("ix_runs_group_id", "runs", ["group_id"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_task_id", "runs", ["task_id"])
    op.create_table(
        "comparisons",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_comparisons_workspace_id", "comparisons", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("comparisons")
    op.drop_table("runs")
    op.drop_table("workspaces")
