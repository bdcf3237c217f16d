"""Records → the quarter's population and each item's checklist facts (AUD-1, AUD-5). Pure.

What belongs to a quarter (``period_start`` ≤ day ≤ ``period_end``, Beijing time):

* 审批: requests submitted in the quarter (drafts never submitted are not requests yet);
  emergency (总监特批 ticked, or the 审计关注 line the approvals job writes) and altered
  history (its 审批记录被改动 line) are flags that put them in the sample in full;
* 费用: claims whose 发生日期 falls in the quarter; the department is the activity's;
* 活动: activities that start in the quarter (each activity belongs to one quarter);
* open findings (待整改/整改中) of any earlier cycle are re-checked (S0: 问题整改情况纳入下期审计).

The population is a :class:`Frame`: rows stream past it a page at a time and leave one small
:class:`Item` each (OPS-4: a quarter of a million-row table is held as items, not as rows).
The checklists need whole rows, but only of the items drawn: :class:`Sources` holds those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from actops.jobs.approvals.flow import AUDIT_EMERGENCY
from actops.jobs.approvals.job import AUDIT_TAMPERED
from actops.jobs.approvals.routing import Route, RoutingError, match
from actops.jobs.audit import checks
from actops.jobs.audit.draw import ALTERED, EMERGENCY, RECHECK_KIND, Item, OpenFinding, Pick
from actops.kernel.calendar import to_local
from actops.kernel.org import Org

DRAFT = "草稿"
OPEN_FINDING = ("待整改", "整改中")


@dataclass(frozen=True, slots=True)
class Member:
    day: date  # the local day that places the item in a quarter
    item: Item


@dataclass
class Frame:
    """The population of the days ``start``..``end`` (every pending cycle's), built page by page."""

    start: date
    end: date
    org: Org
    members: list[Member] = field(default_factory=list)
    activity_department: dict[str, str | None] = field(default_factory=dict)  # an expense's department

    def _keep(self, day: date | datetime | None) -> date | None:
        if day is None:
            return None
        d = to_local(day).date() if isinstance(day, datetime) else day
        return d if self.start <= d <= self.end else None

    def add_activities(self, page: Iterable[Any]) -> None:
        """Every activity (its department, for the expenses); those starting in the days, as items."""
        for a in page:
            if not a.code:
                continue
            self.activity_department[a.code] = a.department
            if (day := self._keep(a.start_date)) is not None:
                self.members.append(Member(day, Item("activity", a.code, a.department, a.budget)))

    def add_requests(self, page: Iterable[Any]) -> None:
        for r in page:
            if not r.code or r.status == DRAFT or (day := self._keep(r.submitted_at)) is None:
                continue
            flags = set()
            note = _lines(r.audit_flag)
            if r.emergency or AUDIT_EMERGENCY in note:
                flags.add(EMERGENCY)
            if AUDIT_TAMPERED in note:
                flags.add(ALTERED)
            self.members.append(Member(day, Item("approval", r.code, r.department or _dept_of(self.org, r.applicant),
                                                 r.amount, frozenset(flags))))

    def add_expenses(self, page: Iterable[Any]) -> None:
        """After :meth:`add_activities` (an expense's department is its activity's)."""
        for e in page:
            if not e.code or (day := self._keep(e.spent_on)) is None:
                continue
            dept = self.activity_department.get(e.activity) if e.activity else None
            self.members.append(Member(day, Item("expense", e.code, dept or _dept_of(self.org, e.employee),
                                                 e.amount)))


# What the frame reads of each table (the rest of a row is read for the items drawn only).
FRAME_FIELDS = {
    "activities": ["code", "department", "start_date", "budget"],
    "approval_requests": ["code", "status", "submitted_at", "audit_flag", "emergency", "department", "applicant",
                          "amount"],
    "expenses": ["code", "spent_on", "activity", "employee", "amount"],
}


def items(frame: Frame, start: date, end: date) -> list[Item]:
    return [m.item for m in frame.members if start <= m.day <= end]


@dataclass
class Sources:
    """The rows of the items drawn (and of what their checklists look at)."""

    requests: list[Any]
    steps: Mapping[str, list[Any]]  # request code → its steps
    routes: list[Route]
    expenses: list[Any]
    activities: list[Any]
    documents: Mapping[str, list[str]]  # activity code → document names
    budget_lines: set[tuple[str, str]]  # (activity, category)
    findings: list[Any]  # open ones
    by_request: dict[str, Any] = field(default_factory=dict)
    by_activity: dict[str, Any] = field(default_factory=dict)
    by_expense: dict[str, Any] = field(default_factory=dict)
    by_finding: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_request = {r.code: r for r in self.requests if r.code}
        self.by_activity = {a.code: a for a in self.activities if a.code}
        self.by_expense = {e.code: e for e in self.expenses if e.code}
        self.by_finding = {f.code: f for f in self.findings if f.code}


def _lines(text: Any) -> str:
    return str(text or "")


def picked(picks: Iterable[Pick]) -> dict[str, set[str]]:
    """Kind → the keys drawn."""
    out: dict[str, set[str]] = {}
    for p in picks:
        out.setdefault(p.kind, set()).add(p.key)
    return out


def requests_named(expenses: Iterable[Any], activities: Iterable[Any]) -> set[str]:
    """The requests the drawn expenses and activities were approved under (their checklists ask)."""
    return ({e.request for e in expenses if e.request}
            | {a.initiation_request for a in activities if a.initiation_request})


def open_findings(findings: Iterable[Any], cycle_ends: Mapping[str, date], org: Org, cycle_code: str,
                  start: date) -> list[OpenFinding]:
    """Findings still open from cycles that ended before this one starts."""
    out = []
    for f in findings:
        ended = cycle_ends.get(f.cycle)
        if f.code and f.status in OPEN_FINDING and f.cycle != cycle_code and ended is not None and ended < start:
            out.append(OpenFinding(f.code, _dept_of(org, f.owner), f.sample))
    return out


def checklist(pick: Pick, src: Sources, as_of: date) -> list[checks.Check]:
    if pick.kind == "approval":
        r = src.by_request.get(pick.key)
        return checks.approval(approval_facts(r, src), as_of) if r is not None else checks.unreadable("审批申请")
    if pick.kind == "expense":
        e = src.by_expense.get(pick.key)
        if e is None:
            return checks.unreadable("费用报销")
        req = src.by_request.get(e.request) if e.request else None
        facts = checks.ExpenseFacts(e.status or "", bool(e.receipt), (e.activity, e.category) in src.budget_lines,
                                    approval_facts(req, src) if req is not None else None)
        return checks.expense(facts, as_of)
    if pick.kind == "activity":
        a = src.by_activity.get(pick.key)
        if a is None:
            return checks.unreadable("活动")
        init = src.by_request.get(a.initiation_request) if a.initiation_request else None
        return checks.activity(checks.ActivityFacts(a.stage or "", init.status if init else None,
                                                    tuple(src.documents.get(a.code, ()))))
    if pick.kind == RECHECK_KIND:
        f = src.by_finding[pick.key]
        return checks.recheck(checks.RecheckFacts(f.status or ""))
    raise ValueError(f"unknown kind {pick.kind}")


def approval_facts(r: Any, src: Sources) -> checks.ApprovalFacts:
    try:
        roles: tuple[str, ...] | None = match(src.routes, r.kind, r.amount).roles
    except RoutingError:
        roles = None
    steps = tuple(checks.StepFact(int(s.seq or 0), s.role or "", s.status or "", s.decided_at, bool(s.posthoc))
                  for s in src.steps.get(r.code, []))
    note = _lines(r.audit_flag)
    intact = False if AUDIT_TAMPERED in note else (True if r.history_check else None)
    return checks.ApprovalFacts(r.status or "", steps, roles, bool(r.emergency or AUDIT_EMERGENCY in note),
                                r.posthoc_due_at, r.posthoc_done_at, intact)


def _dept_of(org: Org, code: str | None) -> str | None:
    p = org.people.get(code) if code else None
    return p.department if p else None


def documents_by_activity(docs: Iterable[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in docs:
        if d.activity:
            out.setdefault(d.activity, []).append(d.name or "")
    return out
