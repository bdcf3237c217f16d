"""The generator's shared state and helpers, and ``generate()``, which runs the domain steps in order."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from actops.kernel.calendar import WorkCalendar
from actops_dev.sample import (
    activities,
    approvals,
    audit,
    customers,
    evaluations,
    finance,
    org,
    plans,
    reports,
    risks,
)
from actops_dev.sample.calendar import DAY, ts, work_calendar
from actops_dev.sample.org import GIVEN, MOBILE_PREFIXES, SURNAMES

__all__ = ["Gen", "Row", "generate"]

Row = dict[str, Any]


def generate(today: dt.date, scale: int = 1, seed: int = 20261122) -> dict[str, list[dict]]:
    """Rows per table name, keyed by internal field names (see schema/*/*.yaml `name:`)."""
    if isinstance(today, dt.datetime):
        today = today.date()
    return Gen(today, max(1, int(scale)), seed).run()


class Gen:
    """The state every domain module reads and extends; its RNG is the only randomness."""

    # Set by the domain steps (see ``run``), read by the later ones.
    gm: str  # org: the general manager's code
    emp: dict[str, Row]  # org: employees by code
    heads: dict[str, str]  # org: department → head's code
    active: list[str]  # org: codes of active employees
    workers: dict[str, list[str]]  # org: department → active staff below the head
    finance_staff: list[str]
    directors: list[str]
    planners: list[str]
    on_leave: set[str]
    customer_rows: list[Row]  # customers
    acts: list[Row]  # activities

    def __init__(self, today: dt.date, scale: int, seed: int) -> None:
        self.today = today
        self.scale = scale
        # Policy deadlines count the runtime's workdays (PRC holidays and 调休, as seeded into the
        # Calendar table); when people act is placed on Mon–Fri, like ``wt`` and ``after`` do.
        self.cal = work_calendar(today)
        self.office = WorkCalendar({})
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.ri = self.rng.randint
        self.u = self.rng.uniform
        self.ch = self.rng.choice
        self.now = dt.datetime.combine(today, dt.time())
        self.limit = self.now - dt.timedelta(minutes=20)
        self.t: dict[str, list[Row]] = {n: [] for n in (
            "departments", "employees", "customers", "activities", "approval_requests",
            "approval_steps", "approval_decisions", "stage_gates", "documents", "reports",
            "meetings", "action_items", "kpi_results", "budget_lines", "expenses", "risks",
            "risk_history", "feedback", "plans", "plan_tasks", "problems", "eval_cycles",
            "audit_cycles", "audit_findings")}
        self.requests: list[Row] = []
        self.meetings: list[Row] = []
        self._expense_n = itertools.count()
        self._surname_cum = list(itertools.accumulate(1.0 / (i + 8) for i in range(len(SURNAMES))))
        self._mobiles: set[str] = set()

    # ------------------------------------------------------------ small helpers

    def wt(self, d: dt.date, h0: int = 9, h1: int = 18, shift: bool = True) -> dt.datetime:
        """A working-hours time on ``d`` (a weekend moves to the Friday before)."""
        if shift and d.weekday() >= 5:
            d -= dt.timedelta(days=d.weekday() - 4)
        return dt.datetime(d.year, d.month, d.day, self.ri(h0, h1 - 1), self.ri(0, 59), self.ri(0, 59))

    def past(self, t: dt.datetime, fallback_hours: float = 6) -> dt.datetime:
        """``t`` if it lies before now, else a time in the last ``fallback_hours``."""
        if t < self.limit:
            return t
        return self.limit - dt.timedelta(hours=self.u(0.5, fallback_hours))

    def after(self, t: dt.datetime, hours: float) -> dt.datetime:
        t2 = t + dt.timedelta(hours=hours)
        if t2.weekday() >= 5 or t2.hour >= 20 or t2.hour < 8:
            d = t2.date()
            if t2.hour >= 20 or t2.weekday() >= 5:
                d += DAY
            while d.weekday() >= 5:
                d += DAY
            t2 = dt.datetime(d.year, d.month, d.day, self.ri(9, 11), self.ri(0, 59), self.ri(0, 59))
        return t2.replace(microsecond=0)

    def delay_h(self) -> float:
        r = self.r()
        if r < 0.6:
            return self.u(0.3, 8)
        if r < 0.92:
            return self.u(8, 48)
        return self.u(48, 120)

    def name(self) -> str:
        s = self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]
        return s + self.ch(GIVEN)

    def mobile(self) -> str:
        while True:
            m = self.ch(MOBILE_PREFIXES) + f"{self.ri(0, 99_999_999):08d}"
            if m not in self._mobiles:
                self._mobiles.add(m)
                return m

    def worker(self, dept: str) -> str:
        return self.ch(self.workers[dept])

    # ------------------------------------------------------------ run

    def run(self) -> dict[str, list[dict]]:
        # The order is part of the output: every step draws from the one RNG.
        org.build(self)
        customers.build(self)
        activities.build(self)
        activities.lifecycle(self)
        finance.build(self)
        approvals.other_requests(self)
        approvals.emergencies(self)
        risks.build(self)
        customers.feedback(self)
        reports.weekly_meetings(self)
        reports.build(self)
        evaluations.kpis(self)
        plans.build(self)
        risks.problems(self)
        approvals.number_requests(self)
        reports.number_meetings(self)
        evaluations.cycles(self)
        audit.cycles(self)
        return self.finish()

    def finish(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for name, rows in self.t.items():
            clean = []
            for row in rows:
                r: dict[str, Any] = {}
                for k, v in row.items():
                    if v is None or k[0] == "_":
                        continue
                    if isinstance(v, dict):
                        v = v["code"]
                    elif isinstance(v, dt.datetime):
                        v = ts(v)
                    elif isinstance(v, dt.date):
                        v = v.isoformat()
                    r[k] = v
                clean.append(r)
            out[name] = clean
        return out

