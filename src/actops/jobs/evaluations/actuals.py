"""KPI actuals computed from the operations tables (KPI-2): pure, no I/O, no clock.

Every rule turns rows into *facts* — (activity type, department, owner, numerator,
denominator) — and a definition sums them per subject, by what its 适用对象 says:

* 活动类型: facts of the types in 适用范围, per person (the activity's 负责人, subject = 工号);
  a person with no such activity is outside that KPI (it does not apply to them);
* 部门: facts of the departments in 适用范围, per department (subject = 部门编号);
* 个人: facts of the people in 适用范围, per person (subject = 工号).

Rules, by KPI code (the codes of the seeded KPI指标 rows; a renamed code falls back to the
name). ``as_of`` is the cut-off for "done" (the job passes the cycle's due date), so rerunning
a closed cycle later gives the same numbers:

* K-ONTIME 按时交付率 — activities closed (结项时间) in the period; on time when closed on or
  before their 结束日期 (the issue's definition: closed by end date / closed).
* K-DONE 项目完成率 — activities whose 结束日期 falls in the period, past 立项申请; done when
  closed (结项时间) by ``as_of``.
* K-COST 成本控制率 — Σ 实际成本 / Σ 预算金额 of the activities closed in the period that have
  both (budget > 0); lower is better. Closed activities missing either are named in the basis.
* K-SAT 客户满意度 — 活动反馈 rows submitted in the period (by the activity's 结束日期 when the
  row has no 提交时间) with a rating; satisfied = 4 or 5 stars (满意/非常满意); the share of
  satisfied answers, attributed to the activity's type, department and owner.
* K-PLAN 计划完成率 — 计划任务 due in the period, not 已取消; done = 已完成 by ``as_of`` (a task
  marked 已完成 without 完成时间 counts as done); department = the plan's 部门.
* K-COLLAB 协作效率 — a stand-in, since no table measures collaboration directly: the share
  of 待办事项 (decisions of coordination meetings, RPT-3/S2 "逾期未执行需追责") due in the
  period, not 已取消, completed on or before their 截止日期; department = the item's 部门, else
  the owner's. Its seeded row is 录入, so it is only used if HR switches it to 计算.

Not computable from the tables (see :data:`NOT_COMPUTABLE`): K-CONV, K-REACH, K-ERR.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from actops.jobs.evaluations.kpi import BY_DEPT, BY_PERSON, BY_TYPE, COMPUTED, Actual, KpiDef
from actops.jobs.evaluations.periods import Period, get, local_date

APPLYING = "立项申请"
DONE, CANCELLED = "已完成", "已取消"
SATISFIED_MIN = 4  # 4 满意, 5 非常满意

NOT_COMPUTABLE = {
    "K-CONV": "客户转化率无法从表中计算：活动和客户表都没有记录客户是否成交（没有订单、签约或转化字段），请按期录入实际值",
    "K-REACH": "内容触达人数无法从表中计算：没有任何表记录触达人数或阅读量，请按期录入实际值",
    "K-ERR": "执行差错率无法从表中计算：没有表同时记录执行事项总数和其中的差错（审计样本的偏差率是审批合规抽样，"
             "问题台账没有分母），请按期录入实际值",
}


@dataclass(frozen=True)
class Fact:
    type: str | None
    department: str | None
    owner: str | None
    num: float
    den: float


@dataclass
class Data:
    """The rows the rules read (records or anything with the same attribute names)."""

    activities: Sequence[Any] = ()
    feedback: Sequence[Any] = ()
    plans: Sequence[Any] = ()
    plan_tasks: Sequence[Any] = ()
    action_items: Sequence[Any] = ()
    department_of: Mapping[str, str] = field(default_factory=dict)  # 工号 → 部门编号

    @cached_property
    def _by_code(self) -> dict[Any, Any]:
        return {get(a, "code"): a for a in self.activities}

    def activity(self, code: str | None) -> Any:
        return self._by_code.get(code)


def _act_fact(a: Any, num: float, den: float = 1.0) -> Fact:
    return Fact(get(a, "type"), get(a, "department"), get(a, "owner"), num, den)


def on_time(data: Data, period: Period, as_of: date) -> tuple[list[Fact], list[str]]:
    facts, skipped = [], []
    for a in data.activities:
        closed = local_date(get(a, "closed_at"))
        if closed not in period:
            continue
        end = get(a, "end_date")
        if end is None:
            skipped.append(str(get(a, "code")))
            continue
        facts.append(_act_fact(a, 1.0 if closed <= end else 0.0))
    return facts, [f"{len(skipped)} 项已结项活动没有结束日期，未计入（{'、'.join(skipped[:5])}）"] if skipped else []


def completion(data: Data, period: Period, as_of: date) -> tuple[list[Fact], list[str]]:
    facts = []
    for a in data.activities:
        if get(a, "end_date") not in period or get(a, "stage") == APPLYING:
            continue
        closed = local_date(get(a, "closed_at"))
        facts.append(_act_fact(a, 1.0 if closed is not None and closed <= as_of else 0.0))
    return facts, []


def cost(data: Data, period: Period, as_of: date) -> tuple[list[Fact], list[str]]:
    facts, skipped = [], []
    for a in data.activities:
        if local_date(get(a, "closed_at")) not in period:
            continue
        budget, spent = get(a, "budget"), get(a, "actual_cost")
        if not budget or budget <= 0 or spent is None:
            skipped.append(str(get(a, "code")))
            continue
        facts.append(_act_fact(a, float(spent), float(budget)))
    return facts, [f"{len(skipped)} 项已结项活动缺预算金额或实际成本，未计入（{'、'.join(skipped[:5])}）"] if skipped else []


def satisfaction(data: Data, period: Period, as_of: date) -> tuple[list[Fact], list[str]]:
    facts = []
    for f in data.feedback:
        rating, a = get(f, "satisfaction"), data.activity(get(f, "activity"))
        if rating is None or a is None:
            continue
        when = local_date(get(f, "submitted_at")) or get(a, "end_date")
        if when in period:
            facts.append(_act_fact(a, 1.0 if rating >= SATISFIED_MIN else 0.0))
    return facts, []


def plan_completion(data: Data, period: Period, as_of: date) -> tuple[list[Fact], list[str]]:
    dept_of_plan = {get(p, "code"): get(p, "department") for p in data.plans}
    facts = []
    for t in data.plan_tasks:
        if get(t, "due_date") not in period or get(t, "status") == CANCELLED:
            continue
        done_at = local_date(get(t, "done_at"))
        done = get(t, "status") == DONE and (done_at is None or done_at <= as_of)
        owner = get(t, "owner")
        dept = dept_of_plan.get(get(t, "plan")) or data.department_of.get(owner)
        facts.append(Fact(None, dept, owner, 1.0 if done else 0.0, 1.0))
    return facts, []


def collaboration(data: Data, period: Period, as_of: date) -> tuple[list[Fact], list[str]]:
    facts = []
    for i in data.action_items:
        due = get(i, "due_date")
        if due not in period or get(i, "status") == CANCELLED:
            continue
        done_at = local_date(get(i, "done_at"))
        ok = get(i, "status") == DONE and done_at is not None and done_at <= due
        owner, a = get(i, "owner"), data.activity(get(i, "activity"))
        dept = get(i, "department") or data.department_of.get(owner)
        facts.append(Fact(get(a, "type") if a is not None else None, dept, owner, 1.0 if ok else 0.0, 1.0))
    return facts, []


Rule = Callable[[Data, Period, date], tuple[list[Fact], list[str]]]
Words = Callable[[float, float], str]


def _count(what: str) -> Words:
    return lambda num, den: f"{num:g}/{den:g} {what}"


RULES: dict[str, tuple[Rule, Words]] = {
    "K-ONTIME": (on_time, _count("项已结项活动在结束日期前结项")),
    "K-DONE": (completion, _count("项本期结束的活动已结项")),
    "K-COST": (cost, lambda n, d: f"实际成本 {n:,.2f} 元 / 预算 {d:,.2f} 元"),
    "K-SAT": (satisfaction, _count("份反馈为满意（4–5 星）")),
    "K-PLAN": (plan_completion, _count("项本期到期的计划任务已完成")),
    "K-COLLAB": (collaboration, _count("项本期到期的待办事项按期完成")),
}
# The operations tables each rule reads (activities named by feedback or items come with them).
READS: dict[str, tuple[str, ...]] = {
    "K-ONTIME": ("activities",), "K-DONE": ("activities",), "K-COST": ("activities",), "K-SAT": ("feedback",),
    "K-PLAN": ("plan_tasks", "plans"), "K-COLLAB": ("action_items",),
}
BY_NAME = {"按时交付率": "K-ONTIME", "项目完成率": "K-DONE", "成本控制率": "K-COST", "客户满意度": "K-SAT",
           "计划完成率": "K-PLAN", "协作效率": "K-COLLAB", "客户转化率": "K-CONV", "内容触达人数": "K-REACH",
           "执行差错率": "K-ERR"}


def rule_code(defn: KpiDef) -> str | None:
    """The rule a definition uses: by its code, else by its name."""
    for c in (defn.code, BY_NAME.get(defn.name)):
        if c in RULES or c in NOT_COMPUTABLE:
            return c
    return None


def why_not(defn: KpiDef) -> str | None:
    """None when the definition can be computed, else why not (for the report)."""
    code = rule_code(defn)
    if code in RULES:
        return None
    if code in NOT_COMPUTABLE:
        return NOT_COMPUTABLE[code]
    return f"指标 {defn.code} {defn.name} 没有对应的计算规则；请把「数据来源」改为 录入 并按期录入实际值"


def subject(defn: KpiDef, fact: Fact) -> str | None:
    """Whose result a fact counts towards under ``defn``, or None when outside its scope."""
    if defn.applies_to == BY_TYPE:
        return fact.owner if defn.covers(fact.type) else None
    if defn.applies_to == BY_DEPT:
        return fact.department if defn.covers(fact.department) else None
    if defn.applies_to == BY_PERSON:
        return fact.owner if defn.covers(fact.owner) else None
    return None


def actuals(defn: KpiDef, data: Data, period: Period, as_of: date) -> dict[str, Actual]:
    """Computed actual per subject; subjects without any fact are absent (no data).
    Raises KeyError for a definition :func:`why_not` refuses."""
    code = rule_code(defn)
    if code not in RULES:
        raise KeyError(defn.code)
    rule, words = RULES[code]
    facts, notes = rule(data, period, as_of)
    sums: dict[str, list[float]] = {}
    for f in facts:
        who = subject(defn, f)
        if who:
            s = sums.setdefault(who, [0.0, 0.0])
            s[0] += f.num
            s[1] += f.den
    tail = f"；{'；'.join(notes)}" if notes else ""
    return {who: Actual(n, d, words(n, d) + tail) for who, (n, d) in sorted(sums.items())}


def subjects_in_scope(defn: KpiDef, departments: Iterable[str], people: Iterable[str]) -> list[str]:
    """Who must have a result for a 部门 or 个人 definition (so "no data" can be reported);
    活动类型 definitions apply only to the people with such activities."""
    if defn.applies_to == BY_DEPT:
        return sorted(d for d in departments if defn.covers(d))
    if defn.applies_to == BY_PERSON:
        return sorted(p for p in people if defn.covers(p))
    return []


def tables_read(defs: Iterable[KpiDef]) -> set[str]:
    """The operations tables the active computed definitions among ``defs`` read: a KPI typed by
    hand (录入), like the seeded 协作效率, or switched off reads nothing."""
    return {t for d in defs if d.active and d.source == COMPUTED and (c := rule_code(d)) in RULES for t in READS[c]}
