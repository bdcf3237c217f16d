"""Dates and times for the sample company: pure helpers, no randomness, no clock."""

from __future__ import annotations

import datetime as dt

DAY = dt.timedelta(days=1)
H = dt.timedelta(hours=1)


def ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S+08:00")


def add_wd(d: dt.date, n: int) -> dt.date:
    """``n`` workdays (Mon–Fri) after ``d`` (before it when negative)."""
    step = 1 if n >= 0 else -1
    while n:
        d += DAY * step
        if d.weekday() < 5:
            n -= step
    return d


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
