"""审计抽样 (audit): an auditor adds a 审计周期 row; the next run draws its sample (AUD-1..5).

For every cycle in 待抽样:

* the parameters are the row's, blanks taken from 系统设置 (audit_confidence,
  audit_tolerable_rate, audit_expected_rate; 抽样模型 二项分布, 分层分配 按比例) and written
  back, with audit_always_amount and the method version, into 抽样参数 (AUD-4);
* a blank 随机种子 gets a fresh unpredictable one (drawn in ``load``, so ``plan`` stays pure);
  a given seed is kept: the same seed, parameters and population draw the same sample;
* the quarter's population (:mod:`.population`) is drawn (:mod:`.draw`): one 审计样本 row per
  item — always-included ones with their reason, then the statistical sample — with the
  checklist of its kind pre-filled in 检查记录 (:mod:`.checks`); a failed pre-check ticks
  存在偏差, which the auditor may untick;
* the cycle moves to 已抽样. Setting it back to 待抽样 redraws: rows already there are kept
  (same codes), and rows the new draw no longer contains are flagged on their row.

For every cycle in 已抽样 or 审计中, :mod:`.closing` makes the findings of the checked rows and,
once every row is done, the verdict, the report and its messages, and sets it 已完成.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops.jobs.approvals.routing import parse_routes
from actops.jobs.audit import checks, closing, draw, population
from actops.jobs.audit.sizes import SizeError
from actops.jobs.audit.strata import AllocationError
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.nocodb import F
from actops.records import Issue, dedupe_issues

NAME = "audit"
NOTE_TAG = "审计抽样"
WATCHED = ("audit_cycles", "audit_samples", "audit_findings", "settings")
CYCLES, SAMPLES = "audit_cycles", "audit_samples"
PENDING, DRAWN = "待抽样", "已抽样"
MODELS = {"二项分布": "binomial", "超几何分布": "hypergeometric", "泊松分布": "poisson"}
ALLOCATIONS = {"按比例": "proportional", "最优分配": "neyman"}
KIND_LETTER = {"approval": "A", "expense": "E", "activity": "V", draw.RECHECK_KIND: "R"}


@dataclass
class Inputs:
    now: datetime
    snap: Snapshot
    cycles: list[Any]
    seeds: dict[int, int]  # cycle Id → a fresh seed for a blank 随机种子
    src: population.Sources | None = None
    draws: dict[int, draw.Draw | SizeError | AllocationError] = field(default_factory=dict)  # cycle Id →
    existing: dict[str, Any] = field(default_factory=dict)  # sample code → row, for the pending cycles
    issues: list[Issue] = field(default_factory=list)
    zh: dict[str, str] = field(default_factory=dict)
    closing: closing.Closing = field(default_factory=lambda: closing.Closing([]))


def load(store: Any, ctx: RunContext) -> Inputs:
    """Cycles waiting for their draw: the quarter's population streams into a frame of small
    items, the draw is made from it (pure and seeded, in load because what is read next depends
    on it), then only the rows of the items drawn are read whole, by key (OPS-4: memory follows
    the quarter and the sample, not the tables; steps, documents and budget lines are read for
    the sample only)."""
    snap = load_snapshot(store, ctx.now)
    ct = store.table(CYCLES)
    found, issues = ct.read(ct.where(F("status").any_of((PENDING, *closing.OPEN))))
    only = ctx.params.get("cycle")
    found = [c for c in found if c.code and c.period_start and c.period_end and (not only or c.code == only)]
    cycles = [c for c in found if c.status == PENDING]
    inp = Inputs(ctx.now, snap, cycles, {c.Id: secrets.randbelow(2**31 - 1) + 1 for c in cycles if c.seed is None},
                 issues=issues, zh={n: store.table(n).spec.zh for n in (CYCLES, SAMPLES)})
    inp.closing = closing.load(store, [c for c in found if c.status in closing.OPEN])
    if not cycles:
        return inp
    frame = _frame(store, cycles, snap, issues)
    ft = store.table("audit_findings")
    findings, probs = ft.read(ft.where(F("status").any_of(population.OPEN_FINDING)))
    issues += probs
    all_cycles, _ = ct.read(fields=["code", "period_end"])  # the pending ones' issues came above
    ends = {c.code: c.period_end for c in all_cycles if c.code and c.period_end}
    route_recs, probs = store.table("approval_routes").read()
    issues += probs
    routes, _ = parse_routes(route_recs)  # a broken route is the approvals job's to report
    for cycle in cycles:
        try:
            inp.draws[cycle.Id] = draw.draw(
                population.items(frame, cycle.period_start, cycle.period_end),
                population.open_findings(findings, ends, snap.org, cycle.code, cycle.period_start),
                _params(cycle, inp), _seed(cycle, inp))
        except (SizeError, AllocationError) as exc:
            inp.draws[cycle.Id] = exc
    del frame
    inp.src = _drawn_rows(store, inp, routes, findings, issues)
    samples, probs2 = store.table(SAMPLES).read(store.table(SAMPLES).where(F("cycle").in_([c.code for c in cycles])))
    issues += probs2
    inp.existing = {s.code: s for s in samples if s.code}
    inp.issues = dedupe_issues(issues)  # a row read by the frame and again as drawn is said once
    return inp


def _frame(store: Any, cycles: list[Any], snap: Snapshot, issues: list[Issue]) -> population.Frame:
    first, last = min(c.period_start for c in cycles), max(c.period_end for c in cycles)
    frame = population.Frame(first, last, snap.org)
    acts = store.table("activities")
    # every activity's key is learned: the expenses' 活动 links below are mapped from them
    for recs, probs in acts.stream(fields=population.FRAME_FIELDS["activities"]):
        frame.add_activities(recs)
        issues += probs
    rt = store.table("approval_requests")
    # submitted_at is a moment; a day either side covers the quarter's Beijing days in any zone
    near = rt.where(F("submitted_at").on_or_after(first - timedelta(days=1))
                    & F("submitted_at").before(last + timedelta(days=2)))
    for recs, probs in rt.stream(near, fields=population.FRAME_FIELDS["approval_requests"], keep_keys=False):
        frame.add_requests(recs)
        issues += probs
    et = store.table("expenses")
    for recs, probs in et.stream(et.where((F("spent_on") >= first) & (F("spent_on") <= last)),
                                 fields=population.FRAME_FIELDS["expenses"], keep_keys=False):
        frame.add_expenses(recs)
        issues += probs
    return frame


def _drawn_rows(store: Any, inp: Inputs, routes: list[Any], findings: list[Any],
                issues: list[Issue]) -> population.Sources:
    """The whole rows of the items drawn and of what their checklists look at, by ``in`` lookups
    on keys (a sample is hundreds of rows; the key column is what the lookups filter on, so the
    links are not mapped: that would read every key of the linked tables)."""
    keys = population.picked(p for d in inp.draws.values() if isinstance(d, draw.Draw) for p in d.picks)

    def by(table: str, name: str, values: set[str]) -> list[Any]:
        return closing.read_keys(store, table, name, values, issues, links=False)

    expenses = by("expenses", "code", keys.get("expense", set()))
    activities = by("activities", "code", keys.get("activity", set()))
    named = keys.get("approval", set()) | population.requests_named(expenses, activities)
    requests = by("approval_requests", "code", named)
    steps: dict[str, list[Any]] = {}
    for s in by("approval_steps", "request", {r.code for r in requests if r.code}):
        steps.setdefault(s.request, []).append(s)
    docs = by("documents", "activity", {a.code for a in activities if a.code})
    lines = by("budget_lines", "activity", {e.activity for e in expenses if e.activity})
    return population.Sources(requests, steps, routes, expenses, activities,
                              population.documents_by_activity(docs), {(b.activity, b.category) for b in lines},
                              findings)


def _seed(cycle: Any, inp: Inputs) -> int:
    return int(cycle.seed) if cycle.seed is not None else inp.seeds[cycle.Id]


def _params(cycle: Any, inp: Inputs) -> draw.Params:
    s = inp.snap.settings
    return draw.Params(
        confidence=float(cycle.confidence if cycle.confidence is not None else s.audit_confidence),
        tolerable_rate=float(cycle.tolerable_rate if cycle.tolerable_rate is not None else s.audit_tolerable_rate),
        expected_rate=float(cycle.expected_rate if cycle.expected_rate is not None else s.audit_expected_rate),
        always_amount=float(s.audit_always_amount),
        model=MODELS.get(cycle.method or "", "binomial"),
        allocation=ALLOCATIONS.get(cycle.allocation or "", "proportional"))


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan()
    out.issues += inp.snap.issues + inp.issues
    out.warnings += inp.snap.warnings
    stats = {"cycles_drawn": 0, "always_included": 0, "sampled": 0, "rows_new": 0, "rows_stale": 0}
    for cycle in inp.cycles:
        params, seed = _params(cycle, inp), _seed(cycle, inp)
        result = inp.draws[cycle.Id]  # drawn by load (pure, seeded)
        if not isinstance(result, draw.Draw):
            out.issues.append(Issue(inp.zh[CYCLES], cycle.Id, "可容忍偏差率", cycle.tolerable_rate,
                                    f"无法确定样本量：{result}；请调整后保存（状态保持 待抽样）"))
            continue
        wanted = set()
        for pick in result.picks:
            row = _sample_row(cycle.code, pick, inp, ctx)
            wanted.add(row["code"])
            if row["code"] not in inp.existing:
                out.insert(SAMPLES, row)
                stats["rows_new"] += 1
        for code, s in inp.existing.items():
            if s.cycle == cycle.code and code not in wanted:
                stats["rows_stale"] += 1
                out.issues.append(Issue(inp.zh[SAMPLES], s.Id, "样本编号", code,
                                        "本行不在本周期最近一次抽样的结果中（随机种子、参数或总体已变）；"
                                        "如已无用，请删除本行"))
        out.update(CYCLES, cycle.Id, **_cycle_values(cycle, params, seed, result))
        stats["cycles_drawn"] += 1
        stats["always_included"] += len(result.always)
        stats["sampled"] += len(result.sample)
    out.checked = {CYCLES: [c.Id for c in inp.cycles], SAMPLES: [s.Id for s in inp.existing.values()],
                   **inp.snap.checked}
    out.stats = stats | closing.plan(inp.closing, inp.snap, inp.now, inp.zh, NAME, out)
    return out


def _sample_row(cycle: str, pick: draw.Pick, inp: Inputs, ctx: RunContext) -> dict[str, Any]:
    assert inp.src is not None
    found = population.checklist(pick, inp.src, ctx.now.date())
    failed = checks.deviation(found) is True
    why = "、".join(pick.reasons)
    head = f"入样原因：{why}" + (f"（所涉事项：{pick.subject}）" if pick.subject else "")
    notes = [head, "系统预检（☑ 通过　☒ 不通过　☐ 由审计员判断）：", checks.render(found)]
    if failed:
        notes.append("系统预检发现偏差，已勾选「存在偏差」；如判断有误，请取消勾选并在此说明。")
    row = {"code": f"{cycle}-{KIND_LETTER[pick.kind]}-{pick.key}", "cycle": cycle,
           "item_kind": draw.KIND_ZH[pick.kind], "item_code": pick.key, "department": pick.department,
           "amount": pick.amount, "reason": pick.reasons[0], "checked": False, "notes": "\n".join(notes)}
    if failed:
        row["deviation"] = True
    return {k: v for k, v in row.items() if v is not None}


def _cycle_values(cycle: Any, params: draw.Params, seed: int, result: draw.Draw) -> dict[str, Any]:
    kinds = {}
    for kind, p in result.plans.items():
        entry: dict[str, Any] = {"method": p.method, "population": p.population, "n": p.n}
        if p.size is not None:
            entry |= {"size": p.size.n, "expected_deviations": p.size.expected_deviations,
                      "allocation": p.allocation.sizes if p.allocation else None}
        if p.mus is not None and p.selection is not None:
            entry |= {"book_value": round(p.book_value, 2), "mus_size": p.mus.n, "interval": p.mus.interval,
                      "start": p.selection.start, "top_stratum": len(p.selection.top)}
        if p.note:
            entry["note"] = p.note
        kinds[draw.KIND_ZH[kind]] = entry
    record = {"method_version": result.version, "seed": seed, "fingerprint": result.fingerprint,
              "population_digest": result.population_digest, "params": params.as_dict(),
              "always_included": len(result.always), "kinds": kinds}
    models = {v: k for k, v in MODELS.items()}
    allocations = {v: k for k, v in ALLOCATIONS.items()}
    return {"seed": seed, "confidence": params.confidence, "tolerable_rate": params.tolerable_rate,
            "expected_rate": params.expected_rate, "method": models[params.model],
            "allocation": allocations[params.allocation], "status": DRAWN,
            "params": json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True)}


def apply_extra(store: Any, inputs: Inputs, plan: Plan) -> dict[str, int]:
    return closing.apply_extra(store, plan, inputs.now)


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan, apply_extra=apply_extra)
