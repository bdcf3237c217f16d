"""考评 (evaluations): HR opens a cycle with one 考评周期 row; this job does the rest (EVA-1..7).

Each run (daily while a cycle is open; idle otherwise — no watched table changed):

* reads the cycles still open (已开启, 评分中) and the published ones that still have rows
  without 发布时间, with their rows, the grade bands and the org;
* for quarterly and annual cycles: the KPI parts from KPI指标, KPI实绩 (entered actuals) and
  the operations tables (:mod:`.people_kpi`), the months' self scores, the earlier quarters
  (streaks), late-report streaks (员工 连续逾期报告数) and data-fraud findings (审计发现);
* plans each cycle (:mod:`.cycle`, pure) and turns it into the runner's :class:`Plan`: new
  考评表 rows, changed values only, problems on the cycle and row, publication messages.

KPI实绩 holds every (KPI, subject) of the cycle's period: the 系统计算值 the job found, the
实际值 staff typed (it overrides, and 计分说明 says so), 达成率, 得分, or why there is none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops.jobs.evaluations import messages
from actops.jobs.evaluations.actuals import Data, tables_read
from actops.jobs.evaluations.cycle import (
    OPEN,
    PUBLISHED,
    QUARTER_KIND,
    SCORED_KINDS,
    SELF_KIND,
    CycleInputs,
    plan_cycle,
    self_eval_due,
)
from actops.jobs.evaluations.grading import bands_from_rows
from actops.jobs.evaluations.kpi import KpiDef
from actops.jobs.evaluations.ops_rows import local_copy, read_ops
from actops.jobs.evaluations.people_kpi import kpi_for_people
from actops.jobs.evaluations.periods import MONTH, QUARTER, Period, parse_period, round_half_up
from actops.jobs.evaluations.streaks import met_target
from actops.kernel.calendar import TZ
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.nocodb import F
from actops.records import Issue

NAME = "evaluations"
NOTE_TAG = "考评"
CYCLES, EVALS, BANDS, KPI_DEFS, KPI_RESULTS = "eval_cycles", "evaluations", "grade_bands", "kpi_definitions", "kpi_results"
OPS = ("activities", "feedback", "plans", "plan_tasks", "action_items")
WATCHED = (CYCLES, EVALS, BANDS, KPI_DEFS, KPI_RESULTS, *OPS, "audit_findings", "employees", "departments", "settings")
IN_CHUNK = 50


@dataclass
class Inputs:
    now: datetime
    snap: Snapshot
    cycles: list[Any]  # the cycles this run plans
    rows: dict[str, list[Any]]  # cycle code → its rows
    bands: list[Any]
    monthly: dict[str, dict[str, float]] = field(default_factory=dict)  # 工号 → month → self score
    quarters: dict[str, dict[str, bool | None]] = field(default_factory=dict)  # 工号 → quarter → met
    defs: list[Any] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)  # KPI实绩 rows of the cycles' periods
    data: Data = field(default_factory=Data)
    findings: dict[str, list[Any]] = field(default_factory=dict)  # 工号 → fraud findings
    issues: list[Issue] = field(default_factory=list)
    zh: dict[str, str] = field(default_factory=dict)
    self_links: Any = None  # DecisionLinks for /self/… (None without ACTOPS_LINK_SECRET)
    read: dict[str, str] = field(default_factory=dict)  # how the operations rows were read (run log)


def _period(c: Any) -> Period | None:
    try:
        return parse_period(c.period)
    except ValueError:
        return None


def _num(v: Any) -> float | None:
    try:
        return None if v is None or v == "" else float(v)
    except (TypeError, ValueError):
        return None


def _rows_of(store: Any, codes: list[str], fields: list[str]) -> list[dict[str, Any]]:
    t, out = store.table(EVALS), []
    for i in range(0, len(codes), IN_CHUNK):
        out += t.rows(t.where(F("cycle").in_(codes[i:i + IN_CHUNK])), fields=fields)
    return out


def load(store: Any, ctx: RunContext) -> Inputs:
    snap = load_snapshot(store, ctx.now)
    issues: list[Issue] = []
    ct, et = store.table(CYCLES), store.table(EVALS)
    cycles, probs = ct.read()
    issues += probs
    # a published cycle is looked at again only while some of its rows are not published yet
    only = ctx.params.get("cycle")
    live = [c for c in cycles if c.code and (not only or c.code == only) and (c.status != PUBLISHED or c.kind in SCORED_KINDS and et.table.count(
        et.where((F("cycle") == c.code) & F("published_at").is_blank())))]
    rows: dict[str, list[Any]] = {c.code: [] for c in live}
    for c in live:
        recs, probs = et.read(et.where(F("cycle") == c.code))
        issues += probs
        rows[c.code] = recs
    bands, probs = store.table(BANDS).read()
    issues += probs
    from actops.kernel.links import PURPOSE_SELF_EVAL, decision_links_from_env

    # Links are signed now: `actops serve` checks their expiry by the wall clock, so a link
    # issued "at" a --now in the past would already be expired when the person opens it.
    inp = Inputs(ctx.now, snap, live, rows, bands, issues=issues,
                 zh={n: store.table(n).spec.zh for n in (CYCLES, EVALS, BANDS, KPI_RESULTS)},
                 self_links=decision_links_from_env(datetime.now(TZ), PURPOSE_SELF_EVAL, "self"))
    scored = [(c, p) for c in live if c.kind in SCORED_KINDS and (p := _period(c))]
    if scored:
        _load_scoring(store, ctx, inp, cycles, scored)
    return inp


def _load_scoring(store: Any, ctx: RunContext, inp: Inputs, cycles: list[Any], scored: list[tuple[Any, Period]]) -> None:
    s = inp.snap.settings
    periods = {c.code: p for c in cycles if c.code and (p := _period(c))}
    months = {m.code for _, p in scored for m in p.months()}
    monthly = {c.code: periods[c.code].code for c in cycles if c.kind == SELF_KIND and c.code in periods
               and periods[c.code].kind == MONTH and periods[c.code].code in months}
    for r in _rows_of(store, sorted(monthly), ["cycle", "employee", "self_score"]):
        v = _num(r.get("self_score"))
        if v is not None and r.get("employee"):
            inp.monthly.setdefault(str(r["employee"]), {})[monthly[str(r["cycle"])]] = v
    back = max(s.reward_streak, s.fail_streak)
    wanted: set[str] = set()
    for _, p in scored:
        q = p
        for _ in range(back if p.kind == QUARTER else 0):
            q = q.previous()
            wanted.add(q.code)
    earlier = {c.code: periods[c.code].code for c in cycles if c.kind == QUARTER_KIND and c.code in periods
               and periods[c.code].code in wanted}
    for r in _rows_of(store, sorted(earlier), ["cycle", "employee", "kpi_score"]):
        if r.get("employee"):
            inp.quarters.setdefault(str(r["employee"]), {})[earlier[str(r["cycle"])]] = met_target(
                _num(r.get("kpi_score")))
    defs, probs = store.table(KPI_DEFS).read()
    inp.defs, inp.issues = defs, inp.issues + probs
    rt = store.table(KPI_RESULTS)
    res, probs = rt.read(rt.where(F("period").in_(sorted({p.code for _, p in scored}))))
    inp.results, inp.issues = res, inp.issues + probs
    periods, tables = [p for _, p in scored], tables_read(KpiDef.from_row(d) for d in defs)
    copy = local_copy(store, ctx.marks, ctx.now, periods, tables, timedelta(hours=s.full_scan_hours)) if (
        ctx.marks is not None and not ctx.params.get("full")) else None
    got, probs = read_ops(store, periods, tables, copy)
    inp.issues += probs
    if copy is None:
        inp.read = {"read": "full", "read_why": "a full read was asked for (--full)" if ctx.params.get("full") else "dry run"}
    elif copy.loaded is None:
        inp.read = {"read": "full", "read_why": copy.why}
    else:
        inp.read = {"read": "changes", "read_why": f"rows deleted: {', '.join(copy.read_whole)} read again for the "
                    "periods" if copy.read_whole else "the local copy and the rows changed since"}
    inp.data = Data(**got, department_of={e.code: e.department for e in inp.snap.employees if e.code})
    ft = store.table("audit_findings")
    found, probs = ft.read(ft.where(F("fraud").checked()))
    inp.issues += probs
    for f in found:
        inp.findings.setdefault(str(f.owner), []).append(f)


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan()
    out.issues += inp.snap.issues + inp.issues
    out.warnings += inp.snap.warnings
    s, org = inp.snap.settings, inp.snap.org
    bands, band_problems = bands_from_rows(inp.bands)
    out.issues += [Issue(inp.zh[BANDS], rid, f, v, why) for rid, f, v, why in band_problems]
    active = [e for e in inp.snap.employees if e.active and e.code and e.code not in org.ambiguous]
    heads = {d: h for d, h in org.dept_heads.items() if org.active(h)}
    stats = {"cycles": len(inp.cycles), "rows_created": 0, "scored": 0, "held": 0, "published": 0}
    not_before = s.quiet_ends_after(inp.now) if s.in_quiet_hours(inp.now) else inp.now
    for c in inp.cycles:
        rows = inp.rows.get(c.code, [])
        kpi, period = {}, _period(c)
        if c.kind in SCORED_KINDS and period is not None:
            people = {e.code: e.department for e in active}
            people.update({r.employee: r.department for r in rows if r.employee and r.employee not in people})
            manual = {(r.kpi, r.subject): r.actual for r in inp.results
                      if r.period == period.code and r.actual is not None}
            as_of = c.due_date or period.end
            got = kpi_for_people([KpiDef.from_row(d) for d in inp.defs], inp.data, period, as_of, manual,
                                 sorted(people.items()), s.kpi_score_cap)
            kpi = got.people
            out.issues += [Issue(inp.zh[CYCLES], c.Id, "期间", c.period, w) for w in got.warnings]
            _kpi_results(out, inp, got.results, period)
        res = plan_cycle(CycleInputs(
            cycle=c, now=inp.now, employees=active, heads=heads, rows=rows, bands=bands, kpi=kpi,
            monthly_self=inp.monthly, history=inp.quarters,
            late_streaks={e.code: int(e.late_streak or 0) for e in inp.snap.employees if e.code},
            findings=inp.findings, reward_streak=s.reward_streak, fail_streak=s.fail_streak,
            late_streak_limit=s.late_streak_limit))
        for row in res.inserts:
            out.insert(EVALS, row)
        for rid, values in res.updates.items():
            out.update(EVALS, rid, **values)
        out.issues += [Issue(inp.zh[CYCLES], c.Id, f, v, why) for f, v, why in res.cycle_problems]
        out.issues += [Issue(inp.zh[EVALS], rid, f, v, why) for rid, f, v, why in res.row_problems if rid]
        for row in res.publish:
            out.messages += messages.render(row, c.code, org, not_before)
        if c.kind == SELF_KIND and c.status == OPEN:
            try:  # the day the invitation states and the escalation ladder chases from
                due = self_eval_due(c, s.self_eval_day)
            except ValueError as err:
                due = None
                out.issues.append(Issue(inp.zh[CYCLES], c.Id, "期间", c.period, f"{err}；未提交的自评无法催办"))
            if inp.self_links is not None:  # EVA-2: each person's own link
                waiting = [r.employee for r in rows if r.employee and r.submitted_at is None]
                waiting += [r["employee"] for r in res.inserts if r.get("employee")]
                for code in dict.fromkeys(waiting):
                    out.messages += messages.invite(code, c, inp.self_links.url_for(code, c.code), org, not_before,
                                                    due)
        for k, v in res.stats.items():
            stats[k] = stats.get(k, 0) + v
    out.checked = {CYCLES: [c.Id for c in inp.cycles], EVALS: [r.Id for rs in inp.rows.values() for r in rs],
                   **inp.snap.checked}
    out.stats = {**stats, **inp.read}
    return out


def _kpi_results(out: Plan, inp: Inputs, scores: dict[tuple[str, str], Any], period: Period) -> None:
    """KPI实绩 of ``period`` as the scores found them (KPI-2), changed values only.

    A row staff entered keeps its 实际值 and gets the 系统计算值 beside it, its 达成率, 得分
    and 计分说明 (which says when the entered value overrides the computed one). A (KPI,
    subject) without a row gets one, with an empty 实际值 so the next run still knows the
    value was computed, not typed; a subject without data gets a row saying it is not
    scored. Codes are ``KR-<period>-<KPI>-<subject>``, so a rerun finds them.
    """
    existing: dict[tuple[str, str], Any] = {}
    for r in inp.results:
        if r.period == period.code:
            existing.setdefault((r.kpi, r.subject), r)
    for (kpi, subject), sc in sorted(scores.items()):
        want = {"computed": None if sc.computed is None else round_half_up(sc.computed, 4),
                "attainment": sc.attainment, "score": sc.score, "note": sc.note}
        row = existing.get((kpi, subject))
        if row is None:
            out.insert(KPI_RESULTS, {"code": f"KR-{period.code}-{kpi}-{subject}", "kpi": kpi, "period": period.code,
                                     "subject": subject, **{k: v for k, v in want.items() if v is not None}})
            continue
        changed = {k: v for k, v in want.items() if _differs(v, getattr(row, k, None))}
        if changed:
            out.update(KPI_RESULTS, row.Id, **changed)


def _differs(want: Any, have: Any) -> bool:
    if isinstance(want, str) or isinstance(have, str):
        return (want or None) != (have or None)
    if want is None or have is None:
        return (want is None) != (have is None)  # 0 is a value
    return abs(float(want) - float(have)) > 0.00005


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan)
