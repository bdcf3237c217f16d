"""One evaluation cycle, start to publication (EVA-1..6): pure, no I/O; ``now`` is a parameter.

* **Rows** (EVA-1) — until the cycle is 已发布, every active employee without a row in it gets
  one (code ``<cycle>-<工号>``) with name, department, supervisor (直属上级) and, when the cycle
  asks for 跨部门评委人数 N, N judges: heads of other departments, in an order fixed by a
  hash of cycle, person and candidate (spread, and the same on every run). Rows the self-
  evaluation form made count too; two rows for one person in one cycle are reported, and
  that person is left alone until one is removed (never last-one-wins).
* **Scores** (EVA-2, EVA-3) — quarterly and annual cycles: KPI part (:mod:`.people_kpi`),
  self part = mean of the period's monthly self scores (:mod:`.scoring`; the row's own 自评分
  when no month has one), supervisor and judges as typed (0–100), composite by the cycle's
  weights and 缺项处理. A monthly self-evaluation must carry its 改进计划.
* **Grades** (EVA-4) — bands, or forced distribution over the cycle's scored rows; rank in
  department; :attr:`score_note` explains each row, ties included. Fairness flags (four-
  fifths rule) go on the cycle row for HR while it is not yet published.
* **Streaks and flags** (EVA-6) — quarterly cycles: reward / fail streaks; every cycle: the
  late-report streak and data-fraud findings, in 提示.
* **Publishing** (EVA-5) — once HR sets 已发布, each scored row gets 发布时间 and its person one
  message with their own result; a published row is never written again (the cycle locks).
  Rows still without a composite are not published and say why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from actops.jobs.evaluations import fairness, grading, scoring
from actops.jobs.evaluations.kpi import Combined
from actops.jobs.evaluations.periods import MONTH, QUARTER, Period, get, local_date, parse_period
from actops.jobs.evaluations.streaks import evaluator_flags, met_target, streak_flags

SELF_KIND, QUARTER_KIND, ANNUAL_KIND = "月度自评", "季度考评", "年度综合"
OPEN, SCORING, PUBLISHED = "已开启", "评分中", "已发布"
SCORED_KINDS = (QUARTER_KIND, ANNUAL_KIND)
TOLERANCE = 0.005


@dataclass
class CycleInputs:
    cycle: Any
    now: datetime
    employees: Sequence[Any]  # active employees: code, name, department, manager
    heads: Mapping[str, str]  # department code → head 工号 (active)
    rows: Sequence[Any]  # this cycle's evaluation rows
    bands: Sequence[grading.Band]
    kpi: Mapping[str, Combined]  # 工号 → KPI part (scored kinds)
    monthly_self: Mapping[str, Mapping[str, float]]  # 工号 → "2026-07" → self score
    history: Mapping[str, Mapping[str, bool | None]]  # 工号 → earlier quarter → met target
    late_streaks: Mapping[str, int]
    findings: Mapping[str, Sequence[Any]]  # 工号 → their 审计发现 rows
    reward_streak: int = 2
    fail_streak: int = 2
    late_streak_limit: int = 3


@dataclass
class CycleOut:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    cycle_problems: list[tuple[str, Any, str]] = field(default_factory=list)  # (field zh, value, why)
    row_problems: list[tuple[int | None, str, Any, str]] = field(default_factory=list)  # (Id, field zh, value, why)
    publish: list[dict[str, Any]] = field(default_factory=list)  # rows (final values) to tell their person
    stats: dict[str, int] = field(default_factory=dict)


def self_eval_due(cycle: Any, self_eval_day: int) -> date | None:
    """The day a cycle's self-evaluations are due (EVA-1), as the invitation states it and the
    escalation ladder chases it: the cycle's 截止日期 when HR set one; else, for a 月度自评
    cycle, day ``self_eval_day`` of the month after its period ("2026-10" → 2026-11-05, S1
    每月X日前); else None (nothing to chase). ValueError: a 月度自评 without 截止日期 whose
    期间 is not a month.
    """
    typed = get(cycle, "due_date")
    typed = date.fromisoformat(typed[:10]) if isinstance(typed, str) else local_date(typed)  # a raw row: text
    if typed is not None or get(cycle, "kind") != SELF_KIND:
        return typed
    period = parse_period(get(cycle, "period"))
    if period.kind != MONTH:
        raise ValueError(f"月度自评的期间应为一个月（如 2026-10），而不是「{period.code}」；或请填写截止日期")
    return (period.end + timedelta(days=1)).replace(day=self_eval_day)


def judges_for(cycle: str, person: Any, heads: Mapping[str, str], n: int) -> list[str]:
    mine = get(person, "department")
    skip = {get(person, "code"), get(person, "manager")}
    pool = sorted({h for d, h in heads.items() if d != mine and h not in skip})
    pool.sort(key=lambda c: hashlib.sha1(f"{cycle}|{get(person, 'code')}|{c}".encode()).hexdigest())
    return pool[:max(n, 0)]


def _new_row(inp: CycleInputs, e: Any) -> dict[str, Any]:
    code = str(get(inp.cycle, "code"))
    row = {"code": f"{code}-{e.code}", "cycle": code, "employee": e.code, "employee_name": e.name,
           "department": get(e, "department"), "supervisor": get(e, "manager")}
    n = int(get(inp.cycle, "cross_judges", 0) or 0)
    if n > 0:
        row["judges"] = ",".join(judges_for(code, e, inp.heads, n)) or None
    return {k: v for k, v in row.items() if v is not None}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < TOLERANCE
    return (a if a != "" else None) == (b if b != "" else None)


def plan_cycle(inp: CycleInputs) -> CycleOut:
    out = CycleOut(stats={"rows_created": 0, "scored": 0, "held": 0, "published": 0})
    cycle, status, kind = inp.cycle, get(inp.cycle, "status", OPEN), get(inp.cycle, "kind")
    by_emp: dict[str, list[Any]] = {}
    for r in inp.rows:
        by_emp.setdefault(str(get(r, "employee", "")).strip(), []).append(r)
    rows: dict[str, Any] = {}
    for emp, rs in by_emp.items():
        if len(rs) > 1:
            ids = "、".join(str(get(r, "Id")) for r in rs)
            out.row_problems += [(get(r, "Id"), "员工工号", emp, f"员工 {emp} 在本周期有多行考评（第 {ids} 行）；"
                                  "请删除多余的行，删除前不计算该员工的得分") for r in rs]
        elif emp:
            rows[emp] = rs[0]
    if status != PUBLISHED:
        for e in sorted(inp.employees, key=lambda e: e.code):
            if e.code not in by_emp:
                new = _new_row(inp, e)
                out.inserts.append(new)
                rows[e.code] = SimpleNamespace(Id=None, **{**new, "_new": new})
                out.stats["rows_created"] += 1
    if kind == SELF_KIND:
        for r in rows.values():
            if get(r, "self_score") is not None and not str(get(r, "improvement_plan", "")).strip():
                out.row_problems.append((get(r, "Id"), "改进计划", None, "自评须填写改进计划（下一期准备如何改进）"))
        return out
    if kind not in SCORED_KINDS:
        return out
    try:
        period = parse_period(get(cycle, "period"))
    except ValueError as err:
        out.cycle_problems.append(("期间", get(cycle, "period"), str(err)))
        return out
    weights = scoring.weights_of(cycle)
    bad = scoring.check_weights(weights)
    if bad:
        out.cycle_problems += bad
        return out
    _score(inp, out, rows, period, {p: float(w or 0) for p, w in weights.items()}, status)
    return out


def _score(inp: CycleInputs, out: CycleOut, rows: dict[str, Any], period: Period, weights: dict[str, float],
           status: str) -> None:
    values: dict[str, dict[str, Any]] = {}
    notes: dict[str, list[str]] = {}
    for emp, r in rows.items():
        if get(r, "published_at") is not None:
            continue
        v, n = values.setdefault(emp, {}), notes.setdefault(emp, [])
        kpi = inp.kpi.get(emp)
        v["kpi_score"] = kpi.score if kpi else None
        n.append(kpi.note if kpi else "KPI 无得分（没有适用的指标）")
        self_score, why = scoring.self_score_over(period, inp.monthly_self.get(emp, {}))
        if self_score is None and get(r, "self_score") is not None:
            self_score, why = get(r, "self_score"), f"自评分 {get(r, 'self_score'):g}（本行填写；{why}）"
        if self_score is not None:
            v["self_score"] = self_score
        n.append(why)
        parts = {scoring.KPI: v["kpi_score"], scoring.SELF: self_score}
        for part, name, zh in ((scoring.SUPERVISOR, "supervisor_score", "上级评分"),
                               (scoring.JUDGES, "judges_score", "评委评分")):
            typed = get(r, name)
            bad = scoring.check_score(typed, zh)
            if bad:
                out.row_problems.append((get(r, "Id"), zh, typed, bad))
                typed = None
            parts[part] = typed
        c = scoring.composite(parts, weights, get(inp.cycle, "missing_rule"))
        v["composite"] = c.score
        n.append(c.note)
        out.stats["scored" if c.score is not None else "held"] += 1
    _grade(inp, out, rows, values, notes)
    _flags(inp, rows, values, period)
    for emp, v in values.items():
        v["score_note"] = "\n".join(x for x in notes[emp] if x)
        _write(out, rows[emp], v)
    if status == PUBLISHED:
        _publish(inp, out, rows, values)


def _grade(inp: CycleInputs, out: CycleOut, rows: dict[str, Any], values: dict[str, dict[str, Any]],
           notes: dict[str, list[str]]) -> None:
    scored = {emp: (values[emp]["composite"] if emp in values else get(rows[emp], "composite")) for emp in rows}
    scored = {emp: s for emp, s in scored.items() if s is not None}
    use_forced = bool(get(inp.cycle, "forced_distribution"))
    why = grading.check_quotas(inp.bands) if use_forced else None
    if why:
        out.cycle_problems.append(("强制分布", True, f"{why}；本次按等级区间定级，请修改「等级区间」的强制分布比例"))
        use_forced = False
    if use_forced:
        dist = grading.forced(scored.items(), inp.bands)
        graded = dist.rows
        seats = "/".join(f"{g}{n}" for g, n in dist.seats.items())
        order = sorted(scored.values(), reverse=True)
        for emp in graded:
            place = order.index(scored[emp]) + 1
            head = f"强制分布（共 {len(order)} 人，名额 {seats}，最大余额法）：综合得分第 {place} 名 → {graded[emp].grade}"
            graded[emp] = grading.Graded(graded[emp].grade, graded[emp].bonus,
                                         f"{head}；{graded[emp].note}" if graded[emp].note else head)
    else:
        graded = grading.by_bands(scored.items(), inp.bands)
        for emp, g in graded.items():
            if g.grade is not None:
                band = next(b for b in inp.bands if b.grade == g.grade)
                graded[emp] = grading.Graded(g.grade, g.bonus, f"等级：{scored[emp]:g} 分 ≥ {g.grade} 的最低分 "
                                                                f"{band.min_score:g} → {g.grade}，奖金系数 {g.bonus:g}")
    ranks = grading.ranks_within((emp, get(rows[emp], "department"), s) for emp, s in scored.items())
    for emp, v in values.items():
        g = graded.get(emp)
        v["grade"], v["bonus_coefficient"] = (g.grade, g.bonus) if g else (None, None)
        v["dept_rank"] = ranks.get(emp)
        if g and g.note:
            notes[emp].append(g.note)
        if emp in ranks:
            notes[emp].append(f"部门内排名第 {ranks[emp]} 名（同分同名次）")
    if get(inp.cycle, "status") != PUBLISHED:
        grades = [(get(rows[emp], "department"), (graded.get(emp) or grading.Graded(None, None)).grade)
                  for emp in scored]
        top = fairness.top_grades(inp.bands)
        for msg in fairness.flags("部门", fairness.rates(grades, top), top):
            out.cycle_problems.append(("状态", get(inp.cycle, "status"), msg))


def _flags(inp: CycleInputs, rows: dict[str, Any], values: dict[str, dict[str, Any]], period: Period) -> None:
    for emp, v in values.items():
        lines = []
        if period.kind == QUARTER:
            outcomes = {**inp.history.get(emp, {}), period.code: met_target(v["kpi_score"])}
            lines += streak_flags(outcomes, period, inp.reward_streak, inp.fail_streak)
        lines += evaluator_flags(inp.late_streaks.get(emp, 0), inp.late_streak_limit, inp.findings.get(emp, ()))
        v["flags"] = "\n".join(lines) or None


def _write(out: CycleOut, row: Any, v: dict[str, Any]) -> None:
    new = getattr(row, "_new", None)
    if new is not None:
        new.update({k: x for k, x in v.items() if x is not None})
        return
    changed = {k: x for k, x in v.items() if not _same(get(row, k), x)}
    if changed:
        out.updates.setdefault(row.Id, {}).update(changed)


def _publish(inp: CycleInputs, out: CycleOut, rows: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    for emp, v in values.items():
        r = rows[emp]
        if v["composite"] is None:
            out.row_problems.append((get(r, "Id"), "综合得分", None,
                                     "本周期已发布，但本行没有综合得分，未发布给本人；请补齐各项评分（见「计分说明」）"))
            continue
        if get(r, "Id") is None:
            continue  # created in this run: published on the next one, after it has an Id
        out.updates.setdefault(r.Id, {})["published_at"] = inp.now
        out.publish.append({**{k: get(r, k) for k in ("Id", "code", "employee", "employee_name", "department",
                                                       "supervisor_comment")}, **v})
        out.stats["published"] += 1
