"""Workday arithmetic on the PRC calendar (ESC-3).

Deadlines in the policies are counted in *workdays*, and PRC workdays are not simply
Mon–Fri: statutory holidays take weekdays off and official make-up days (调休上班) turn
Saturdays or Sundays into workdays.  The truth lives in the staff-editable ``Calendar``
table; :func:`prc_calendar_rows` seeds it from the ``chinese_calendar`` package.  Dates the
table does not cover fall back to Mon–Fri, and :meth:`WorkCalendar.unknown_in` tells
callers which dates that happened for, so they can warn (the rule stays pure).

The counting rule ("workday clock")
-----------------------------------
Time only runs on workdays, 24 hours each (there are no office hours in the policies).
``add_workdays(start, n)`` is the *earliest* instant at which ``n × 24 h`` of workday time
has elapsed since ``start``; for negative ``n`` it is the *latest* instant that lies
``|n| × 24 h`` of workday time before ``start``.  Consequences:

* opened on a workday at 15:00, +2 → 15:00 on the 2nd workday after the opening day;
* opened on a non-workday, the clock starts at 00:00 of the next workday, so +2 ends at
  the end of the 2nd workday (returned as 00:00 of the following calendar day);
* fractions work (0.5 = 12 h of workday time) and
  ``workdays_between(a, add_workdays(a, n)) == n``.

All results are timezone-aware in Asia/Shanghai (no DST there, so wall-clock arithmetic
is exact).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)
_MAX_DAYS = 3700  # ~10 years: a calendar marking everything off must not hang a flow

KIND_WORKDAY = "工作日"
KIND_WEEKEND = "周末"
KIND_HOLIDAY = "法定节假日"
KIND_MAKEUP = "调休上班"


def to_local(dt: datetime) -> datetime:
    """``dt`` in Asia/Shanghai; naive datetimes are refused because they hide bugs."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} (attach a timezone, e.g. Asia/Shanghai)")
    return dt.astimezone(TZ)


def _as_date(raw: object) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    return date.fromisoformat(str(raw).strip()[:10])


def _truthy(raw: object) -> bool:
    """Checkbox values as NocoDB or a CSV may give them (``"false"`` is not true)."""
    if isinstance(raw, str):
        return raw.strip().lower() in {"true", "1", "yes", "y", "是", "✓"}
    return bool(raw)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0))


@dataclass(frozen=True)
class WorkCalendar:
    """Which dates are workdays; ``days`` comes from the Calendar table."""

    days: Mapping[date, bool]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]]) -> tuple[WorkCalendar, list[str]]:
        """Build from Calendar rows (``date`` as date or ``YYYY-MM-DD``, ``is_workday``).

        Rows with an unreadable date are skipped with a warning instead of failing the run.
        """
        days: dict[date, bool] = {}
        warnings: list[str] = []
        for row in rows:
            raw = row.get("date")
            try:
                d = _as_date(raw)
            except ValueError:
                warnings.append(
                    f"工作日历中日期 {raw!r} 无法识别（应为 YYYY-MM-DD），该行已忽略，请修改。"
                )
                continue
            days[d] = _truthy(row.get("is_workday"))
        return cls(days), warnings

    def is_workday(self, d: date) -> bool:
        """From the table when known, else Mon–Fri (see :meth:`unknown_in`)."""
        known = self.days.get(d)
        if known is not None:
            return bool(known)
        return d.weekday() < 5

    def known(self, d: date) -> bool:
        return d in self.days

    def unknown_in(self, start: date, end: date) -> list[date]:
        """Dates in ``[start, end]`` (either order) decided by the Mon–Fri fallback.

        Callers pass the span they computed over (e.g. opening date .. due date) and warn
        when the list is non-empty (ESC-3).
        """
        if end < start:
            start, end = end, start
        out: list[date] = []
        d = start
        while d <= end:
            if d not in self.days:
                out.append(d)
            d += _DAY
        return out

    def next_workday(self, d: date, *, include: bool = False) -> date:
        """The first workday after ``d`` (or ``d`` itself when ``include`` and it is one)."""
        cur = d if include else d + _DAY
        for _ in range(_MAX_DAYS):
            if self.is_workday(cur):
                return cur
            cur += _DAY
        raise ValueError(f"no workday within {_MAX_DAYS} days after {d}; check the Calendar table")

    def add_workdays(self, start: datetime, n: float) -> datetime:
        """``start`` moved by ``n`` workdays on the workday clock (module docstring)."""
        local = to_local(start)
        if n == 0:
            return local
        naive = local.replace(tzinfo=None)
        remaining = abs(n) * _DAY
        day = naive.date()
        offset = naive - _midnight(day)
        for _ in range(_MAX_DAYS):
            if n > 0:
                if self.is_workday(day):
                    avail = _DAY - offset
                    if remaining <= avail:
                        return (_midnight(day) + offset + remaining).replace(tzinfo=TZ)
                    remaining -= avail
                day, offset = day + _DAY, timedelta(0)
            else:
                if self.is_workday(day):
                    if remaining <= offset:
                        return (_midnight(day) + offset - remaining).replace(tzinfo=TZ)
                    remaining -= offset
                day, offset = day - _DAY, _DAY
        raise ValueError(f"{n} workdays from {local.isoformat()} exceed {_MAX_DAYS} calendar days")

    def workdays_between(self, a: datetime, b: datetime) -> float:
        """Workday time from ``a`` to ``b`` in workdays (a float; negative when b < a)."""
        la, lb = to_local(a).replace(tzinfo=None), to_local(b).replace(tzinfo=None)
        if lb < la:
            return -self.workdays_between(b, a)
        total = timedelta(0)
        day = la.date()
        while day <= lb.date():
            if self.is_workday(day):
                lo = max(la, _midnight(day))
                hi = min(lb, _midnight(day + _DAY))
                if hi > lo:
                    total += hi - lo
            day += _DAY
        return total / _DAY


def known_years() -> list[int]:
    """Years the installed ``chinese_calendar`` has holiday data for."""
    from chinese_calendar.constants import holidays

    years = [d.year for d in holidays]
    return list(range(min(years), max(years) + 1)) if years else []


def _chinese_name(english: str | None) -> str:
    from chinese_calendar.constants import Holiday

    if not english:
        return ""
    try:
        return Holiday(english).chinese
    except ValueError:
        return english


def prc_calendar_rows(years: Iterable[int]) -> list[dict]:
    """Calendar-table rows for every day of each supported year; others are skipped.

    ``kind`` is 调休上班 for a weekend made a workday, 法定节假日 for any day the State
    Council lists as holiday (also when it falls on a weekend), else 工作日 / 周末.
    """
    import chinese_calendar as cc

    supported = set(known_years())
    rows: list[dict] = []
    for year in sorted(set(years)):
        if year not in supported:
            continue
        d = date(year, 1, 1)
        while d.year == year:
            try:
                workday = cc.is_workday(d)
                _, name = cc.get_holiday_detail(d)
            except NotImplementedError:  # range check of the package; be safe
                break
            weekend = d.weekday() >= 5
            if workday and weekend:
                kind, holiday = KIND_MAKEUP, _chinese_name(name)
            elif workday:
                kind, holiday = KIND_WORKDAY, ""
            elif name:
                kind, holiday = KIND_HOLIDAY, _chinese_name(name)
            else:
                kind, holiday = KIND_WEEKEND, ""
            rows.append(
                {"date": d.isoformat(), "is_workday": workday, "kind": kind, "holiday": holiday}
            )
            d += _DAY
    return rows
