"""Budget watch as pure rules (FIN-1..3): no I/O, no clock.

* 已用金额 of a budget line is the sum of the 已批准 and 已支付 expenses of the same activity
  and category, in cents (so 0.1 + 0.2 is 0.30, not 0.30000000000000004);
* 预警 is 正常 below ``budget_warn_ratio`` of the line, 预警 from it, 超支 from 100 % (a line
  used up exactly is 超支: the alert "at 100 %" is the 超支 alert);
* an alert goes out when a line's level rises above the 预警 the job last wrote: only the
  highest threshold reached (a line that jumps from 正常 to 超支 gets one 超支 alert, not two);
  a line that falls back (an expense corrected) is told nothing, and when it rises again the
  message key (line + threshold) is the one already in the outbox, so nothing is resent;
* at closing the variance per category is written to the activity once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

OK, WARN, OVER = "正常", "预警", "超支"
RANK = {None: 0, OK: 0, WARN: 1, OVER: 2}
COUNTED = ("已批准", "已支付")
CLOSING_STAGES = ("结项验收", "归档")
NO_ALERT_STAGES = ("归档",)  # archived: lines are kept current, nobody is alerted any more
CATEGORIES = ("策划", "场地", "设备", "物资", "人员", "餐饮", "交通", "宣传")


@dataclass(frozen=True)
class Finding:
    """A problem with one row, by field name (the job words the table and field in Chinese)."""

    row_id: int | None
    field: str
    value: Any
    why: str


class Spent(NamedTuple):
    """What these rules take from an expense: a million of these fit in memory, a million
    validated records do not (a full read folds each page into these, OPS-4)."""

    Id: int
    activity: Any
    category: Any
    amount: float | None
    status: Any


def spent(rows: Iterable[Any]) -> list[Spent]:
    return [Spent(r.Id, _shared(r.activity), _shared(r.category), r.amount, _shared(r.status)) for r in rows]


def _shared(v: Any) -> Any:
    """One string object per distinct value (a million expenses name 20,000 activities)."""
    return sys.intern(v) if isinstance(v, str) else v


@dataclass
class LineVerdict:
    line: Any
    spent: float  # yuan, two decimals
    level: str
    changes: dict[str, Any] = field(default_factory=dict)  # 已用金额 / 预警 when they differ
    alert: str | None = None  # WARN or OVER: the threshold this run tells people about


def cents(amount: float | None) -> int:
    return round((amount or 0) * 100)


def yuan(c: int) -> float:
    return c / 100


def level_of(spent_c: int, amount_c: int, ratio: float) -> str:
    """正常 / 预警 / 超支 of a line with ``spent_c`` of ``amount_c`` cents used."""
    if amount_c <= 0:
        return OVER if spent_c > 0 else OK
    if spent_c >= amount_c:
        return OVER
    if spent_c >= round(amount_c * ratio):
        return WARN
    return OK


def spent_by_key(expenses: Iterable[Any], activities: set[str],
                 lines: set[tuple[str, str]]) -> tuple[dict[tuple[str, str], int], list[Finding]]:
    """Cents per (activity, category) of the counted expenses, and the expenses not counted:
    an unknown activity (skipped) or a category the activity has no line for (counted in the
    activity's variance, told on its row)."""
    sums: dict[tuple[str, str], int] = {}
    found = []
    for e in expenses:
        if e.status not in COUNTED:
            continue
        if e.activity not in activities:
            found.append(Finding(e.Id, "activity", e.activity,
                                 f"活动 {e.activity} 不存在，这笔费用未计入任何预算科目；请选择正确的活动"))
            continue
        key = (e.activity, e.category)
        sums[key] = sums.get(key, 0) + cents(e.amount)
        if key not in lines:
            found.append(Finding(e.Id, "category", e.category,
                                 f"活动 {e.activity} 没有「{e.category}」科目的预算，这笔费用未计入任何预算科目；"
                                 "请改为已有的科目，或请财务补充该科目的预算"))
    return sums, found


def ambiguous_lines(lines: Iterable[Any]) -> tuple[set[tuple[str, str]], list[Finding]]:
    """(activity, category) pairs that two or more lines claim: which one the expenses fill
    cannot be told, so neither is written (REL-2)."""
    ids: dict[tuple[str, str], list[int]] = {}
    for ln in lines:
        ids.setdefault((ln.activity, ln.category), []).append(ln.Id)
    bad = {k for k, v in ids.items() if len(v) > 1}
    found = [Finding(rid, "category", k[1],
                     f"活动 {k[0]} 的「{k[1]}」科目有 {len(ids[k])} 行（第 {'、'.join(str(i) for i in ids[k])} 行），"
                     "无法确定费用计入哪一行，已用金额暂不更新；请合并为一行")
             for k in sorted(bad) for rid in ids[k]]
    return bad, found


def judge_line(line: Any, spent_c: int, ratio: float, alerts: bool = True) -> LineVerdict:
    """The line's new 已用金额 and 预警, what to write, and the alert to send (if any)."""
    level = level_of(spent_c, cents(line.amount), ratio)
    v = LineVerdict(line, yuan(spent_c), level)
    if line.spent is None or cents(line.spent) != spent_c:
        v.changes["spent"] = yuan(spent_c)
    if line.warn_level != level:
        v.changes["warn_level"] = level
    if alerts and RANK[level] > RANK.get(line.warn_level, 0):
        v.alert = level
    return v


def is_closing(stage: str | None, closed_at: Any) -> bool:
    return stage in CLOSING_STAGES or bool(closed_at)


def variance(budget_c: Mapping[str, int], actual_c: Mapping[str, int]) -> str:
    """预算差异 text: one line per category with a budget or an actual, then the total.

    差异 = 实际 − 预算 (positive: over budget); the percentage is of the budget."""
    cats = [c for c in CATEGORIES if c in budget_c or c in actual_c]
    cats += sorted(c for c in {*budget_c, *actual_c} if c not in CATEGORIES)
    out = [_variance_line(c, budget_c.get(c, 0), actual_c.get(c, 0)) for c in cats]
    out.append(_variance_line("合计", sum(budget_c.values()), sum(actual_c.values())))
    return "\n".join(out)


def _variance_line(name: str, b: int, a: int) -> str:
    d = a - b
    pct = f"{d / b * 100:+.1f}%" if b else "无预算"
    return f"{name}：预算 {_money(b)} 元，实际 {_money(a)} 元，差异 {_money(d, sign=True)} 元（{pct}）"


def _money(c: int, sign: bool = False) -> str:
    text = f"{abs(c) / 100:,.2f}"
    if sign:
        return ("+" if c > 0 else "-" if c < 0 else "") + text
    return ("-" if c < 0 else "") + text


def closing_variance(lines: Iterable[Any], sums: Mapping[tuple[str, str], int], activity: str) -> str:
    """The variance of ``activity`` from all its lines (budgets of one category added up)
    and its counted expenses."""
    budget: dict[str, int] = {}
    for ln in lines:
        if ln.activity == activity:
            budget[ln.category] = budget.get(ln.category, 0) + cents(ln.amount)
    actual = {cat: c for (act, cat), c in sums.items() if act == activity}
    return variance(budget, actual)
