"""Run states: the sets partition them, each has its words for the screen, billed is one rule in two forms."""

from __future__ import annotations

import doctest
import itertools

import pytest
import sqlalchemy as sa

from lib import status
from lib.status import FAILURES, LABELS, POLLED, TERMINAL, TO_ARCHIVE, UNFINISHED, RunStatus, billed, billed_clause


def test_doctest():
    result = doctest.testmod(status)
    assert result.attempted and not result.failed


def test_every_state_is_unfinished_or_terminal_never_both():
    assert UNFINISHED | TERMINAL == set(RunStatus) and not UNFINISHED & TERMINAL
    assert POLLED | TO_ARCHIVE <= UNFINISHED and FAILURES == TERMINAL - {RunStatus.ARCHIVED}
    assert all(s.terminal == (s in TERMINAL) for s in RunStatus)


def test_every_state_has_its_own_words():
    assert set(LABELS) == set(RunStatus)
    assert len(set(LABELS.values())) == len(LABELS)
    assert RunStatus.PROCESSING.label == "generating"


@pytest.mark.parametrize(("state", "completed_at"), list(itertools.product(RunStatus, [None, 12.0])))
def test_billed_in_python_and_in_sql_agree(state, completed_at):
    table = sa.Table(
        "t", sa.MetaData(), sa.Column("status", sa.String), sa.Column("completed_at", sa.Float, nullable=True)
    )
    engine = sa.create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert().values(status=state.value, completed_at=completed_at))
        in_sql = conn.execute(sa.select(billed_clause(table.c.status, table.c.completed_at))).scalar_one()
    assert bool(in_sql) == billed(state, completed_at)


def test_what_is_billed():
    assert not billed(RunStatus.SUBMIT_FAILED, None) and not billed(RunStatus.SUBMIT_FAILED, 1.0)
    assert not billed(RunStatus.FAILED, None) and billed(RunStatus.FAILED, 1.0)
    assert billed(RunStatus.SUBMITTING, None) and billed(RunStatus.UNKNOWN, None) and billed(RunStatus.EXPIRED, 1.0)
