"""The numbers of a monthly summary on a hand-built October 2026 (SUM-1, RPT-3).

The month has the National Day holiday (10-01 … 10-07 off) and the make-up Saturday 10-10.
Each expected number is worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace as NS

import pytest

from actops.jobs.summaries.metrics import Data, Month, change, compute, percentile
from actops.kernel.calendar import TZ, WorkCalendar, prc_calendar_rows

CAL = WorkCalendar.from_rows(prc_calendar_rows([2026]))[0]
OCT = Month(2026, 10)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def act(code, dept, start, end, closed=None, owner="E1", type_="市场推广", stage="执行"):
    return NS(code=code, name=f"活动{code}", department=dept, start_date=date.fromisoformat(start),
              end_date=date.fromisoformat(end), closed_at=t(closed) if closed else None, owner=owner, type=type_,
              stage=stage)


def req(code, dept, submitted, decided, status="已通过"):
    return NS(code=code, department=dept, submitted_at=t(submitted), decided_at=t(decided), status=status)


DATA = Data(
    activities=[act("A1", "D03", "2026-10-12", "2026-10-16", closed="2026-10-22T12:00", owner="E1"),
                act("A2", "D03", "2026-09-20", "2026-10-02", closed="2026-10-02T18:00", type_="客户交流"),
                act("A3", "D04", "2026-11-02", "2026-11-05")],
    requests=[req("R1", "D03", "2026-09-30T16:00", "2026-10-08T10:00"),   # 8 h + (holiday) + 10 h = 0.75
              req("R2", "D03", "2026-10-12T09:00", "2026-10-14T09:00"),   # 2.0
              req("R3", "D04", "2026-10-09T09:00", "2026-10-12T09:00"),   # 15 h + Sat 10-10 (make-up) + 9 h = 2.0
              req("R4", "D03", "2026-10-20T10:00", "2026-10-20T16:00", "已驳回"),  # 0.25
              req("R5", "D03", "2026-10-30T10:00", "2026-11-02T10:00")],  # ends in November: not counted
    steps=[NS(request="R2", escalation_level=1), NS(request="R1", escalation_level=0)],
    reports=[NS(employee="E1", due_at=t("2026-10-09T18:00"), submitted_at=t("2026-10-09T17:00")),
             NS(employee="E1", due_at=t("2026-10-16T18:00"), submitted_at=t("2026-10-19T09:00")),
             NS(employee="E2", due_at=t("2026-10-23T18:00"), submitted_at=None),
             NS(employee="E1", due_at=t("2026-11-06T18:00"), submitted_at=None)],
    action_items=[NS(owner="E1", department="D03", due_date=date(2026, 10, 20), status="进行中", done_at=None),
                  NS(owner="E1", department="D03", due_date=date(2026, 10, 25), status="已完成",
                     done_at=t("2026-11-03T10:00")),  # done only in November: overdue at October's end
                  NS(owner="E2", department="D03", due_date=date(2026, 10, 5), status="已完成",
                     done_at=t("2026-10-05T10:00")),
                  NS(owner="E2", department="D03", due_date=date(2026, 11, 5), status="进行中", done_at=None)],
    kpi_results=[NS(period="2026-10", subject="D03", attainment=0.9), NS(period="2026-10", subject="D04", attainment=1.1),
                 NS(period="2026-09", subject="D03", attainment=0.5)],
    budget_lines=[NS(activity="A1", category="场地", amount=10000.0, spent=12000.0),
                  NS(activity="A2", category="场地", amount=5000.0, spent=1000.0),
                  NS(activity="A1", category="宣传", amount=3000.0, spent=None)],
    risks=[NS(activity="A1", likelihood=4, impact=4, status="监控中"), NS(activity="A1", likelihood=2, impact=3, status="识别"),
           NS(activity="A2", likelihood=5, impact=5, status="已关闭")],
    feedback=[NS(activity="A1", satisfaction=5, submitted_at=t("2026-10-20T10:00")),
              NS(activity="A2", satisfaction=4, submitted_at=t("2026-10-03T10:00")),
              NS(activity="A3", satisfaction=1, submitted_at=t("2026-10-03T10:00"))],
    people={"E1": ("张伟", "D03"), "E2": ("李娜", "D03")},
)


@pytest.mark.req("SUM-1")
def test_cycle_times_in_workdays_across_the_national_day_holiday():
    n = compute(DATA, OCT, CAL)
    assert (n.approvals, n.approvals_rejected, n.approvals_overdue) == (4, 1, 1)
    # cycles 0.75, 2.0, 2.0, 0.25 → sorted 0.25 0.75 2.0 2.0: p50 = 2nd value, p90 = 4th (nearest rank)
    assert (n.cycle_p50, n.cycle_p90) == (pytest.approx(0.75), pytest.approx(2.0))
    assert percentile([], 50) is None


@pytest.mark.req("SUM-1", "RPT-3")
def test_a_department_month_reports_on_time_overdue_items_per_owner_and_a_named_delay():
    n = compute(DATA, OCT, CAL, "D03")
    assert n.activities == 2 and n.by_type == {"市场推广": 1, "客户交流": 1}
    assert (n.reports_due, n.reports_on_time) == (3, 1)  # E1 on time, E1 late, E2 never (the November one not yet due)
    assert n.overdue_items == {"张伟": 2}  # one open, one done only in November; 李娜's were done or not yet due
    assert n.kpi_attainment == pytest.approx(0.9)
    assert n.budget == {"宣传": (3000.0, 0.0), "场地": (15000.0, 13000.0)}
    assert n.risks == {"极高": 1, "中": 1}  # 4×4 = 16 ≥ 15; 2×3 = 6 ≥ 5; the closed one not counted
    assert (n.satisfaction, n.feedback_count) == (4.5, 2)
    # A1 planned to end Fri 10-16, closed Thu 10-22 12:00: Mon–Wed 3 workdays + half of Thu = 3.5 (major)
    assert (n.ending, n.on_schedule) == (2, 1)
    [delay] = n.major_delays
    assert (delay.activity, delay.owner, delay.workdays, delay.actual_end) == ("A1", "张伟", 3.5, date(2026, 10, 22))


@pytest.mark.req("SUM-1")
def test_a_department_without_activity_gets_zeros_and_blanks_not_errors():
    n = compute(DATA, OCT, CAL, "D09")
    assert (n.activities, n.approvals, n.reports_due, n.ending) == (0, 0, 0, 0)
    assert n.cycle_p50 is None and n.on_time_rate is None and n.satisfaction is None and n.kpi_attainment is None
    assert all(v in (0, None) for v in n.headline().values())


@pytest.mark.req("SUM-1")
def test_the_change_from_the_month_before():
    now = compute(DATA, OCT, CAL, "D03").headline()
    before = compute(DATA, OCT.previous(), CAL, "D03").headline()
    delta = change(now, before)
    assert OCT.previous() == Month(2026, 9) and str(Month.parse("2026-1")) == "2026-01"
    assert before["activities"] == 1 and delta["activities"] == 1  # A2 began in September
    assert delta["kpi_attainment"] == pytest.approx(0.4)  # 0.9 − 0.5
    assert delta["cycle_p50"] is None  # nothing ended in September
