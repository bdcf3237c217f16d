"""工作日历 in production (ESC-3): every year ``chinese_calendar`` knows, missing dates only.

The package says which days are statutory holidays and which weekends are official
make-up workdays (调休上班). The table is what the flows count with, and administrators may
edit it (a company holiday, a day the State Council moved late). So the sync only *adds*
dates the table lacks; a row an administrator changed — its UpdatedAt is set, or its
values differ from the package — is left as it is and reported as kept; two rows for one
date are left for a person to resolve (REL-2). Inserts go in batches of 100 with the date
as natural key, so a failed batch is re-checked, never blindly repeated.

``actops calendar sync`` runs it; the intake job runs it too when the table has fewer
rows than the known years have days (one count call), so a new base or a package upgrade
that adds a year fills itself on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from actops.kernel.calendar import known_years, prc_calendar_rows
from actops.nocodb import F

CALENDAR = "calendar"


@dataclass
class CalendarPlan:
    years: list[int]
    add: list[dict[str, Any]] = field(default_factory=list)  # package rows for missing dates
    same: int = 0  # rows equal to the package, never edited
    kept: list[tuple[str, str]] = field(default_factory=list)  # (date, why) rows left as they are
    duplicates: list[str] = field(default_factory=list)  # dates with more than one row
    added: int = 0  # rows actually inserted (0 in a dry run)

    def summary(self) -> str:
        span = f"{self.years[0]}–{self.years[-1]}" if self.years else "（无）"
        return (f"工作日历 {span}：新增 {len(self.add)} 天，已一致 {self.same} 天，保留管理员修改 {len(self.kept)} 天"
                + (f"，重复日期 {len(self.duplicates)} 个" if self.duplicates else ""))


def _norm(row: Mapping[str, Any]) -> tuple[bool, str, str]:
    wd = row.get("is_workday")
    workday = wd.strip().lower() in {"true", "1", "是"} if isinstance(wd, str) else bool(wd)
    return workday, str(row.get("kind") or ""), str(row.get("holiday") or "")


def _day(raw: Any) -> str | None:
    text = str(raw or "").strip()[:10]
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def plan_calendar(existing: Iterable[Mapping[str, Any]], package: Iterable[Mapping[str, Any]],
                  years: list[int]) -> CalendarPlan:
    """What to add and what to keep. ``existing``: table rows keyed by field name with
    ``UpdatedAt``; ``package``: rows of :func:`prc_calendar_rows`."""
    p = CalendarPlan(years=years)
    have: dict[str, list[Mapping[str, Any]]] = {}
    for r in existing:
        d = _day(r.get("date"))
        if d is not None:
            have.setdefault(d, []).append(r)
    for want in package:
        d = want["date"]
        rows = have.get(d)
        if not rows:
            p.add.append(dict(want))
            continue
        if len(rows) > 1:
            p.duplicates.append(d)
            continue
        row = rows[0]
        if _norm(row) != _norm(want):
            wd, kind, holiday = _norm(want)
            p.kept.append((d, f"与官方安排不同（官方：{kind}{'·' + holiday if holiday else ''}），已保留"))
        elif row.get("UpdatedAt"):
            p.kept.append((d, "管理员修改过，已保留"))
        else:
            p.same += 1
    return p


def _span(years: list[int]) -> Any:
    return F("date").on_or_after(date(years[0], 1, 1)) & F("date").on_or_before(date(years[-1], 12, 31))


def expected_days(years: list[int]) -> int:
    return sum((date(y + 1, 1, 1) - date(y, 1, 1)).days for y in years)


def looks_complete(store: Any, years: list[int] | None = None) -> bool:
    """One count: the table has at least as many rows in the known years as they have days."""
    years = years or known_years()
    if not years:
        return True
    t = store.table(CALENDAR)
    return t.table.count(t.where(_span(years))) >= expected_days(years)


def sync_calendar(store: Any, years: list[int] | None = None, *, dry_run: bool = False) -> CalendarPlan:
    """Read the table within the known years (pages of 1,000), add the missing dates
    (batches of 100) unless ``dry_run``."""
    years = sorted(years or known_years())
    if not years:
        return CalendarPlan(years=[])
    t = store.table(CALENDAR)
    existing = t.rows(t.where(_span(years)))
    p = plan_calendar(existing, prc_calendar_rows(years), years)
    if p.add and not dry_run:
        p.added = len(t.create(p.add))
    return p
