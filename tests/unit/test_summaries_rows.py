"""A monthly summary reads the rows its month and the month before can count, not the tables
whole (issue 12), and computes from them exactly what it would from the whole tables: every
department and the company, the month and the month before."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from actops.jobs.summaries.metrics import Data, Month, compute
from actops.jobs.summaries.rows import read_month
from actops.kernel.calendar import WorkCalendar, prc_calendar_rows
from tests.unit.fake_world import fake_store
from tests.unit.ops_company import ops_company

CAL = WorkCalendar.from_rows(prc_calendar_rows([2025, 2026]))[0]
TABLES = ("activities", "approval_requests", "approval_steps", "reports", "action_items", "kpi_results",
          "budget_lines", "risks", "feedback")


@pytest.fixture(scope="module")
def store():
    _, s = fake_store({"now": datetime(2026, 12, 1, 2, 0, tzinfo=UTC)})
    ops_company(s)
    return s


def _data(recs, store) -> Data:
    people = {e["code"]: (e["name"], e["department"]) for e in store.table("employees").rows()}
    return Data(people=people, **{k: recs[k] for k in ("activities", "kpi_results", "budget_lines", "risks",
                                                       "feedback", "reports", "action_items")},
                requests=recs["approval_requests"], steps=recs["approval_steps"])


@pytest.mark.req("SUM-1", "OPS-3")
@pytest.mark.parametrize("month", ["2026-07", "2026-08", "2026-10", "2026-11", "2026-01", "2025-06"])
def test_the_months_rows_give_the_same_summary_as_the_whole_tables(store, month):
    m = Month.parse(month)
    got = read_month(store, m)
    whole = {n: store.table(n).read(salvage=True)[0] for n in TABLES}
    for scope in (None, "D02", "D07"):
        for mm in (m, m.previous()):
            assert asdict(compute(_data(got, store), mm, CAL, scope)) == asdict(compute(_data(whole, store), mm, CAL,
                                                                                          scope)), (scope, mm)
    assert compute(_data(got, store), m, CAL).activities > 0  # the month is not empty: the twin compares something
    for n in ("activities", "action_items", "budget_lines", "risks"):
        assert len(got[n]) < len(whole[n]), n
