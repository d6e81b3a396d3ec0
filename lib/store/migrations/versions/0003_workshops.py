"""Workshops: a facilitator per workspace, members with roles and names, runs that carry a participant id, drafts.

Revision ID: 0003_workshops
Revises: 0002_hardening
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_workshops"
down_revision = "0002_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("facilitator_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("participant_id", sa.String(64), nullable=True))
        batch.create_index("ix_runs_participant_id", ["participant_id"])
    op.create_table(
        "members",
        sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("participant_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("joined_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_index("ix_members_participant_id", "members", ["participant_id", "last_seen"])
    op.create_table(
        "drafts",
        sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("participant_id", sa.String(64), primary_key=True),
        sa.Column("values_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("drafts")
    op.drop_index("ix_members_participant_id", table_name="members")
    op.drop_table("members")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_participant_id")
        batch.drop_column("participant_id")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("facilitator_hash")
