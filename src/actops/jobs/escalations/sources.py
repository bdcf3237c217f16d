"""Where open items live (one :class:`Source` per table) and how a row becomes an item.

Tables are addressed by name whatever their base: 考评表 (``evaluations``) is in the HR base,
the rest in the operations base.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.jobs.escalations.deadlines import GATE_CLOSING, GATE_KICKOFF, due_for
from actops.jobs.escalations.items import ItemKind, OpenItem
from actops.jobs.evaluations.cycle import OPEN as CYCLE_OPEN
from actops.jobs.evaluations.cycle import SELF_KIND, self_eval_due
from actops.kernel.calendar import WorkCalendar
from actops.kernel.links import DecisionLinks, RowLinks
from actops.kernel.org import Org
from actops.kernel.settings import Settings
from actops.nocodb import F
from actops.nocodb.where import Expr
from actops.records import Record


@dataclass(frozen=True)
class Source:
    """Where open items of one kind live, and which fields mean who and when."""

    table: str
    kind: ItemKind
    where: Expr  # the open rows, by field name
    assignee: str  # field with the employee code
    due: str | None  # field holding the due time (written back when we compute it)


SOURCES = (
    Source("approval_steps", ItemKind.APPROVAL, F("status") == "待审批", "assignee", "due_at"),
    Source("approval_requests", ItemKind.POSTHOC, F("emergency").checked() & F("posthoc_done_at").is_blank(),
           "applicant", "posthoc_due_at"),
    Source("reports", ItemKind.REPORT, F("submitted_at").is_blank(), "employee", "due_at"),
    Source("meetings", ItemKind.MINUTES, F("minutes_submitted_at").is_blank(), "recorder", "minutes_due_at"),
    Source("action_items", ItemKind.ACTION, F("status").any_of(["未开始", "进行中"]), "owner", None),
    Source("stage_gates", ItemKind.GATE, F("status") == "待召开", "owner", "due_at"),
    Source("problems", ItemKind.PROBLEM, F("status").any_of(["待处理", "处理中"]), "owner", None),
    # Open while blank *and* its cycle is an open 月度自评 (:func:`open_filter`); due from the cycle.
    Source("evaluations", ItemKind.SELF_EVAL, F("submitted_at").is_blank(), "employee", None),
    Source("audit_findings", ItemKind.FINDING, F("status").any_of(["待整改", "整改中"]), "owner", None),
)
BY_TABLE = {s.table: s for s in SOURCES}
CLOSED_REQUESTS = ("草稿", "已驳回", "已撤回")  # nothing left to complete after the fact
CYCLES = "eval_cycles"
# The cycles whose self-evaluations are chased: the ones people are invited to (an open
# 月度自评). A quarterly or annual row's 自评分 is only a fallback for the months' scores.
OPEN_SELF_CYCLES = (F("status") == CYCLE_OPEN) & (F("kind") == SELF_KIND)


def open_filter(src: Source, cycles: Mapping[str, Any]) -> Expr | None:
    """The filter that reads ``src``'s open rows; None: none can be open. Self-evaluations are
    read for the open cycles (``cycles``, by code) only, not every blank row of every cycle."""
    if src.kind is not ItemKind.SELF_EVAL:
        return src.where
    if not cycles:
        return None
    try:
        return src.where & F("cycle").in_(sorted(cycles))
    except ValueError:  # a code NocoDB's in-list cannot carry: read the blank ones, open_item sorts
        return src.where


@dataclass(frozen=True)
class Context:
    """What turning a row into an item needs besides the row."""

    settings: Settings
    cal: WorkCalendar
    activities: dict[str, Record]
    request_titles: dict[str, str]
    links: RowLinks | None = None  # NocoDB row URLs (built from meta in ``load``)
    cycles: Mapping[str, Any] = field(default_factory=dict)  # open 月度自评 考评周期 by code
    self_links: DecisionLinks | None = None  # personal /self/… links (None without a link secret)
    org: Org | None = None  # to leave the self-evaluations of people who have left


def ledger(text: str | None) -> frozenset[str]:
    return frozenset((text or "").split())


def open_item(src: Source, rec: Record, ctx: Context) -> tuple[OpenItem | None, datetime | None]:
    """(item or None when there is nothing to chase, the due time to write back or None).

    Where a policy rule gives the due time (approval SLA, post-hoc, report, minutes, kick-off
    and closing gates), the rule wins and the row's due field follows it, so a postponed
    meeting or a corrected period moves its deadline. Without a rule (other gates) the due
    time staff entered is used. Date deadlines (action items, problems, audit findings, self-
    evaluations) end with their day. See :func:`_self_eval` for the self-evaluations.
    """
    if src.kind is ItemKind.SELF_EVAL:
        return _self_eval(src, rec, ctx), None
    p, cal = ctx.settings, ctx.cal
    stored: datetime | None = getattr(rec, src.due) if src.due else None
    rule: datetime | None = None
    due: datetime | None = None
    title, urgent = "", False
    assignee = getattr(rec, src.assignee)
    if src.kind is ItemKind.APPROVAL:
        assignee = rec.delegate or rec.assignee  # APR-5: the deputy acts while the approver is away
        title = f"{ctx.request_titles.get(rec.request, rec.request)} · 第{rec.seq}步 {rec.role}"
        if getattr(rec, "posthoc", False):  # APR-4: the chain owed after a director's approval
            title, urgent = f"{title}（事后补办）", True
        if rec.opened_at:
            rule = due_for(ItemKind.APPROVAL, rec.opened_at, cal, p)
    elif src.kind is ItemKind.POSTHOC:
        if rec.status in CLOSED_REQUESTS:
            return None, None
        title, urgent = f"{rec.kind} {rec.title}（总监特批，需补办完整审批）", True
        base = rec.decided_at or rec.submitted_at
        if base:
            rule = due_for(ItemKind.POSTHOC, base, cal, p)
    elif src.kind is ItemKind.REPORT:
        title = f"{rec.kind} {rec.period_start}"
        rule = due_for(ItemKind.REPORT, rec.period_start, cal, p, report_kind=rec.kind)
    elif src.kind is ItemKind.MINUTES:
        title = f"{rec.title} 会议纪要"
        rule = due_for(ItemKind.MINUTES, rec.held_at, cal, p)
    elif src.kind in (ItemKind.ACTION, ItemKind.PROBLEM, ItemKind.FINDING):
        if rec.due_date is None:
            return None, None  # no deadline set (problems may have none): nothing is overdue
        if src.kind is ItemKind.ACTION:
            title = rec.title
        elif src.kind is ItemKind.PROBLEM:
            title = (rec.description or "")[:80]
        else:
            title = f"{rec.severity or ''}：{' '.join((rec.description or '').split())[:60]}"
        due = due_for(src.kind, rec.due_date, cal, p)
    elif src.kind is ItemKind.GATE:
        act = ctx.activities.get(rec.activity)
        title = f"{act.name if act else rec.activity} · {rec.gate}"
        if act is not None and rec.gate in (GATE_KICKOFF, GATE_CLOSING):
            base = act.start_date if rec.gate == GATE_KICKOFF else act.end_date
            if base:
                rule = due_for(ItemKind.GATE, base, cal, p, gate_kind=rec.gate)
    due = due or rule or stored
    item = OpenItem(
        kind=src.kind, table=src.table, row_id=rec.Id, code=rec.code, title=title, assignee=assignee,
        due_at=due, urgent=urgent, link=ctx.links.row(src.table, rec.Id) if ctx.links else None,
        escalation_level=getattr(rec, "escalation_level", None) or 0,
        next_escalation_at=getattr(rec, "next_escalation_at", None),
        notified=ledger(getattr(rec, "notified", None)),
    )
    return item, (rule if rule is not None and rule != stored else None)


def _self_eval(src: Source, rec: Record, ctx: Context) -> OpenItem | None:
    """A self-evaluation not yet submitted in an open 月度自评 cycle (EVA-1, ESC-4), or None.

    * Due at the end of the cycle's self-evaluation day (:func:`self_eval_due`: its 截止日期,
      else day ``self_eval_day`` of the next month) — what the invitation says. A cycle whose
      day cannot be found is noted on it by the evaluations job; its rows are not chased.
    * Confidential (EVA-7): the title names the cycle only ("2026-10 月度自评 未提交"), never a
      score or any other field of the 考评表 row.
    * The link is the person's own signed ``/self/<token>`` page, never the HR-base row (staff
      cannot open that base). It is personal: it would let whoever holds it fill in the form,
      so a manager a rung above (and a manager's 「我的待办」 team list) gets instead the 考评表
      grid in the HR base, which managers and HR can open (``OpenItem.others_link``), to see
      who is missing — and, without a link secret, no link at all for the employee.
    * Someone who has left owes nothing (their row stays for HR).
    """
    cycle = ctx.cycles.get(rec.cycle)
    if cycle is None:
        return None  # not an open 月度自评: nothing to chase
    code = (rec.employee or "").strip()
    person = ctx.org.people.get(code) if ctx.org is not None else None
    if person is not None and not person.active and code not in ctx.org.ambiguous:
        return None
    try:
        day = self_eval_due(cycle, ctx.settings.self_eval_day)
    except ValueError:
        return None
    if day is None:
        return None
    return OpenItem(
        kind=src.kind, table=src.table, row_id=rec.Id, code=rec.code,
        title=f"{cycle.period} {cycle.kind} 未提交", assignee=rec.employee,
        due_at=due_for(ItemKind.SELF_EVAL, day, ctx.cal, ctx.settings),
        link=ctx.self_links.url_for(code, cycle.code) if ctx.self_links is not None and code else None,
        personal_link=True, others_link=ctx.links.grid(src.table) if ctx.links else None,
        escalation_level=rec.escalation_level or 0, next_escalation_at=rec.next_escalation_at,
        notified=ledger(rec.notified),
    )
