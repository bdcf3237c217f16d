"""Where open items live (one :class:`Source` per table) and how a row becomes an item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actops.jobs.escalations.deadlines import GATE_CLOSING, GATE_KICKOFF, due_for
from actops.jobs.escalations.items import ItemKind, OpenItem
from actops.kernel.calendar import WorkCalendar
from actops.kernel.links import RowLinks
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
)
BY_TABLE = {s.table: s for s in SOURCES}
CLOSED_REQUESTS = ("草稿", "已驳回", "已撤回")  # nothing left to complete after the fact


@dataclass(frozen=True)
class Context:
    """What turning a row into an item needs besides the row."""

    settings: Settings
    cal: WorkCalendar
    activities: dict[str, Record]
    request_titles: dict[str, str]
    links: RowLinks | None = None  # NocoDB row URLs (built from meta in ``load``)


def ledger(text: str | None) -> frozenset[str]:
    return frozenset((text or "").split())


def open_item(src: Source, rec: Record, ctx: Context) -> tuple[OpenItem | None, datetime | None]:
    """(item or None when there is nothing to chase, the due time to write back or None).

    Where a policy rule gives the due time (approval SLA, post-hoc, report, minutes, kick-off
    and closing gates), the rule wins and the row's due field follows it, so a postponed
    meeting or a corrected period moves its deadline. Without a rule (other gates) the due
    time staff entered is used. Date deadlines (action items, problems) end with their day.
    """
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
    elif src.kind in (ItemKind.ACTION, ItemKind.PROBLEM):
        if rec.due_date is None:
            return None, None  # no deadline set (problems may have none): nothing is overdue
        title = rec.title if src.kind is ItemKind.ACTION else (rec.description or "")[:80]
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
