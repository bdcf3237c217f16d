"""KPI attainment and score (KPI-1, KPI-2): pure, no I/O, no clock.

A KPI definition row (KPI指标) says everything this module needs:

* **direction** — the row's 方向: 越高越好 → attainment = actual / target; 越低越好 (cost
  control, execution error rate) → *inverted*, attainment = target / actual. That select is
  the only marker; nothing is guessed from the name or unit.
* **score** — linear: 100 × attainment, capped at 100 × ``kpi_score_cap`` (120 by default).
  A lower-is-better actual of 0 (no errors at all) is the best possible and scores the cap.
* **manual actual** — a value a person entered for the KPI, period and subject wins over
  the computed one, and the note says so (and what the computation gave).
* **no data** — no actual, neither computed nor entered: *no score*, with a note saying
  so; never 0. :func:`combine` then leaves that KPI out of the person's KPI part and says
  which ones it left out; when none is left the KPI part itself is missing (EVA-3 rule).

Actuals computed from the tables are in :mod:`.actuals`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from actops.jobs.evaluations.periods import get, round_half_up

HIGHER, LOWER = "越高越好", "越低越好"
COMPUTED, ENTERED = "计算", "录入"
BY_TYPE, BY_DEPT, BY_PERSON = "活动类型", "部门", "个人"
ALL = "*"
_SPLIT = str.maketrans({"，": ",", "、": ",", ";": ",", "；": ",", " ": ","})


@dataclass(frozen=True)
class KpiDef:
    code: str
    name: str
    direction: str
    weight: float
    target: float
    applies_to: str
    scope: str = ALL
    source: str = COMPUTED
    active: bool = True

    @property
    def inverted(self) -> bool:
        """Lower is better (方向 = 越低越好): attainment is target / actual."""
        return self.direction == LOWER

    @property
    def scopes(self) -> frozenset[str]:
        """What 适用范围 names (activity types, department codes or 工号); empty = all.
        Several may be written with commas; a blank scope means all, like ``*``."""
        parts = {p.strip() for p in (self.scope or "").translate(_SPLIT).split(",") if p.strip()}
        return frozenset() if not parts or ALL in parts else frozenset(parts)

    def covers(self, value: str | None) -> bool:
        return not self.scopes or (value is not None and value in self.scopes)

    @classmethod
    def from_row(cls, row: Any) -> KpiDef:
        return cls(code=str(get(row, "code", "")), name=str(get(row, "name", "")),
                   direction=get(row, "direction", HIGHER), weight=float(get(row, "weight", 0.0)),
                   target=float(get(row, "target", 0.0)), applies_to=get(row, "applies_to", BY_DEPT),
                   scope=get(row, "scope", ALL), source=get(row, "source", COMPUTED),
                   active=bool(get(row, "active", True)))


@dataclass(frozen=True)
class Actual:
    """A computed actual: num / den, and in words how it was found."""

    num: float
    den: float
    basis: str

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None


@dataclass(frozen=True)
class KpiScore:
    actual: float | None
    attainment: float | None  # 1 = 100 %
    score: float | None  # 0 … 100 × cap
    source: str | None  # ENTERED, COMPUTED, or None when there is no data
    note: str
    computed: float | None = None  # what the tables gave, even when an entered actual overrides it

    @property
    def scored(self) -> bool:
        return self.score is not None


def attainment(actual: float, target: float, inverted: bool, cap: float) -> tuple[float | None, str]:
    """Attainment (1 = 100 %), or None with the reason it cannot be computed."""
    if not (math.isfinite(actual) and math.isfinite(target)) or actual < 0 or target < 0:
        return None, f"实际值 {actual:g} 或目标值 {target:g} 为负数或无效，无法计算达成率"
    if inverted:
        if actual == 0:
            return cap, "实际值为 0（越低越好），按封顶计"
        return target / actual, ""
    if target == 0:
        return None, "目标值为 0，无法计算达成率（越高越好的指标须有大于 0 的目标值）"
    return actual / target, ""


def linear_score(att: float, cap: float) -> float:
    """100 × attainment, capped at 100 × cap (cap 1.2 → at most 120)."""
    return round_half_up(100 * min(att, cap), 2)


def evaluate(defn: KpiDef, computed: Actual | None, manual: float | None, cap: float) -> KpiScore:
    """The KPI's score for one subject and period.

    ``manual`` is an actual a person entered (it overrides ``computed``); ``computed`` is
    what :mod:`.actuals` found, None when the tables hold nothing for the subject.
    """
    calc = computed.value if computed is not None else None
    if manual is not None:
        actual, source = float(manual), ENTERED
        if calc is None:
            note = f"实际值 {actual:g} 为人工录入"
        elif round_half_up(calc, 6) == round_half_up(actual, 6):
            note = f"实际值 {actual:g} 为人工录入，与系统计算值一致"
        else:
            basis = computed.basis if computed is not None else ""
            note = f"人工录入的实际值 {actual:g} 覆盖了系统计算值 {round_half_up(calc, 4):g}（{basis}）"
    elif calc is not None:
        actual, source = calc, COMPUTED
        note = f"系统计算：{computed.basis}" if computed is not None else ""
    else:
        why = computed.basis if computed is not None and computed.basis else "本期没有可计算的数据"
        return KpiScore(None, None, None, None, f"{defn.code} {defn.name}：{why}，不评分（不按 0 分计）")
    att, why = attainment(actual, defn.target, defn.inverted, cap)
    if att is None:
        return KpiScore(actual, None, None, source, f"{note}；{why}，不评分", calc)
    if why:
        note = f"{note}；{why}"
    score = linear_score(att, cap)
    if att > cap:
        note += f"；达成率 {att * 100:.1f}% 超过上限，按 {cap * 100:g}% 封顶"
    return KpiScore(actual, round_half_up(att, 4), score, source, note, calc)


@dataclass(frozen=True)
class Combined:
    score: float | None
    note: str
    used: tuple[str, ...]
    left_out: tuple[str, ...]


def combine(scores: Iterable[tuple[KpiDef, KpiScore]]) -> Combined:
    """One person's KPI part: the weight-averaged score over the KPIs that apply to them and
    have a score; KPIs without data are left out (named in the note), never counted as 0.

    Weights are the definitions' 权重, re-normalised over the KPIs that were scored.
    """
    pairs = list(scores)
    used = [(d, s) for d, s in pairs if s.scored and d.weight > 0]
    left = tuple(d.code for d, s in pairs if not s.scored)
    total = sum(d.weight for d, _ in used)
    if not used or total <= 0:
        why = f"（{'、'.join(left)} 无数据）" if left else "（没有适用的指标）"
        return Combined(None, f"KPI 无得分{why}", (), left)
    value = sum(d.weight * (s.score or 0.0) for d, s in used) / total
    parts = " + ".join(f"{d.code} {s.score:g}×{d.weight:g}" for d, s in used)
    note = f"KPI = ({parts}) / {total:g} = {round_half_up(value, 2):g}"
    if left:
        note += f"；{'、'.join(left)} 无数据，未计入（不按 0 分计）"
    return Combined(round_half_up(value, 2), note, tuple(d.code for d, _ in used), left)
