"""The numbers of a monthly summary (SUM-1, RPT-3), per department and for the company. Pure.

Every number is for one calendar month (Beijing time) and one scope: a department (the
activity's 承办部门, the request's 申请部门, the report writer's or item owner's 所属部门) or
the whole company. Rules where the policies are silent:

* an activity counts in a month when its dates touch the month;
* approval cycle time = 提交时间 → 结束时间 in workdays (the 工作日历), for requests that
  ended in the month; p50/p90 by the nearest-rank method; a request is overdue when any
  of its steps was escalated (升级级别 ≥ 1);
* a report is on time when submitted by its due time; reports due in the month count;
* an action item is overdue at month end when due by then and not done by then;
* deviation = actual end (结项时间) − planned end (结束日期) in workdays, for activities
  planned to end in the month; ``MAJOR_DELAY`` workdays or more is named with its owner;
  an activity not closed at month end counts as delayed to the month end.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from actops.kernel.calendar import TZ, WorkCalendar, to_local

COMPANY = "全公司"
MAJOR_DELAY = 3.0  # workdays
RISK_BANDS = ((15, "极高"), (10, "高"), (5, "中"), (0, "低"))


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        y, m = (int(x) for x in str(text).strip().split("-")[:2])
        if not 1 <= m <= 12:
            raise ValueError(f"month {text!r}: use YYYY-MM, e.g. 2026-10")
        return cls(y, m)

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The calendar month before the one ``moment`` falls in (Beijing time)."""
        first = to_local(moment).date().replace(day=1)
        prev = first - timedelta(days=1)
        return cls(prev.year, prev.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        nxt = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return nxt - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), TZ)

    @property
    def end(self) -> datetime:  # exclusive
        return datetime.combine(self.last + timedelta(days=1), time(0), TZ)

    def previous(self) -> Month:
        return Month.before(self.start)

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    def has(self, moment: datetime | date | None) -> bool:
        if moment is None:
            return False
        if isinstance(moment, datetime):
            return self.start <= to_local(moment) < self.end
        return self.first <= moment <= self.last


@dataclass
class Delay:
    activity: str
    name: str
    owner: str
    planned_end: date
    actual_end: date | None
    workdays: float


@dataclass
class Numbers:
    scope: str
    month: str
    activities: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    approvals: int = 0
    approvals_rejected: int = 0
    approvals_overdue: int = 0
    cycle_p50: float | None = None
    cycle_p90: float | None = None
    reports_due: int = 0
    reports_on_time: int = 0
    overdue_items: dict[str, int] = field(default_factory=dict)  # owner → count at month end
    kpi_attainment: float | None = None
    kpi_count: int = 0
    budget: dict[str, tuple[float, float]] = field(default_factory=dict)  # category → (budget, spent)
    risks: dict[str, int] = field(default_factory=dict)  # level → open risks
    satisfaction: float | None = None  # mean 满意度 (1–5)
    feedback_count: int = 0
    delays: list[Delay] = field(default_factory=list)
    on_schedule: int = 0
    ending: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.reports_on_time / self.reports_due if self.reports_due else None

    @property
    def major_delays(self) -> list[Delay]:
        return [d for d in self.delays if d.workdays >= MAJOR_DELAY]

    def headline(self) -> dict[str, float | None]:
        """The few numbers compared with the month before."""
        spent = sum(s for _, s in self.budget.values())
        budget = sum(b for b, _ in self.budget.values())
        return {"activities": self.activities, "approvals": self.approvals, "cycle_p50": self.cycle_p50,
                "on_time_rate": self.on_time_rate, "overdue_items": sum(self.overdue_items.values()),
                "kpi_attainment": self.kpi_attainment, "budget_used": spent / budget if budget else None,
                "high_risks": self.risks.get("高", 0) + self.risks.get("极高", 0),
                "satisfaction": self.satisfaction, "major_delays": len(self.major_delays)}


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p % of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def risk_level(likelihood: Any, impact: Any) -> str | None:
    try:
        score = int(likelihood) * int(impact)
    except (TypeError, ValueError):
        return None
    return next(label for floor, label in RISK_BANDS if score >= floor)


@dataclass
class Data:
    """Typed rows (records or namespaces with the schema's field names)."""

    activities: list[Any]
    requests: list[Any]
    steps: list[Any]
    reports: list[Any]
    action_items: list[Any]
    kpi_results: list[Any]
    budget_lines: list[Any]
    risks: list[Any]
    feedback: list[Any]
    people: dict[str, tuple[str, str | None]]  # 工号 → (姓名, 部门)


def _touches(a: Any, m: Month) -> bool:
    return bool(a.start_date and a.end_date and a.start_date <= m.last and a.end_date >= m.first)


