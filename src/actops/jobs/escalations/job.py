"""Escalations (ESC-1..5, RPT-1..3, ACT-3, APR-4, EVA-1, AUD-5): remind, escalate, one digest
per person — also for self-evaluations not submitted (考评表, HR base) and audit findings.

rows → typed records → open items → notices not yet on each item's ledger → one digest
per person → outbox messages; ladder fields, ledgers, late-report flags and streaks as row updates.
The runner (:mod:`actops.kernel.runner`) applies the plan and sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from actops.jobs.escalations.changes import Scope, context_fingerprint, load_changes, why_full
from actops.jobs.escalations.deadlines import due_for
from actops.jobs.escalations.digests import build_digests
from actops.jobs.escalations.items import ItemKind, OpenItem
from actops.jobs.escalations.ladder import ItemIssue, plan_notices, rung_at
from actops.jobs.escalations.late_reports import (
    ReportRow,
    employee_streak_updates,
    late_report_plan,
)
from actops.jobs.escalations.messages import messages
from actops.jobs.escalations.sources import (
    BY_TABLE,
    CYCLES,
    OPEN_SELF_CYCLES,
    SOURCES,
    Context,
    Source,
    open_filter,
    open_item,
)
from actops.kernel.calendar import TZ, WorkCalendar
from actops.kernel.links import (
    PURPOSE_SELF_EVAL,
    DecisionLinks,
    RowLinks,
    TodoLinks,
    decision_links_from_env,
    row_links,
    todo_links_from_env,
)
from actops.kernel.org import Org
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.settings import Settings
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.nocodb import F
from actops.records import Issue, Record, dedupe_issues

NAME = "escalations"
NOTE_TAG = "提醒流程"
# Every table whose rows can change what the job does; their marks decide whether to look.
WATCHED = tuple(dict.fromkeys(("settings", "calendar", "employees", "departments", "activities", CYCLES,
                               *(s.table for s in SOURCES))))


@dataclass
class Inputs:
    now: datetime
    base: Snapshot  # settings, calendar, org and the issues found reading them
    open_rows: dict[str, list[Record]]  # source table → valid open records
    issues: list[Issue]  # rows that failed validation or contradict each other
    activities: dict[str, Record]
    request_titles: dict[str, str]
    reports_all: list[Record]
    specs: Mapping[str, Any]  # table name → TableSpec (for titles in issues)
    open_ids: Mapping[str, set[int]] = field(default_factory=dict)  # open rows, valid or not
    links: RowLinks | None = None  # NocoDB row URLs for the items
    todo: TodoLinks | None = None  # signed 「我的待办」 links (None without ACTOPS_LINK_SECRET)
    cycles: Mapping[str, Record] = field(default_factory=dict)  # open 月度自评 考评周期 by code
    self_links: DecisionLinks | None = None  # signed /self/… links (None without ACTOPS_LINK_SECRET)
    scope: Scope = field(default_factory=Scope)  # what was read: everything, or changes (OPS-3)

    @property
    def settings(self) -> Settings:
        return self.base.settings

    @property
    def cal(self) -> WorkCalendar:
        return self.base.calendar

    @property
    def org(self) -> Org:
        return self.base.org


def load(store: Any, ctx: RunContext) -> Inputs:
    """Settings, calendar, org and open cycles, then the open rows: all of them (a first run,
    job options, every ``full_scan_hours``, or when what the rules take from settings, calendar,
    org or cycles changed), otherwise only what changed or fell due since the previous run
    (OPS-3, :mod:`~actops.jobs.escalations.changes`)."""
    base = load_snapshot(store, ctx.now)
    cycle_issues: list[Issue] = []
    cycles = read_open_cycles(store, base, cycle_issues)
    context = context_fingerprint(base, cycles)
    why = why_full(ctx, base.settings.full_scan_hours, context)
    if why is not None:
        return _load_all(store, ctx, base, cycles, cycle_issues, Scope(True, why, ctx.now, context))
    return _load_changes(store, ctx, base, cycles, cycle_issues, context)


def _load_all(store: Any, ctx: RunContext, base: Snapshot, cycles: dict[str, Record], cycle_issues: list[Issue],
              scope: Scope) -> Inputs:
    issues: list[Issue] = []
    # Two tables are read once for two purposes: reports whole (the late streaks need the
    # history, the ladder the open ones); requests in approval or emergency (step titles,
    # post-hoc chasing). The other sources are read with their open-filter.
    reports_all, rprobs = store.table("reports").read()
    reqs_bound = store.table("approval_requests")
    reqs, qprobs = reqs_bound.read(reqs_bound.where((F("status") == "审批中") | F("emergency").checked()))
    dup_reqs, ambiguous_reqs = base.duplicates(reqs_bound.spec, reqs)
    open_rows: dict[str, list[Record]] = {
        "reports": [r for r in reports_all if r.submitted_at is None],
        "approval_requests": [r for r in reqs if r.emergency and r.posthoc_done_at is None],
    }
    open_ids = {"reports": {r.Id for r in open_rows["reports"]} | {p.row_id for p in rprobs},
                "approval_requests": {r.Id for r in open_rows["approval_requests"]} | {p.row_id for p in qprobs}}
    issues += rprobs + qprobs + dup_reqs + cycle_issues
    for src in SOURCES:
        if src.table in open_rows:
            continue
        bound = store.table(src.table)
        where = open_filter(src, cycles)
        if where is None:
            open_rows[src.table], open_ids[src.table] = [], set()
            continue
        recs, probs = bound.read(bound.where(where))
        open_rows[src.table] = recs
        open_ids[src.table] = {r.Id for r in recs} | {p.row_id for p in probs}
        issues += probs
    acts, _ = store.table("activities").read(fields=["code", "name", "start_date", "end_date"])
    scope = replace(scope, rows_read={t: len(v) for t, v in open_rows.items()})
    return _inputs(store, ctx, base, cycles, open_rows, open_ids, issues, acts, reqs, ambiguous_reqs,
                   reports_all, scope, [s.table for s in SOURCES])


def _load_changes(store: Any, ctx: RunContext, base: Snapshot, cycles: dict[str, Record],
                  cycle_issues: list[Issue], context: str) -> Inputs:
    ch = load_changes(store, ctx, cycles, NAME)
    dup_reqs, ambiguous_reqs = base.duplicates(store.table("approval_requests").spec, ch.reqs)
    assert ctx.since is not None
    scope = Scope(False, "; ".join(["only rows changed or due since the previous run", *ch.notes]),
                  datetime.fromisoformat(ctx.since.previous_state["full_read_at"]), context,
                  seen={t: frozenset(v) for t, v in ch.seen.items()}, floors=ch.floors,
                  rows_read={t: len(v) for t, v in ch.open_rows.items() if v})
    return _inputs(store, ctx, base, cycles, ch.open_rows, ch.open_ids, ch.issues + dup_reqs + cycle_issues,
                   ch.activities, ch.reqs, ambiguous_reqs, ch.reports_all, scope,
                   [t for t, v in ch.open_rows.items() if v])


def _inputs(store: Any, ctx: RunContext, base: Snapshot, cycles: dict[str, Record],
            open_rows: dict[str, list[Record]], open_ids: dict[str, set[int]], issues: list[Issue],
            acts: list[Record], reqs: list[Record], ambiguous_reqs: set[str], reports_all: list[Record],
            scope: Scope, linked: list[str]) -> Inputs:
    return Inputs(
        now=ctx.now, base=base, open_rows=open_rows, issues=dedupe_issues(issues),
        activities={a.code: a for a in acts},
        request_titles={r.code: f"{r.kind} {r.title}" for r in reqs
                        if r.status == "审批中" and r.code not in ambiguous_reqs},
        open_ids=open_ids, reports_all=reports_all,
        specs={t.name: t for b in store.specs for t in b.tables},
        # Links are data for the pure plan: row URLs from the meta already read, personal
        # links signed now (their expiry counts from the wall clock, whatever --now says).
        links=row_links(store, linked),
        todo=todo_links_from_env(datetime.now(TZ)),
        cycles=cycles,
        self_links=decision_links_from_env(datetime.now(TZ), PURPOSE_SELF_EVAL, "self"),
        scope=scope,
    )


def read_open_cycles(store: Any, base: Snapshot, issues: list[Issue]) -> dict[str, Record]:
    """The open 月度自评 cycles by code (what makes a blank self-evaluation open); a code on
    two rows is reported on both and its self-evaluations are not chased (REL-2)."""
    bound = store.table(CYCLES)
    recs, _ = bound.read(bound.where(OPEN_SELF_CYCLES))  # a row it cannot read: the evaluations job says so
    dups, ambiguous = base.duplicates(bound.spec, recs)
    issues += dups
    return {c.code: c for c in recs if c.code and c.code not in ambiguous}



def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan(warnings=list(inp.base.warnings))
    items: list[OpenItem] = []
    bad_dates: list[Issue] = []
    report_dues: dict[int, datetime | None] = {}  # computed once, used by the ladder and the streaks
    context = Context(inp.settings, inp.cal, inp.activities, inp.request_titles, inp.links,
                      cycles=inp.cycles, self_links=inp.self_links, org=inp.org)
    for src in SOURCES:
        for rec in inp.open_rows[src.table]:
            try:
                item, computed = open_item(src, rec, context)
                if item is not None and item.due_at is not None:
                    rung_at(item, inp.now, inp.cal, inp.settings)  # fails here, not mid-plan
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
    unknown = inp.cal.unknown_in(inp.now.date() - timedelta(days=60), inp.now.date() + timedelta(days=60))
    if unknown:
        out.warnings.append(
            f"工作日历缺少 {unknown[0]} 至 {unknown[-1]} 之间的 {len(unknown)} 天，已按周一至周五计算；请在「工作日历」表补充。")
    notices, item_issues, updates = plan_notices(items, inp.now, inp.cal, inp.org, inp.settings)
    # The next wake-up is each item's 下次升级时间 as it will stand after this run's writes;
    # per table, it is where the next run reading only changes looks for rows falling due. A
    # run that read only changes adds the earliest such time of the rows it did not read.
    moved = {(u.table, u.row_id): u.next_escalation_at for u in updates}
    due_by_table: dict[str, datetime | None] = {s.table: None for s in SOURCES}
    for i in items:
        t = moved.get((i.table, i.row_id), i.next_escalation_at)
        if t is not None and (due_by_table[i.table] is None or t < due_by_table[i.table]):
            due_by_table[i.table] = t
    if not inp.scope.full:
        for table, floor in inp.scope.floors.items():
            if floor is not None and (due_by_table.get(table) is None or floor < due_by_table[table]):
                due_by_table[table] = floor
    out.wake_at = min((t for t in due_by_table.values() if t is not None), default=None)
    out.state = inp.scope.state(due_by_table)
    for u in updates:
        out.update(u.table, u.row_id, escalation_level=u.escalation_level, next_escalation_at=u.next_escalation_at)
    # Owed: not on the item's ledger. Of those, a dead run may already have queued some:
    # they are not queued again, but the ledger learns them all.
    owed = [n for n in notices if n.ledger_token not in n.item.notified]
    fresh = [n for n in owed if n.dedupe_key not in ctx.already_enqueued]
    learned: dict[tuple[str, int], set[str]] = {}
    for n in owed:
        learned.setdefault((n.item.table, n.item.row_id), set(n.item.notified)).add(n.ledger_token)
    for (table, row_id), tokens in learned.items():
        out.update(table, row_id, notified=" ".join(sorted(tokens)))
    dept_names = {d.code: d.name for d in inp.base.departments}
    out.messages = messages(build_digests(fresh, inp.org, inp.now, inp.settings, dept_names), inp.now,
                            todo=inp.todo)
    out.issues = list(inp.base.issues) + list(inp.issues) + bad_dates + [_issue(i, BY_TABLE[i.table], inp) for i in item_issues]
    _plan_late_reports(inp, out, report_dues)
    out.checked = {**inp.base.checked, CYCLES: [c.Id for c in inp.cycles.values()],
                   **{s.table: [r.Id for r in inp.open_rows[s.table]] for s in SOURCES}}
    out.stats = {"open_items": len(items), "notices_owed": len(owed), "notices_new": len(fresh),
                 "messages_planned": len(out.messages), **inp.scope.stats()}
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
                ItemKind.REPORT, r.period_start, inp.cal, inp.settings, report_kind=r.kind)
        except (ValueError, OverflowError):
            continue  # a closed report whose period is absurd: nothing to judge
        if due is None:
            continue
        rows.append(ReportRow(row_id=r.Id, employee=r.employee, kind=r.kind, period_start=r.period_start,
                              due_at=due, submitted_at=r.submitted_at, late_reason=r.late_reason,
                              late=r.late, flag=r.flag))
    updates, streaks, _ = late_report_plan(rows, inp.settings.late_streak_limit, inp.now)
    for u in updates:
        out.update("reports", u.pop("Id"), **u)
    for u in employee_streak_updates(inp.base.employees, streaks):
        out.update("employees", u.pop("Id"), **u)


def still_open(inputs: Inputs) -> Callable[[str, int], bool]:
    """Is the item a waiting message names still open? After a read of changes, a row this
    run did not see is as the previous run left it: open (that run kept the message waiting)."""
    ids, scope = inputs.open_ids, inputs.scope
    if scope.full:
        return lambda table, row_id: table not in ids or row_id in ids[table]
    return lambda table, row_id: (table not in ids or row_id not in scope.seen.get(table, ())
                                  or row_id in ids[table])


def undeliverable(inputs: Inputs) -> Callable[[dict[str, Any]], str | None]:
    org = inputs.org

    def why(row: dict[str, Any]) -> str | None:
        code = row.get("recipient")
        if org.active(code) or code in org.ambiguous:
            return None  # an ambiguous 工号 is held (see hold), not given up
        return "收件人不在员工表中或已离职，未发送"

    return why


def hold(inputs: Inputs) -> Callable[[dict[str, Any]], str | None]:
    """Messages to a 工号 on two 员工 rows wait until the rows are told apart (REL-2)."""
    org = inputs.org
    return lambda row: "收件人工号在员工表中有多行" if row.get("recipient") in org.ambiguous else None


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan, still_open=still_open, undeliverable=undeliverable, hold=hold)
