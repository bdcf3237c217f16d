"""「我的待办」 (STF-3): one person's open items, by the escalation job's own definitions.

What is open, who owns it and when it is due come from ``jobs.escalations.sources``
(``SOURCES`` + ``open_item``) over the same snapshot (``kernel.snapshot``), so the page and
the digests never disagree. :func:`load_todo` does the I/O — one paged read per table,
filtered by the person where that is possible; :func:`build_page` is pure.

Whose items a person sees:

* **their own**: approval steps where they are the approver or the deputy (APR-5), reports,
  minutes, action items, stage gates, problems and audit findings they own, post-hoc
  approvals they applied for and their self-evaluation of an open monthly cycle (linked to
  their own /self/ page) — overdue ones first;
* **as a manager**: the overdue items of everyone whose escalation chain (ORG-2: manager →
  department head → general manager) includes them, grouped by the owner's department. The
  general manager is on every chain, so they see the whole company's overdue items — all
  that any digest may have left out. Someone else's self-evaluation shows its title only
  (no score) and links to the 考评表 grid, never to that person's own form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.jobs.escalations.items import ItemKind, OpenItem
from actops.jobs.escalations.ladder import rung_at
from actops.jobs.escalations.sources import (
    CYCLES,
    OPEN_SELF_CYCLES,
    SOURCES,
    Context,
    Source,
    open_filter,
    open_item,
)
from actops.kernel.calendar import TZ
from actops.kernel.links import DecisionLinks, RowLinks, row_links
from actops.kernel.org import Org, Person
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.nocodb import F
from actops.nocodb.where import Expr
from actops.records import Record

_KIND_ORDER = {k: i for i, k in enumerate(ItemKind)}
_FAR = datetime.max.replace(tzinfo=TZ)


class PageRefused(Exception):
    """The link is genuine but opens nothing (the 工号 is unknown, ambiguous or has left)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TodoRow:
    key: str  # ``table:Id``: stable, for the page's data-key
    kind: ItemKind
    code: str
    title: str
    due_at: datetime | None
    overdue: bool
    rung: int  # 0 not due, 1 due, 2 escalated to the manager, 3 to the general manager
    link: str | None
    owner: str | None
    owner_name: str
    department: str  # the owner's department (name)
    urgent: bool = False
    deputy_of: str | None = None  # an approval step I act on for this approver (APR-5)
    delegated_to: str | None = None  # my approval step handed to this deputy


@dataclass
class TodoPage:
    person: Person
    now: datetime
    overdue: list[TodoRow]  # mine, overdue, most urgent first
    by_kind: list[tuple[ItemKind, list[TodoRow]]]  # mine, not overdue, by due time
    team: list[tuple[str, list[TodoRow]]]  # others' overdue items, by department
    is_manager: bool
    skipped: int = 0  # items whose dates cannot be computed (the job notes them on the row)

    @property
    def mine(self) -> list[TodoRow]:
        return [*self.overdue, *(r for _, rows in self.by_kind for r in rows)]


@dataclass
class TodoInputs:
    now: datetime
    base: Snapshot
    code: str
    open_rows: dict[str, list[Record]]
    activities: dict[str, Record]
    request_titles: dict[str, str]
    links: RowLinks | None = None
    team: frozenset[str] = field(default_factory=frozenset)
    cycles: dict[str, Record] = field(default_factory=dict)  # open 月度自评 cycles by code
    self_links: DecisionLinks | None = None


def team_of(org: Org, code: str) -> frozenset[str]:
    """Everyone (active or not) whose escalation chain includes ``code``."""
    return frozenset(c for c in org.people if c != code and code in org.chain(c))


def _mine(src: Source, code: str) -> Expr:
    if src.table == "approval_steps":
        return (F("assignee") == code) | (F("delegate") == code)
    return F(src.assignee) == code


def load_todo(store: Any, code: str, now: datetime, self_links: DecisionLinks | None = None) -> TodoInputs:
    """Read what the page of ``code`` needs: one paged read per table.

    A person without a team reads only their own open rows (filtered in NocoDB by 工号); a
    manager reads each table's open rows once and the page keeps their team's. ``self_links``
    sign the person's own self-evaluation link (none without it).
    """
    base = load_snapshot(store, now)
    if base.org.active(code) is None:  # unknown, ambiguous or left: build_page says which
        return TodoInputs(now=now, base=base, code=code, open_rows={}, activities={}, request_titles={})
    team = team_of(base.org, code)
    open_rows: dict[str, list[Record]] = {}
    ct = store.table(CYCLES)
    cycle_recs, _ = ct.read(ct.where(OPEN_SELF_CYCLES))
    _, ambiguous = base.duplicates(ct.spec, cycle_recs)
    cycles = {c.code: c for c in cycle_recs if c.code and c.code not in ambiguous}
    for src in SOURCES:
        if src.table == "approval_requests":
            continue  # read below, once, for two purposes (as the job does)
        bound = store.table(src.table)
        where = open_filter(src, cycles)
        if where is None:
            open_rows[src.table] = []
            continue
        expr = where if team else where & _mine(src, code)
        open_rows[src.table], _ = bound.read(bound.where(expr))
    reqs = store.table("approval_requests")
    titled = F("status") == "审批中"
    posthoc = F("emergency").checked() & F("posthoc_done_at").is_blank()
    expr: Expr = titled | F("emergency").checked()
    if not team:
        wanted = sorted({r.request for r in open_rows["approval_steps"] if r.request})
        mine = posthoc & (F("applicant") == code)
        try:
            expr = (F("code").in_(wanted) | mine) if wanted else mine
        except ValueError:
            expr = titled | mine  # a request code NocoDB's in-list cannot carry: read all open
    recs, _ = reqs.read(reqs.where(expr))
    open_rows["approval_requests"] = [r for r in recs if r.emergency and r.posthoc_done_at is None
                                      and (team or r.applicant == code)]
    gates = sorted({g.activity for g in open_rows["stage_gates"] if g.activity})
    activities: list[Record] = []
    if team or gates:
        acts = store.table("activities")
        fields = ["code", "name", "start_date", "end_date"]
        try:
            where = None if team else acts.where(F("code").in_(gates))
        except ValueError:
            where = None
        activities, _ = acts.read(where, fields=fields)
    return TodoInputs(
        now=now, base=base, code=code, open_rows=open_rows,
        activities={a.code: a for a in activities},
        request_titles={r.code: f"{r.kind} {r.title}" for r in recs if r.status == "审批中"},
        links=row_links(store, [s.table for s in SOURCES]), team=team, cycles=cycles, self_links=self_links,
    )


