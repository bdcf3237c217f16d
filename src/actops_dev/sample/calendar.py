"""Dates and times for the sample company: no randomness, no clock.

Workdays are the runtime's: :class:`actops.kernel.calendar.WorkCalendar` over the same PRC
calendar rows ``seed`` writes to the Calendar table, so holidays and make-up workdays (调休)
count as they will for the flows.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from actops.kernel.calendar import TZ, WorkCalendar, known_years, prc_calendar_rows

DAY = dt.timedelta(days=1)
H = dt.timedelta(hours=1)


def ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S+08:00")


def calendar_rows(today: dt.date) -> list[dict]:
    """Calendar-table rows for a sample made on ``today``: each year ``chinese_calendar``
    knows, from two years back (other dates fall back to Mon–Fri, as in the flows)."""
    return prc_calendar_rows([y for y in known_years() if y >= today.year - 2])


@cache
def work_calendar(today: dt.date) -> WorkCalendar:
    cal, _ = WorkCalendar.from_rows(calendar_rows(today))  # generated rows: nothing to warn about
    return cal


def add_wd(cal: WorkCalendar, d: dt.date, n: int) -> dt.date:
    """The ``n``-th workday on ``cal`` after ``d`` (before it when negative)."""
    step = 1 if n >= 0 else -1
    while n:
        d += DAY * step
        if cal.is_workday(d):
            n -= step
    return d


def add_workdays(cal: WorkCalendar, t: dt.datetime, n: float) -> dt.datetime:
    """``t`` (naive, Asia/Shanghai) moved by ``n`` workdays on the runtime's workday clock."""
    return cal.add_workdays(t.replace(tzinfo=TZ), n).replace(tzinfo=None)


def week_start(d: dt.date) -> dt.date:
    """The Monday of ``d``'s week."""
    return d - dt.timedelta(days=d.weekday())


def month_add(d: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``d``'s."""
    m = d.year * 12 + d.month - 1 + months
    return dt.date(m // 12, m % 12 + 1, 1)


def at_hour(d: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, hour, minute)


def quarter(d: dt.date, back: int = 0) -> tuple[str, dt.date, dt.date]:
    """(code, first day, last day) of the quarter ``back`` quarters before ``d``'s."""
    q = d.year * 4 + (d.month - 1) // 3 - back
    year, idx = divmod(q, 4)
    start = dt.date(year, idx * 3 + 1, 1)
    return f"{year}-Q{idx + 1}", start, month_add(start, 3) - DAY
