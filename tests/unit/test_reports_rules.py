"""Late reports, their flag, and late streaks per employee (RPT-1, EVA-6)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from actops.jobs.escalations.late_reports import FLAG_NO_REASON, ReportRow, late_report_plan
from actops.kernel.calendar import TZ

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=TZ)


def row(
    row_id,
    employee,
    day,
    *,
    late_by=None,
    submitted=True,
    reason=None,
    late=False,
    flag=None,
    kind="日报",
    due=True,
) -> ReportRow:
    period = date(2026, 10, day)
    due_at = datetime(2026, 10, day + 1, 18, 0, tzinfo=TZ) if due else None
    sub = None
    if submitted and due_at is not None:
        sub = due_at + (late_by if late_by is not None else timedelta(hours=-2))
    elif submitted:
        sub = datetime(2026, 10, day + 1, 10, 0, tzinfo=TZ)
    return ReportRow(row_id, employee, kind, period, due_at, sub, reason, late, flag)


@pytest.mark.req("RPT-1")
def test_row_updates_set_late_and_flag_only_when_changed():
    rows = [
        row(1, "E1", 1, late_by=timedelta(hours=1)),  # late, no reason
        row(
            2,
            "E1",
            2,
            late_by=timedelta(hours=1),
            reason="客户现场",
            late=True,
            flag=FLAG_NO_REASON,
        ),
        row(3, "E1", 3),  # on time, already right
        row(4, "E1", 4, late_by=timedelta(0)),  # exactly at the due time is on time
        row(5, "E1", 25, submitted=False),  # due Oct 26: still open
        row(6, "E1", 12, submitted=False),  # overdue, not submitted
        row(7, "E1", 5, late_by=timedelta(hours=1), reason="   "),  # blank reason is no reason
        row(8, "E1", 6, flag="数据待核实"),  # someone else's flag is left alone
        row(9, "E1", 7, late=True),  # wrongly marked late earlier
    ]
    updates, _, _ = late_report_plan(rows, 3, NOW)
    assert updates == [
        {"Id": 1, "late": True, "flag": FLAG_NO_REASON},
        {"Id": 2, "flag": None},
        {"Id": 6, "late": True, "flag": FLAG_NO_REASON},
        {"Id": 7, "late": True, "flag": FLAG_NO_REASON},
        {"Id": 9, "late": False},
    ]


@pytest.mark.req("RPT-1", "EVA-6")
def test_streaks_in_period_order_across_kinds_reset_by_on_time():
    late = timedelta(hours=3)
    rows = [
        # given out of order on purpose
        row(13, "E1", 9, late_by=late, kind="周报"),
        row(11, "E1", 1, late_by=late),
        row(12, "E1", 2),  # on time: resets
        row(14, "E1", 10, late_by=late),
        row(15, "E1", 11, submitted=False),  # overdue counts as late
        row(16, "E1", 25, submitted=False),  # open, not due yet: does not count
        row(21, "E2", 1, late_by=late),
        row(22, "E2", 2, late_by=late),
        row(23, "E2", 3),
        row(31, "E3", 1, due=False),  # no due time: cannot be judged
    ]
    _, streaks, flagged = late_report_plan(rows, 3, NOW)
    assert streaks == {"E1": 3, "E2": 0, "E3": 0}
    assert flagged == {"E1"}
    _, _, flagged = late_report_plan(rows, 4, NOW)
    assert flagged == set()


@pytest.mark.req("RPT-1")
def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        late_report_plan([], 0, NOW)
