"""预算与风险监控 (watch): budget lines kept current and alerted, risks warned and their
history kept (FIN-1..3, RSK-1, RSK-2).

A run reads the budget lines, the expenses, the risks and their history — all of them on a
first run and then every ``full_scan_hours``, otherwise only those that rows changed since the
previous run name (OPS-3, :mod:`.changes`) — and plans with the pure rules of :mod:`.budget`
and :mod:`.risks`:

* 已用金额 and 预警 of every budget line, written when they changed; an alert to the activity
  owner and finance when a line rises to 预警 or 超支; at closing the variance per category
  written to the activity's 预算差异 (once: a filled 预算差异 is left as it is);
* a 风险变更记录 row for every change of likelihood or impact; a warning to the owner and
  their manager when a risk reaches ``risk_warn_level`` (remembered in 已预警风险值);
* each person's alerts of the run in one message per channel (:func:`.messages.per_person`).

Bad rows (an expense of an unknown activity, a likelihood of 9) are reported on their row
under 【预算与风险监控】 and skipped; the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from actops.jobs.watch import budget, changes, homes, messages, risks
from actops.jobs.watch.budget import Finding
from actops.jobs.watch.messages import Context
from actops.kernel import contradictions
from actops.kernel.changed_rows import ReadAll
from actops.kernel.full_read import Scope
from actops.kernel.links import RowLinks
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.records import Issue

NAME = "watch"
NOTE_TAG = "预算与风险监控"
LINES, EXPENSES, ACTIVITIES, RISKS, HISTORY = "budget_lines", "expenses", "activities", "risks", "risk_history"
WATCHED = (LINES, EXPENSES, ACTIVITIES, RISKS, HISTORY, "employees", "departments", "settings")
ACTIVITY_FIELDS = ["code", "name", "stage", "owner", "closed_at", "variance"]
HISTORY_FIELDS = ["code", "risk", "at", "likelihood", "impact"]
# What the budget rules count (budget.Spent): an approved claim missing its 发生日期 still used
# its budget, and the million-row table is read without its formula and receipts.
EXPENSE_FIELDS = ["activity", "category", "amount", "status"]


@dataclass
class Inputs:
    now: datetime
    snap: Snapshot
    activities: dict[str, dict[str, Any]]  # code → raw row (code, name, stage, owner, closed_at, variance)
    lines: list[Any]
    expenses: list[budget.Spent]
    risks: list[Any]
    history: list[Any]
    specs: dict[str, Any]  # table name → TableSpec, for the Chinese titles of issues
    issues: list[Issue] = field(default_factory=list)
    ambiguous_activities: set[str] = field(default_factory=set)
    rows: RowLinks | None = None
    scope: Scope = field(default_factory=Scope)  # what was read: everything, or changes (OPS-3)


def load(store: Any, ctx: RunContext) -> Inputs:
    """The activities (a few columns, all of them), then the lines, expenses, risks and history:
    all of them, or only those changes name (OPS-3, :mod:`.changes`)."""
    from actops.kernel.links import row_links

    snap = load_snapshot(store, ctx.now)
    acts = store.table(ACTIVITIES)
    act_rows = [r for r in acts.rows(fields=ACTIVITY_FIELDS) if r.get("code")]
    _, ambiguous = contradictions.duplicate_keys(acts.spec, act_rows)  # reported by `actops check`
    issues: list[Issue] = []
    context = changes.context_fingerprint(snap)
    why = changes.why_full(ctx, snap.settings.full_scan_hours, context)
    read: dict[str, list[Any]] = {}
    kept = homes.copy_for(store, ctx.marks, ctx.now, snap.settings.full_scan_hours) if ctx.marks else None
    filed = None
    if why is None and kept is not None and kept.path is not None:
        filed = homes.left_behind(store, kept, (EXPENSES, LINES))
        why = kept.why if filed is None else None  # without it a moved row's old line would go unseen
    if why is None:
        assert ctx.since is not None
        try:
            ch = changes.load_changes(store, ctx, lines=LINES, expenses=EXPENSES, activities=ACTIVITIES,
                                      risks=RISKS, history=HISTORY, history_fields=HISTORY_FIELDS,
                                      expense_fields=EXPENSE_FIELDS, left=filed[1] if filed else set())
        except ReadAll as err:
            why = str(err)
        else:
            read = {LINES: ch.lines, EXPENSES: budget.spent(ch.expenses), RISKS: ch.risks, HISTORY: ch.history}
            issues += ch.issues
            scope = Scope(False, "only the activities and risks changed rows name",
                          datetime.fromisoformat(ctx.since.previous_state["full_read_at"]), context)
    if why is not None:
        for name, fields in ((LINES, None), (RISKS, None), (HISTORY, HISTORY_FIELDS)):
            read[name], probs = store.table(name).read(fields=fields)
            issues += probs
        read[EXPENSES] = []
        for recs, probs in store.table(EXPENSES).stream(fields=EXPENSE_FIELDS):  # the large table, a page at a time
            read[EXPENSES] += budget.spent(recs)
            issues += probs
        scope = Scope(True, why, ctx.now, context)
        if kept is not None and kept.path is not None:
            filed = homes.Homes.of({EXPENSES: read[EXPENSES], LINES: read[LINES]}), set()
            kept.built = None  # made from this read of everything, not patched
    if kept is not None and filed is not None and (warning := kept.write(filed[0].tables, (EXPENSES, LINES))):
        scope = replace(scope, why=f"{scope.why}; {warning}")
    for name in (LINES, RISKS):
        issues += contradictions.duplicate_keys(store.table(name).spec, read[name])[0]
    scope = replace(scope, rows_read={n: len(v) for n, v in read.items() if v})
    return Inputs(ctx.now, snap, {str(r["code"]): r for r in act_rows}, read[LINES], read[EXPENSES], read[RISKS],
                  read[HISTORY], {n: store.table(n).spec for n in (LINES, EXPENSES, ACTIVITIES, RISKS)},
                  issues=issues, ambiguous_activities=ambiguous, rows=row_links(store, [LINES, RISKS]), scope=scope)


def _issue(inp: Inputs, table: str, f: Finding) -> Issue:
    spec = inp.specs[table]
    return Issue(spec.zh, f.row_id, spec.field(f.field).zh, f.value, f.why)


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan()
    out.issues += inp.snap.issues + inp.issues
    out.warnings += inp.snap.warnings
    s = inp.snap.settings
    quiet = s.in_quiet_hours(inp.now)
    mctx = Context(inp.now, s.quiet_ends_after(inp.now) if quiet else inp.now, inp.snap.org, inp.rows)
    stats = {"lines_updated": 0, "budget_alerts": 0, "variances_written": 0, "risks_watched": 0,
             "history_rows": 0, "risk_warnings": 0, "skipped_rows": 0}
    alerts: list[messages.Alert] = []
    _budget(out, inp, mctx, stats, alerts)
    _risks(out, inp, mctx, stats, alerts)
    out.messages = messages.per_person(alerts, mctx, ctx.already_enqueued)
    out.checked = {LINES: [x.Id for x in inp.lines], EXPENSES: [e.Id for e in inp.expenses],
                   RISKS: [r.Id for r in inp.risks], **inp.snap.checked}
    out.stats = {**stats, **inp.scope.stats()}
    out.state = inp.scope.state()
    return out


def _budget(out: Plan, inp: Inputs, mctx: Context, stats: dict[str, int], alerts: list[messages.Alert]) -> None:
    ratio = inp.snap.settings.budget_warn_ratio
    acts = inp.activities
    sums, found = budget.spent_by_key(inp.expenses, set(acts), {(x.activity, x.category) for x in inp.lines})
    out.issues += [_issue(inp, EXPENSES, f) for f in found]
    stats["skipped_rows"] += sum(1 for f in found if f.field == "activity")
    ambiguous, found = budget.ambiguous_lines(inp.lines)
    out.issues += [_issue(inp, LINES, f) for f in found]
    for line in inp.lines:
        act = acts.get(line.activity)
        if act is None:
            out.issues.append(_issue(inp, LINES, Finding(line.Id, "activity", line.activity,
                                                         f"活动 {line.activity} 不存在，已用金额暂不更新；请选择正确的活动")))
            stats["skipped_rows"] += 1
            continue
        if (line.activity, line.category) in ambiguous:
            continue
        v = budget.judge_line(line, sums.get((line.activity, line.category), 0), ratio,
                              alerts=act.get("stage") not in budget.NO_ALERT_STAGES)
        if v.changes:
            out.update(LINES, line.Id, **v.changes)
            stats["lines_updated"] += 1
        if v.alert:
            owner = None if line.activity in inp.ambiguous_activities else act.get("owner")
            sent = messages.budget_alert(line, {**act, "owner": owner}, v.alert, v.spent, ratio, mctx)
            if not sent:
                out.issues.append(_issue(inp, LINES, Finding(line.Id, "warn_level", v.level, (
                    "预算预警无人可接收：活动负责人不在职或没有联系方式，也没有在职的财务人员；"
                    "请补全活动负责人或员工表中「财务」角色的联系方式"))))
            alerts += sent
            stats["budget_alerts"] += 1
    for code, act in sorted(acts.items()):
        if (act.get("variance") or code in inp.ambiguous_activities
                or not budget.is_closing(act.get("stage"), act.get("closed_at"))):
            continue
        if not any(x.activity == code for x in inp.lines) and not any(k[0] == code for k in sums):
            continue  # nothing budgeted, nothing spent: nothing to compare
        out.update(ACTIVITIES, act["Id"], variance=budget.closing_variance(inp.lines, sums, code))
        stats["variances_written"] += 1


def _risks(out: Plan, inp: Inputs, mctx: Context, stats: dict[str, int], alerts: list[messages.Alert]) -> None:
    level = inp.snap.settings.risk_warn_level
    by_risk: dict[str, list[Any]] = {}
    for h in inp.history:
        by_risk.setdefault(h.risk, []).append(h)
    taken = {h.code for h in inp.history}
    _, ambiguous = contradictions.duplicate_keys(inp.specs[RISKS], inp.risks)  # reported at load
    for r in inp.risks:
        if r.code in ambiguous:
            continue
        found = risks.problems(r)
        if found:
            out.issues += [_issue(inp, RISKS, f) for f in found]
            stats["skipped_rows"] += 1
            continue
        stats["risks_watched"] += 1
        act = inp.activities.get(r.activity)
        if act is None:  # still watched: the warning does not need the activity
            out.issues.append(_issue(inp, RISKS, Finding(r.Id, "activity", r.activity,
                                                         f"活动 {r.activity} 不存在；请选择正确的活动")))
        v = risks.judge(r, by_risk.get(r.code, []), level, inp.now, taken)
        if v.history:
            out.insert(HISTORY, v.history)
            taken.add(v.history["code"])
            stats["history_rows"] += 1
        if v.warn:
            sent = messages.risk_warning(r, act or {}, v.score, risks.band(v.score), level,
                                         risks.item_key(r.Id, v.state, level), mctx)
            if not sent:
                out.issues.append(_issue(inp, RISKS, Finding(r.Id, "owner", r.owner, (
                    "风险预警无人可接收：责任人及其上级均不在职或没有联系方式；请更换责任人"))))
            alerts += sent
            stats["risk_warnings"] += 1
        if v.changes:
            out.update(RISKS, r.Id, **v.changes)


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan)
