"""The database schema (SQLAlchemy Core): workspaces, their members, runs, drafts, comparison grids, preferences.

Times are Unix seconds (floats); ``runs.status`` holds ``lib.status.RunStatus`` values;
a participant id is the random id a browser keeps (``lib.identity``).

Example:
    >>> sorted(metadata.tables)
    ['comparisons', 'drafts', 'members', 'preferences', 'runs', 'servers', 'workspaces']
"""

from __future__ import annotations

import sqlalchemy as sa

from lib.settings import TASK_ID_MAX

metadata = sa.MetaData()

workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("budget_credits", sa.Float, nullable=True),
    sa.Column("per_participant_cap", sa.Float, nullable=True),
    # sha256 of the facilitator link's secret: the secret itself is shown once and never stored.
    sa.Column("facilitator_hash", sa.String(64), nullable=True),
)

# Who takes part in a workspace: one row per (workspace, participant id), with the role,
# the display name and when this browser last opened the workspace (its recent workspaces).
members = sa.Table(
    "members",
    metadata,
    sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Index("ix_members_participant_id", "participant_id", "last_seen"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), nullable=False, index=True),
    # One form submission = one key: a double click inserts nothing new.
    sa.Column("submit_key", sa.String(128), nullable=True, unique=True),
    sa.Column("request_json", sa.Text, nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("estimate_credits", sa.Float, nullable=False),
    sa.Column("estimate_exact", sa.Boolean, nullable=False),
    sa.Column("key_fingerprint", sa.String(64), nullable=False),
    sa.Column("participant", sa.String(100), nullable=True),  # the display name, kept current on rename
    sa.Column("participant_id", sa.String(64), nullable=True, index=True),
    sa.Column("parent_id", sa.String(32), nullable=True),
    sa.Column("group_id", sa.String(64), nullable=True, index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("progress", sa.Integer, nullable=False, default=0),
    # One provider task, one run: attaching a task id by hand cannot give it to a second run.
    sa.Column("task_id", sa.String(TASK_ID_MAX), nullable=True, index=True, unique=True),
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
    sa.Column("poll_count", sa.Integer, nullable=False, default=0),
    sa.Column("poll_failures", sa.Integer, nullable=False, default=0),
    sa.Column("archive_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("owner", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # Which process follows this unfinished run, and until when (``lib.store.leases``).
    sa.Column("lease_owner", sa.String(32), nullable=True),
    sa.Column("lease_expires", sa.Float, nullable=True),
)

# The app's processes and when each last said it was alive: a run left `submitting` by a
# process that is still alive is its POST in flight, not a crash (``lib.store.leases``).
servers = sa.Table(
    "servers",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)

# The Studio's prompt and settings as one participant left them in one workspace.
drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("values_json", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# A comparison grid: its axes, labels and which run fills each cell. The runs carry
# the comparison id as their group_id, so they also appear in the gallery as runs.
comparisons = sa.Table(
    "comparisons",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("workspace_id", sa.String(32), sa.ForeignKey("workspaces.id"), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# What one browser (participant id) chose for itself across workspaces: the screen language.
preferences = sa.Table(
    "preferences",
    metadata,
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