def compute(data: Data, m: Month, cal: WorkCalendar, scope: str | None = None) -> Numbers:
    """The numbers of month ``m`` for department ``scope`` (None: the whole company)."""
    n = Numbers(scope or COMPANY, str(m))

    def mine(dept: str | None) -> bool:
        return scope is None or dept == scope

    def dept_of(code: str | None) -> str | None:
        return data.people.get(code or "", ("", None))[1]

    acts = [a for a in data.activities if mine(a.department) and _touches(a, m)]
    n.activities = len(acts)
    n.by_type = dict(Counter(str(a.type or "—") for a in acts))
    n.by_stage = dict(Counter(str(a.stage or "—") for a in acts))
    _approvals(n, [r for r in data.requests if mine(r.department)], data.steps, m, cal)
    due = [r for r in data.reports if mine(dept_of(r.employee)) and m.has(r.due_at)]
    n.reports_due = len(due)
    n.reports_on_time = sum(1 for r in due if r.submitted_at and r.submitted_at <= r.due_at)
    end = m.end
    late: Counter[str] = Counter()
    for i in data.action_items:
        if not mine(i.department or dept_of(i.owner)) or not i.due_date or i.due_date > m.last:
            continue
        if i.status == "已取消" or (i.done_at is not None and to_local(i.done_at) < end):
            continue
        if i.status == "已完成" and i.done_at is None:
            continue
        late[data.people.get(i.owner or "", (i.owner or "—", None))[0]] += 1
    n.overdue_items = dict(late.most_common())
    kpis = [k.attainment for k in data.kpi_results
            if k.period == str(m) and k.attainment is not None and (scope is None or k.subject == scope)]
    n.kpi_count = len(kpis)
    n.kpi_attainment = sum(kpis) / len(kpis) if kpis else None
    codes = {a.code for a in acts}
    budget: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for b in data.budget_lines:
        if b.activity in codes:
            budget[str(b.category)][0] += b.amount or 0.0
            budget[str(b.category)][1] += b.spent or 0.0
    n.budget = {k: (v[0], v[1]) for k, v in sorted(budget.items())}
    open_risks = [r for r in data.risks if r.activity in codes and r.status != "已关闭"]
    n.risks = dict(Counter(lv for r in open_risks if (lv := risk_level(r.likelihood, r.impact))))
    scores = [f.satisfaction for f in data.feedback if f.activity in {a.code for a in data.activities
                                                                       if mine(a.department)}
              and m.has(f.submitted_at) and f.satisfaction]
    n.feedback_count = len(scores)
    n.satisfaction = sum(scores) / len(scores) if scores else None
    _deviation(n, [a for a in data.activities if mine(a.department) and m.has(a.end_date)], m, cal, data.people)
    return n


def _approvals(n: Numbers, requests: Iterable[Any], steps: Iterable[Any], m: Month, cal: WorkCalendar) -> None:
    ended = [r for r in requests if r.status in ("已通过", "已驳回") and m.has(r.decided_at)]
    escalated = {s.request for s in steps if (s.escalation_level or 0) >= 1}
    n.approvals = len(ended)
    n.approvals_rejected = sum(1 for r in ended if r.status == "已驳回")
    n.approvals_overdue = sum(1 for r in ended if r.code in escalated)
    cycles = [cal.workdays_between(r.submitted_at, r.decided_at) for r in ended if r.submitted_at]
    n.cycle_p50, n.cycle_p90 = percentile(cycles, 50), percentile(cycles, 90)


def _deviation(n: Numbers, ending: list[Any], m: Month, cal: WorkCalendar,
               people: dict[str, tuple[str, str | None]]) -> None:
    n.ending = len(ending)
    for a in ending:
        planned = datetime.combine(a.end_date + timedelta(days=1), time(0), TZ)  # the end of the planned day
        actual = to_local(a.closed_at) if a.closed_at else None
        upto = actual if actual is not None and actual < m.end else m.end
        late = max(0.0, cal.workdays_between(planned, upto)) if upto > planned else 0.0
        if late <= 0:
            n.on_schedule += 1
            continue
        owner = people.get(a.owner or "", (a.owner or "—", None))[0]
        n.delays.append(Delay(a.code, a.name, owner, a.end_date, actual.date() if actual else None, round(late, 1)))
    n.delays.sort(key=lambda d: (-d.workdays, d.activity))


def change(now: dict[str, float | None], before: dict[str, float | None]) -> dict[str, float | None]:
    """Each headline number minus the month before's (None where either is missing)."""
    return {k: (v - before[k]) if v is not None and before.get(k) is not None else None for k, v in now.items()}
