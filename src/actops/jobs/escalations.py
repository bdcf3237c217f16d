"""Escalations (ESC-1..5, RPT-1..3, ACT-3, APR-4): remind, escalate, one digest per person.

rows → typed records → open items (pure) → notices and ladder fields (pure) → outbox rows
and row updates in batches → pending outbox rows sent as digests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops.changes import marks
from actops.outbox import SendReport, enqueue, existing_keys, outbox_rows, send_pending
from actops.records import Issue, Record
from actops.rules.escalation import (
    Digest,
    ItemIssue,
    ItemKind,
    Notice,
    OpenItem,
    Org,
    Person,
    Policy,
    build_digests,
    due_for,
    plan_notices,
    rung_at,
)
from actops.rules.reports import ReportRow, late_report_plan
from actops.rules.workdays import TZ, WorkCalendar, to_local
from actops.runlog import RunLog, new_run_id
from actops.store import Store

FLOW = "escalations"
LATE_FLAG_PREFIX = "连续逾期提交报告"


@dataclass(frozen=True)
class Source:
    """Where open items of one kind live, and which fields mean who and when."""

    table: str
    kind: ItemKind
    where: tuple[tuple[Any, ...], ...]
    assignee: str  # field with the employee code
    due: str | None  # field holding the due time (written back when we compute it)


SOURCES = (
    Source("approval_steps", ItemKind.APPROVAL, (("status", "eq", "待审批"),), "assignee", "due_at"),
    Source("approval_requests", ItemKind.POSTHOC, (("emergency", "checked"), ("posthoc_done_at", "blank")), "applicant", "posthoc_due_at"),
    Source("reports", ItemKind.REPORT, (("submitted_at", "blank"),), "employee", "due_at"),
    Source("meetings", ItemKind.MINUTES, (("minutes_submitted_at", "blank"),), "recorder", "minutes_due_at"),
    Source("action_items", ItemKind.ACTION, (("status", "anyof", "未开始,进行中"),), "owner", None),
    Source("stage_gates", ItemKind.GATE, (("status", "eq", "待召开"),), "owner", "due_at"),
    Source("problems", ItemKind.PROBLEM, (("status", "anyof", "待处理,处理中"),), "owner", None),
)
# Every table whose rows can change what the job does; their marks decide whether to look.
WATCHED = tuple(dict.fromkeys(("settings", "calendar", "employees", "departments", "activities",
                               *(s.table for s in SOURCES))))
NEVER = "never"
NOTE_TAG = "提醒流程"


@dataclass
class Inputs:
    now: datetime
    policy: Policy
    cal: WorkCalendar
    org: Org
    warnings: list[str]
    open_rows: dict[str, list[Record]]  # source table → valid open records
    issues: list[Issue]  # rows that failed validation
    activities: dict[str, Record]
    request_titles: dict[str, str]
    reports_all: list[Record]
    employees: list[Record]
    specs: Mapping[str, Any]  # table name → TableSpec (for titles in issues)
    department_ids: tuple[int, ...] = ()
    open_ids: Mapping[str, set[int]] = field(default_factory=dict)  # open rows, valid or not
    changed_since: datetime | None = None  # rows edited after this get their notices re-checked


@dataclass
class Plan:
    notices: list[Notice] = field(default_factory=list)
    new_notices: list[Notice] = field(default_factory=list)  # above the level stored on the row
    issues: list[Issue] = field(default_factory=list)
    row_updates: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    items: int = 0
    wake_at: datetime | None = None  # the next moment any item reaches a new rung


    def update(self, table: str, row_id: int, **values: Any) -> None:
        self.row_updates.setdefault(table, {}).setdefault(row_id, {}).update(values)


# ----------------------------------------------------------------------------- load (I/O)

def load(store: Store, now: datetime) -> Inputs:
    settings = store.settings()
    policy, warnings = Policy.from_settings(settings)
    cal, cal_warn = WorkCalendar.from_rows(store.table("calendar").rows(fields=["date", "is_workday"]))
    warnings += cal_warn
    # Salvaged: a mistyped e-mail must not drop a person out of every escalation chain.
    emps, issues = store.table("employees").read(salvage=True)
    depts, dissues = store.table("departments").read(salvage=True)
    issues += dissues
    gm_setting = settings.get("general_manager") or None
    org = build_org(emps, depts, gm_setting)
    # Two tables are read once for two purposes: reports whole (the late streaks need the
    # history, the ladder the open ones); requests in approval or emergency (step titles,
    # post-hoc chasing). The other sources are read with their open-filter.
    reports_all, rprobs = store.table("reports").read()
    reqs_bound = store.table("approval_requests")
    reqs, qprobs = reqs_bound.read(f"{reqs_bound.where(('status', 'eq', '审批中'))}~or{reqs_bound.where(('emergency', 'checked'))}")
    open_rows: dict[str, list[Record]] = {
        "reports": [r for r in reports_all if r.submitted_at is None],
        "approval_requests": [r for r in reqs if r.emergency and r.posthoc_done_at is None],
    }
    open_ids = {"reports": {r.Id for r in open_rows["reports"]} | {p.row_id for p in rprobs},
                "approval_requests": {r.Id for r in open_rows["approval_requests"]} | {p.row_id for p in qprobs}}
    issues += rprobs + qprobs
    for src in SOURCES:
        if src.table in open_rows:
            continue
        bound = store.table(src.table)
        recs, probs = bound.read(bound.where(*src.where))
        open_rows[src.table] = recs
        open_ids[src.table] = {r.Id for r in recs} | {p.row_id for p in probs}
        issues += probs
    acts, _ = store.table("activities").read(fields=["code", "name", "start_date", "end_date"])
    specs = {b.name: b for b in store.specs}
    return Inputs(
        now=now, policy=policy, cal=cal, org=org, warnings=warnings, open_rows=open_rows,
        issues=_dedupe(issues), activities={a.code: a for a in acts},
        request_titles={r.code: f"{r.kind} {r.title}" for r in reqs if r.status == "审批中"},
        open_ids=open_ids,
        reports_all=reports_all, employees=emps, department_ids=tuple(d.Id for d in depts),
        specs={t.name: t for b in specs.values() for t in b.tables},
    )


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen, out = set(), []
    for i in issues:
        k = (i.table, i.row_id, i.field, i.reason)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return out


def build_org(emps: list[Record], depts: list[Record], gm: str | None) -> Org:
    people = {
        e.code: Person(code=e.code, name=e.name, manager=e.manager, department=e.department, email=e.email,
                       wecom_id=e.wecom_id, channel=e.channel or "邮件", locale=e.locale or "zh-CN",
                       active=bool(e.active))
        for e in emps
    }
    if not gm:
        gms = sorted(e.code for e in emps if "总经理" in e.roles and e.active)
        gm = gms[0] if gms else None
    return Org(people=people, dept_heads={d.code: d.head for d in depts if d.head}, general_manager=gm)


# ----------------------------------------------------------------------------- plan (pure)

CLOSED_REQUESTS = ("草稿", "已驳回", "已撤回")  # nothing left to complete after the fact


def open_item(src: Source, rec: Record, inp: Inputs) -> tuple[OpenItem | None, datetime | None]:
    """(item or None when there is nothing to chase, the due time to write back or None).

    Where a policy rule gives the due time (approval SLA, post-hoc, report, minutes, kick-off
    and closing gates), the rule wins and the row's due field follows it, so a postponed
    meeting or a corrected period moves its deadline. Without a rule (other gates) the due
    time staff entered is used. Date deadlines (action items, problems) end with their day.
    """
    p = inp.policy
    stored: datetime | None = getattr(rec, src.due) if src.due else None
    rule: datetime | None = None
    due: datetime | None = None
    title, urgent = "", False
    assignee = getattr(rec, src.assignee)
    if src.kind is ItemKind.APPROVAL:
        assignee = rec.delegate or rec.assignee  # APR-5: the deputy acts while the approver is away
        title = f"{inp.request_titles.get(rec.request, rec.request)} · 第{rec.seq}步 {rec.role}"
        if rec.opened_at:
            rule = due_for(ItemKind.APPROVAL, rec.opened_at, inp.cal, p)
    elif src.kind is ItemKind.POSTHOC:
        if rec.status in CLOSED_REQUESTS:
            return None, None
        title, urgent = f"{rec.kind} {rec.title}（总监特批，需补办完整审批）", True
        base = rec.decided_at or rec.submitted_at
        if base:
            rule = due_for(ItemKind.POSTHOC, base, inp.cal, p)
    elif src.kind is ItemKind.REPORT:
        title = f"{rec.kind} {rec.period_start}"
        rule = due_for(ItemKind.REPORT, rec.period_start, inp.cal, p, report_kind=rec.kind)
    elif src.kind is ItemKind.MINUTES:
        title = f"{rec.title} 会议纪要"
        rule = due_for(ItemKind.MINUTES, rec.held_at, inp.cal, p)
    elif src.kind in (ItemKind.ACTION, ItemKind.PROBLEM):
        if rec.due_date is None:
            return None, None  # no deadline set (problems may have none): nothing is overdue
        title = rec.title if src.kind is ItemKind.ACTION else (rec.description or "")[:80]
        due = due_for(src.kind, rec.due_date, inp.cal, p)
    elif src.kind is ItemKind.GATE:
        act = inp.activities.get(rec.activity)
        title = f"{act.name if act else rec.activity} · {rec.gate}"
        if act is not None and rec.gate in ("启动会", "结项验收"):
            base = act.start_date if rec.gate == "启动会" else act.end_date
            if base:
                rule = due_for(ItemKind.GATE, base, inp.cal, p, gate_kind=rec.gate)
    due = due or rule or stored
    item = OpenItem(
        kind=src.kind, table=src.table, row_id=rec.Id, code=rec.code, title=title, assignee=assignee,
        due_at=due, urgent=urgent, escalation_level=getattr(rec, "escalation_level", None) or 0,
        next_escalation_at=getattr(rec, "next_escalation_at", None),
    )
    return item, (rule if rule is not None and rule != stored else None)


def plan(inp: Inputs) -> Plan:
    out = Plan(warnings=list(inp.warnings))
    items: list[OpenItem] = []
    bad_dates: list[Issue] = []
    report_dues: dict[int, datetime | None] = {}  # computed once, used by the ladder and the streaks
    for src in SOURCES:
        for rec in inp.open_rows[src.table]:
            try:
                item, computed = open_item(src, rec, inp)
                if item is not None and item.due_at is not None:
                    rung_at(item, inp.now, inp.cal, inp.policy)  # fails here, not mid-plan
            except (ValueError, OverflowError) as exc:
                # One absurd date (year 9999, a naive time) must not stop everyone's reminders.
                bad_dates.append(Issue(inp.specs[src.table].zh, rec.Id, None, None,
                                       f"日期无法计算截止时间（{exc}），请检查本行的日期"))
                continue
            if item is None:
                continue
            items.append(item)
            if src.table == "reports":
                report_dues[rec.Id] = item.due_at
            if computed is not None and src.due:
                out.update(src.table, rec.Id, **{src.due: computed})
    out.items = len(items)
    unknown = inp.cal.unknown_in(inp.now.date() - timedelta(days=60), inp.now.date() + timedelta(days=60))
    if unknown:
        out.warnings.append(
            f"工作日历缺少 {unknown[0]} 至 {unknown[-1]} 之间的 {len(unknown)} 天，已按周一至周五计算；请在「工作日历」表补充。")
    notices, item_issues, updates = plan_notices(items, inp.now, inp.cal, inp.org, inp.policy)
    # The next wake-up is each item's 下次升级时间 as it will stand after this run's writes.
    moved = {(u.table, u.row_id): u.next_escalation_at for u in updates}
    nexts = [moved.get((i.table, i.row_id), i.next_escalation_at) for i in items]
    out.wake_at = min((t for t in nexts if t is not None), default=None)
    out.notices = notices
    stored = {(i.table, i.row_id): i.escalation_level for i in items}
    # Rows edited since the last run (a deputy set, a step reassigned) have all their
    # notices re-checked against the outbox: the new recipient's key is new.
    changed: set[tuple[str, int]] = set()
    if inp.changed_since is not None:
        since = inp.changed_since - timedelta(seconds=2)
        for src in SOURCES:
            changed |= {(src.table, r.Id) for r in inp.open_rows[src.table]
                        if (r.UpdatedAt or r.CreatedAt or since) >= since}
    out.new_notices = [n for n in notices
                       if n.rung > stored[(n.item.table, n.item.row_id)] or (n.item.table, n.item.row_id) in changed]
    for u in updates:
        out.update(u.table, u.row_id, escalation_level=u.escalation_level, next_escalation_at=u.next_escalation_at)
    by_table = {s.table: s for s in SOURCES}
    out.issues = list(inp.issues) + bad_dates + [_issue(i, by_table[i.table], inp) for i in item_issues]
    _plan_late_reports(inp, out, report_dues)
    return out


def _issue(i: ItemIssue, src: Source, inp: Inputs) -> Issue:
    spec = inp.specs[i.table]
    name = src.assignee if i.field == "assignee" else (src.due or i.field)
    try:
        title = spec.field(name).zh
    except KeyError:
        title = name
    return Issue(spec.zh, i.row_id, title, i.value, i.reason)


def _plan_late_reports(inp: Inputs, out: Plan, dues: Mapping[int, datetime | None]) -> None:
    rows = []
    for r in inp.reports_all:
        try:
            due = dues[r.Id] if r.Id in dues else due_for(
                ItemKind.REPORT, r.period_start, inp.cal, inp.policy, report_kind=r.kind)
        except (ValueError, OverflowError):
            continue  # a closed report whose period is absurd: nothing to judge
        if due is None:
            continue
        rows.append(ReportRow(row_id=r.Id, employee=r.employee, kind=r.kind, period_start=r.period_start,
                              due_at=due, submitted_at=r.submitted_at, late_reason=r.late_reason,
                              late=r.late, flag=r.flag))
    updates, streaks, flagged = late_report_plan(rows, inp.policy.late_streak_limit, inp.now)
    for u in updates:
        out.update("reports", u.pop("Id"), **u)
    for e in inp.employees:
        streak = streaks.get(e.code)
        if streak is None:
            continue
        flags = [f for f in (e.eval_flags or "").splitlines() if f and not f.startswith(LATE_FLAG_PREFIX)]
        if e.code in flagged:
            flags.append(f"{LATE_FLAG_PREFIX}{streak}次（RPT-1），请在下次考评中关注")
        new_flags = "\n".join(flags) or None
        change: dict[str, Any] = {}
        if (e.late_streak or 0) != streak:
            change["late_streak"] = streak
        if new_flags != (e.eval_flags or None):
            change["eval_flags"] = new_flags
        if change:
            out.update("employees", e.Id, **change)


# ----------------------------------------------------------------------------- apply (I/O)

@dataclass
class Result:
    run_id: str
    status: str
    plan: Plan
    enqueued: int = 0
    sent: SendReport = field(default_factory=SendReport)
    would_send: list[Digest] = field(default_factory=list)


def run(
    store: Store,
    now: datetime,
    *,
    dry_run: bool = False,
    channels: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> Result:
    from actops.render import render_digest

    now = to_local(now)
    runlog = RunLog(None if dry_run else store, FLOW, new_run_id(FLOW, now), now)
    previous = None if dry_run else last_run_stats(store)
    runlog.start()
    try:
        started = datetime.now(TZ)
        current = {} if dry_run else marks(store, WATCHED, started)
        if previous is not None and _nothing_to_do(previous, current, now, store):
            runlog.stats = {"skipped": "nothing changed and nothing falls due", "marks": current,
                            "wake_at": previous["wake_at"], "started_at": started.isoformat(),
                            "api_calls": store.api.total_calls}
            log(f"nothing changed since the last run and nothing falls due before {previous['wake_at']}")
            return Result(runlog.run_id, runlog.finish(to_local(datetime.now(TZ))), Plan())
        inp = load(store, now)
        if previous is not None:
            inp.changed_since = datetime.fromisoformat(previous["started_at"]) if previous.get("started_at") else None
        p = plan(inp)
        runlog.issues, runlog.warnings = p.issues, p.warnings
        result = Result(runlog.run_id, "ok", p)
        outbox = store.table("outbox")
        rows = outbox_rows(p.new_notices, inp.org, runlog.run_id, now, inp.policy)
        if dry_run:
            fresh = {r["dedupe_key"] for r in rows} - existing_keys(outbox, [r["dedupe_key"] for r in rows])
            keep = {r["dedupe_key"].rsplit(":", 1)[0] for r in rows if r["dedupe_key"] in fresh}
            result.would_send = build_digests([n for n in p.new_notices if n.dedupe_key in keep], inp.org, now, inp.policy)
            result.status = "dry-run"
            return result
        # Outbox first, then the ladder fields: a crash in between re-plans the same
        # notices, and their dedupe keys make the second enqueue a no-op.
        new = enqueue(outbox, rows)
        result.enqueued = len(new)
        runlog.wrote("outbox", len(new))
        for table, changes in p.row_updates.items():
            n = store.table(table).update([{"Id": rid, **vals} for rid, vals in changes.items()])
            runlog.wrote(table, n)
        _mark_issues(store, p, inp)
        result.sent = send_pending(outbox, channels or {}, inp.org, now, inp.policy,
                                   lambda d, t: render_digest(d, t), runlog.run_id,
                                   still_open=lambda table, row_id: row_id in inp.open_ids.get(table, ()))
        runlog.wrote("outbox", result.sent.rows_marked)
        runlog.stats = {
            "open_items": p.items, "notices_new": len(p.new_notices), "enqueued": len(new),
            "messages_sent": len(result.sent.messages), "send_failures": len(result.sent.failures),
            "deferred_quiet_hours": result.sent.deferred, "issues": len(p.issues), "api_calls": store.api.total_calls,
            "marks": current, "wake_at": p.wake_at.isoformat() if p.wake_at else NEVER,
            "started_at": started.isoformat(),
        }
        for who, ch, err in result.sent.failures:
            runlog.warnings.append(f"发送给 {who} 的{ch}消息失败：{err}")
        result.status = runlog.finish(to_local(datetime.now(TZ)))
        return result
    except Exception:
        runlog.finish(to_local(datetime.now(TZ)), failed=True)
        raise


def last_run_stats(store: Store) -> dict[str, Any] | None:
    """Stats of the last run of this job that finished, or None."""
    log = store.table("run_log")
    row = log.table.first("-Id", [log.title("stats")],
                          log.where(("flow", "eq", FLOW), ("status", "anyof", "ok,partial")))
    raw = row.get(log.title("stats")) if row else None
    if not raw:
        return None
    stats = json.loads(raw) if isinstance(raw, str) else raw
    return stats if "marks" in stats and "wake_at" in stats else None


def _nothing_to_do(previous: dict[str, Any], current: dict[str, list], now: datetime, store: Store) -> bool:
    """Same marks, no rung due before the stored wake-up time, and no message waiting."""
    if previous["marks"] != current:
        return False
    wake = previous["wake_at"]
    if wake != NEVER and now >= datetime.fromisoformat(wake):
        return False
    outbox = store.table("outbox")
    return outbox.table.count(outbox.where(("status", "eq", "pending"))) == 0


def _mark_issues(store: Store, p: Plan, inp: Inputs) -> None:
    """Put each issue on its row (【提醒流程】 lines); clear ours from rows now fine or closed."""
    by_table: dict[str, list[Issue]] = {}
    for i in p.issues:
        by_table.setdefault(i.table, []).append(i)
    checked: dict[str, list[int]] = {"employees": [e.Id for e in inp.employees],
                                     "departments": list(inp.department_ids)}
    for src in SOURCES:
        open_ids = [r.Id for r in inp.open_rows[src.table]]
        checked[src.table] = [*open_ids, *store.table(src.table).tagged(NOTE_TAG)]
    for table, ids in checked.items():
        bound = store.table(table)
        bound.mark_issues(by_table.get(bound.spec.zh, []), ids, tag=NOTE_TAG)
