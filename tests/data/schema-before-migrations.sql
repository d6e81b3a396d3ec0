-- The SQLite schema metadata.create_all made before migrations existed (2026-11), for the upgrade test.
CREATE TABLE workspaces (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at FLOAT NOT NULL, 
	budget_credits FLOAT, 
	per_participant_cap FLOAT, 
	PRIMARY KEY (id)
);
CREATE TABLE runs (
	id VARCHAR(32) NOT NULL, 
	workspace_id VARCHAR(32) NOT NULL, 
	submit_key VARCHAR(128), 
	request_json TEXT NOT NULL, 
	model VARCHAR(100) NOT NULL, 
	estimate_credits FLOAT NOT NULL, 
	estimate_exact BOOLEAN NOT NULL, 
	key_fingerprint VARCHAR(64) NOT NULL, 
	participant VARCHAR(100), 
	parent_id VARCHAR(32), 
	group_id VARCHAR(64), 
	status VARCHAR(20) NOT NULL, 
	progress INTEGER NOT NULL, 
	task_id VARCHAR(256), 
	credits_reserved FLOAT, 
	estimated_time FLOAT, 
	video_url TEXT, 
	error_code VARCHAR(64), 
	error_message TEXT, 
	poll_error TEXT, 
	media_token VARCHAR(64), 
	media_bytes INTEGER, 
	media_duration FLOAT, 
	media_width INTEGER, 
	media_height INTEGER, 
	created_at FLOAT NOT NULL, 
	claimed_at FLOAT, 
	submitted_at FLOAT, 
	completed_at FLOAT, 
	archived_at FLOAT, 
	finished_at FLOAT, 
	next_poll_at FLOAT, 
	last_polled_at FLOAT, 
	poll_count INTEGER NOT NULL, 
	poll_failures INTEGER NOT NULL, 
	archive_attempts INTEGER NOT NULL, 
	rating INTEGER, 
	notes TEXT, 
	owner VARCHAR(32) NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id), 
	UNIQUE (submit_key)
);
CREATE INDEX ix_runs_group_id ON runs (group_id);
CREATE INDEX ix_runs_task_id ON runs (task_id);
CREATE INDEX ix_runs_status ON runs (status);
CREATE INDEX ix_runs_workspace_id ON runs (workspace_id);
CREATE TABLE comparisons (
	id VARCHAR(32) NOT NULL, 
	workspace_id VARCHAR(32) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	spec_json TEXT NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_comparisons_workspace_id ON comparisons (workspace_id);
