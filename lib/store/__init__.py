"""Workspaces, members and runs, persisted with SQLAlchemy Core so browser sessions and the worker share one truth.

A run's ``status`` is a ``lib.status.RunStatus``; every run is saved as
``submitting`` before its one POST, and only moves forward from there. The store is
split by who writes what:

- ``engine``: which database (``lib.settings``), one engine per process, SQLite set up for many writers
- ``tables``: the schema; ``records``: the frozen records handed out (``Run``, ...)
- ``members``: who takes part in a workspace (facilitator or participant), display names, recent workspaces
- ``workspaces``: names, limits (facilitators only) and the committed spend that ``lib.budget`` weighs
- ``drafts``: the Studio's prompt and settings per workspace and participant
- ``submission``: creating runs (budget checked in the insert's transaction), the POST's outcome, crash recovery
- ``polling``: what the worker writes; ``reading``: what pages read, ratings and notes
- ``comparisons``: saved comparison grids
- ``leases``: which process follows which unfinished run (several servers on one database)

Example:
    >>> store = Store("sqlite://")
    >>> ws = store.create_workspace("Demo")
    >>> store.get_workspace(ws.id).name
    'Demo'
    >>> from lib.schema import GenerationRequest
    >>> request = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A fox")
    >>> run = store.create_run(ws.id, request, 25.0, True, "k_demo")
    >>> run.status, run.billed, store.committed_credits(ws.id)
    (<RunStatus.SUBMITTING: 'submitting'>, True, 25.0)
"""

from __future__ import annotations

from lib.store.comparisons import ComparisonStore
from lib.store.drafts import DraftStore
from lib.store.engine import dispose_engines
from lib.store.leases import LEASE_SECONDS, LeaseStore
from lib.store.members import NotFacilitator
from lib.store.polling import PollingStore
from lib.store.preferences import PreferenceStore
from lib.store.reading import ReadingStore
from lib.store.records import Comparison, Member, Role, Run, Spend, Workspace, new_id, valid_id
from lib.store.submission import SUBMIT_GRACE_SECONDS, NewRun, SubmissionStore, TaskTaken

__all__ = [
    "LEASE_SECONDS",
    "SUBMIT_GRACE_SECONDS",
    "Comparison",
    "Member",
    "NewRun",
    "NotFacilitator",
    "Role",
    "Run",
    "Spend",
    "Store",
    "TaskTaken",
    "Workspace",
    "dispose_engines",
    "new_id",
    "valid_id",
]


class Store(SubmissionStore, PollingStore, LeaseStore, ReadingStore, ComparisonStore, DraftStore, PreferenceStore):
    """Workspaces, members, runs, drafts, comparisons and preferences in one database; engines are cached."""
