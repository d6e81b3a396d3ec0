"""Several servers on one database: each unfinished run is followed under a lease, and servers say they are alive.

``runs.lease_owner``/``runs.lease_expires`` name the process that polls and archives a
run and until when; ``servers`` holds each process's last sign of life. Existing runs
start without a lease: the first worker to look claims them.

Revision ID: 0004_leases
Revises: 0003_workshops
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_leases"
down_revision = "0003_workshops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(32), nullable=True))
        batch.add_column(sa.Column("lease_expires", sa.Float, nullable=True))
    op.create_table(
        "servers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("servers")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lease_expires")
        batch.drop_column("lease_owner")