def build_page(inp: TodoInputs) -> TodoPage:
    """The page of ``inp.code``; :class:`PageRefused` when the 工号 names nobody usable."""
    org, code, now = inp.base.org, inp.code, inp.now
    if code in org.ambiguous:
        raise PageRefused(f"工号 {code} 在员工表中有多行，无法确定是谁；请联系管理员删除重复的员工行")
    person = org.people.get(code)
    if person is None:
        raise PageRefused(f"工号 {code} 不在员工表中；如已改号，请使用新的提醒邮件中的链接", status=404)
    if not person.active:
        raise PageRefused(f"工号 {code} 已不在职，此链接不再有效", status=410)
    ctx = Context(inp.base.settings, inp.base.calendar, inp.activities, inp.request_titles, inp.links,
                  cycles=inp.cycles, self_links=inp.self_links, org=org)
    mine: list[TodoRow] = []
    team: list[TodoRow] = []
    dept_names = {d.code: d.name for d in inp.base.departments}
    skipped = 0
    for src in SOURCES:
        for rec in inp.open_rows.get(src.table, ()):
            try:
                item, _ = open_item(src, rec, ctx)
                rung = rung_at(item, now, ctx.cal, ctx.settings) if item and item.due_at else 0
            except (ValueError, OverflowError):
                skipped += 1  # an absurd date: the job puts a note on the row
                continue
            if item is None:
                continue
            own = _owns(src, rec, code)
            if not own and (item.assignee not in inp.team or not _overdue(item, now)):
                continue
            row = _row(item, rec, rung, now, org, dept_names, src, code if own else None)
            (mine if own else team).append(row)
    overdue = sorted((r for r in mine if r.overdue), key=_urgency)
    rest: dict[ItemKind, list[TodoRow]] = {}
    for r in sorted((r for r in mine if not r.overdue), key=lambda r: (r.due_at or _FAR, r.code)):
        rest.setdefault(r.kind, []).append(r)
    depts: dict[str, list[TodoRow]] = {}
    for r in sorted(team, key=_urgency):
        depts.setdefault(r.department, []).append(r)
    return TodoPage(
        person=person, now=now, overdue=overdue,
        by_kind=sorted(rest.items(), key=lambda kv: _KIND_ORDER[kv[0]]),
        team=sorted(depts.items(), key=lambda kv: (-len(kv[1]), kv[0])),
        is_manager=bool(inp.team), skipped=skipped,
    )


def _owns(src: Source, rec: Record, code: str) -> bool:
    if src.table == "approval_steps":
        return code in (rec.assignee, rec.delegate)
    return getattr(rec, src.assignee) == code


def _overdue(item: OpenItem, now: datetime) -> bool:
    return item.due_at is not None and now >= item.due_at


def _urgency(r: TodoRow) -> tuple:
    return (not r.urgent, -r.rung, r.due_at or _FAR, r.code)


def _row(item: OpenItem, rec: Record, rung: int, now: datetime, org: Org, dept_names: dict[str, str],
         src: Source, me: str | None) -> TodoRow:
    owner = org.people.get((item.assignee or "").strip())
    dept = owner.department if owner else None
    deputy_of = delegated_to = None
    if src.table == "approval_steps" and rec.delegate and rec.assignee and rec.delegate != rec.assignee:
        if me == rec.delegate:
            deputy_of = _name(org, rec.assignee)
        elif me == rec.assignee:
            delegated_to = _name(org, rec.delegate)
    return TodoRow(
        key=f"{item.table}:{item.row_id}", kind=item.kind, code=item.code, title=item.title,
        due_at=item.due_at, overdue=_overdue(item, now), rung=rung, link=item.link_for(me),
        owner=item.assignee, owner_name=owner.name if owner else (item.assignee or "—"),
        department=dept_names.get(dept, dept) if dept else "—", urgent=item.urgent,
        deputy_of=deputy_of, delegated_to=delegated_to,
    )


def _name(org: Org, code: str) -> str:
    p = org.people.get(code)
    return f"{p.name}（{code}）" if p else code
