"""Each person's KPI part of a cycle (KPI-1, KPI-2, EVA-3): pure, no I/O, no clock.

For every active definition: the computed actuals (数据来源 计算, when a rule exists), the
actuals people entered in KPI实绩 for the period (they override), and a :class:`KpiScore`
per subject. A subject the definition must cover (a department in its scope, a person in
its scope) without any actual is "no score", reported in :attr:`KpiOutcome.warnings`.

A person's KPI part combines the definitions that apply to them (:func:`.kpi.combine`):
个人 → their own result; 部门 → their department's result; 活动类型 → their own result over
the activities of those types they own (none → the definition does not apply to them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from actops.jobs.evaluations.actuals import Data, actuals, subjects_in_scope, why_not
from actops.jobs.evaluations.kpi import (
    BY_DEPT,
    COMPUTED,
    Combined,
    KpiDef,
    KpiScore,
    combine,
    evaluate,
)
from actops.jobs.evaluations.periods import Period

MAX_LISTED = 10


@dataclass
class KpiOutcome:
    people: dict[str, Combined] = field(default_factory=dict)  # 工号 → KPI part
    results: dict[tuple[str, str], KpiScore] = field(default_factory=dict)  # (KPI code, subject) → score
    warnings: list[str] = field(default_factory=list)


def kpi_for_people(defs: Iterable[KpiDef], data: Data, period: Period, as_of: date,
                   manual: Mapping[tuple[str, str], float], people: Sequence[tuple[str, str | None]],
                   cap: float) -> KpiOutcome:
    """``people``: (工号, 部门编号) of everyone evaluated; ``manual``: (KPI code, subject) →
    the actual entered for ``period``."""
    out = KpiOutcome()
    active = [d for d in defs if d.active]
    depts = sorted({d for _, d in people if d})
    codes = [c for c, _ in people]
    for d in active:
        computed = {}
        if d.source == COMPUTED:
            why = why_not(d)
            if why is None:
                computed = actuals(d, data, period, as_of)
            else:
                out.warnings.append(f"{d.code} {d.name}（数据来源：计算）：{why}")
        entered = {s: v for (c, s), v in manual.items() if c == d.code}
        subjects = set(subjects_in_scope(d, depts, codes)) | set(computed) | set(entered)
        for s in sorted(subjects):
            out.results[(d.code, s)] = evaluate(d, computed.get(s), entered.get(s), cap)
        empty = sorted(s for s in subjects if not out.results[(d.code, s)].scored)
        if empty:
            more = "等" if len(empty) > MAX_LISTED else ""
            out.warnings.append(f"{d.code} {d.name}：{len(empty)} 个考核对象 {period.code} 无数据，不评分（不按 0 分计）："
                                f"{'、'.join(empty[:MAX_LISTED])}{more}")
    for code, dept in people:
        pairs = []
        for d in active:
            r = out.results.get((d.code, dept if d.applies_to == BY_DEPT else code))
            if r is not None and (d.applies_to != BY_DEPT or dept):
                pairs.append((d, r))
        out.people[code] = combine(pairs)
    return out
