"""A drawn cycle's verdict once its checklist is done (issue 11 item 6): pure.

**Done.** A 审计样本 row is done when 已检查 is ticked and, if 存在偏差 is ticked too, 问题描述 says
what the deviation is (a deviation nobody described cannot become a finding, nor be reported).
The cycle is done when it has rows and every one is done. 审定金额 is not required: a 费用
deviation left without it counts as wholly misstated (:func:`.evaluate.monetary` names it).

**What is projected.** Per kind, the rows drawn at random (随机抽样) or by monetary unit
(金额单位抽样) are the statistical sample, evaluated by the method and parameters stored in
抽样参数 when it was drawn (AUD-4): attribute sampling by :func:`.evaluate.attribute` at the
cycle's confidence, tolerable rate and model (the hypergeometric model with that kind's stored
population); monetary-unit sampling by :func:`.evaluate.monetary` with the stored interval and
tolerable misstatement = tolerable rate × book value (as it was planned). When the sample is
the whole population (a small one), the attribute figures are exact: the hypergeometric model
with n = N gives the upper limit k / N whatever model was chosen. Rows examined in full
(AUD-3) are counted apart and never projected.

**The cycle's figures.** 偏差率 and 偏差上限 hold the attribute kind with the highest upper
deviation limit (the control closest to failing); every kind's figures are in 审计结论. The
overall conclusion is "can be relied on" only when every evaluated kind's is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actops.jobs.audit import draw, evaluate

SAMPLED = (draw.RANDOM, draw.MONETARY)
KIND_ORDER = tuple(draw.KIND_ZH[k] for k in (*draw.KINDS, draw.RECHECK_KIND))
METHOD_ZH = {"attribute": "属性抽样", "mus": "金额单位抽样", "none": "未抽样"}
MODEL_ZH = {"binomial": "二项分布", "hypergeometric": "超几何分布", "poisson": "泊松分布"}
CENSUS = "总体全部检查，按超几何分布精确计算，无抽样风险"


class RecordError(ValueError):
    """抽样参数 cannot be read back: the cycle cannot be evaluated as it was drawn."""


@dataclass(frozen=True)
class Row:
    """One 审计样本 row as the auditor left it."""

    code: str
    kind: str  # 审批 / 费用 / 活动 / 整改复查
    item: str
    department: str | None = None
    amount: float | None = None
    reason: str | None = None
    checked: bool = False
    deviation: bool = False
    audited: float | None = None
    finding: str = ""
    severity: str | None = None
    row_id: int | None = None

    @property
    def sampled(self) -> bool:
        return self.reason in SAMPLED

    @property
    def described(self) -> bool:
        return bool(self.finding.strip())

    @property
    def done(self) -> bool:
        return self.checked and (not self.deviation or self.described)


@dataclass(frozen=True)
class KindVerdict:
    kind: str  # zh
    method: str  # attribute / mus / none
    population: int
    result: evaluate.AttributeResult | evaluate.MusResult | None
    note: str = ""

    @property
    def acceptable(self) -> bool | None:
        return None if self.result is None else self.result.acceptable

    @property
    def text(self) -> str:
        if self.result is None:
            return self.note or "本期无抽样样本，不作推断"
        return self.result.conclusion + (f"（{self.note}）" if self.note == CENSUS else "")


@dataclass(frozen=True)
class InFull:
    kind: str
    examined: int
    deviations: int


@dataclass
class Verdict:
    kinds: list[KindVerdict]
    in_full: list[InFull]
    binding: KindVerdict | None = None  # the attribute kind with the highest upper limit
    failing: list[str] = field(default_factory=list)  # kinds that cannot be relied on

    @property
    def acceptable(self) -> bool:
        return not self.failing

    @property
    def deviation_rate(self) -> float | None:
        r = self.binding.result if self.binding else None
        return round(r.rate, 4) if isinstance(r, evaluate.AttributeResult) else None

    @property
    def upper_limit(self) -> float | None:
        r = self.binding.result if self.binding else None
        return round(r.upper, 4) if isinstance(r, evaluate.AttributeResult) else None

    @property
    def overall(self) -> str:
        if self.failing:
            return f"总体结论：{'、'.join(self.failing)}的控制不能信赖，须扩大检查范围或作为控制缺陷整改。"
        if not any(k.result for k in self.kinds):
            return "总体结论：本期没有可作统计推断的样本，仅对全部检查的事项得出结论。"
        return "总体结论：抽样检查的控制执行有效，可以信赖。"

    def conclusion(self, findings: int = 0, fraud: int = 0) -> str:
        """The text for 审计结论."""
        lines = [self.overall]
        for k in self.kinds:
            lines.append(f"{k.kind}（{METHOD_ZH.get(k.method, k.method)}，总体 {k.population}）：{k.text}")
        for f in self.in_full:
            lines.append(f"{f.kind}（全部检查）：检查 {f.examined} 项，偏差 {f.deviations} 项；不推断总体，偏差另列为审计发现。")
        lines.append(f"审计发现：{findings} 项" + (f"，其中数据造假 {fraud} 项" if fraud else "") + "。")
        return "\n".join(lines)


def read_record(text: str | None) -> dict[str, Any]:
    """抽样参数 as the drawing run wrote it."""
    try:
        record = json.loads(text or "")
        params, kinds = record["params"], record["kinds"]
        float(params["confidence"]), float(params["tolerable_rate"])
    except (ValueError, TypeError, KeyError) as exc:
        raise RecordError(f"「抽样参数」无法读取（{type(exc).__name__}），无法按抽样时的参数评价；"
                          "请将状态改回 待抽样 重新抽样（已有样本行保留）") from None
    if not isinstance(kinds, dict):
        raise RecordError("「抽样参数」中缺少各类事项的抽样记录；请将状态改回 待抽样 重新抽样")
    return record


def pending(rows: Sequence[Row]) -> list[Row]:
    """Rows not done yet (all of them when there are none: nothing to conclude on)."""
    return [r for r in rows if not r.done]


def verdict(record: Mapping[str, Any], rows: Sequence[Row]) -> Verdict:
    """The verdict of a done cycle (``rows``: all its 审计样本 rows, every one done)."""
    left = pending(rows)
    if left or not rows:
        raise ValueError(f"{len(left)} rows are not done" if rows else "no rows")
    p = record["params"]
    confidence, tolerable = float(p["confidence"]), float(p["tolerable_rate"])
    model = str(p.get("model") or "binomial")
    out = Verdict([], [])
    kinds: Mapping[str, Any] = record["kinds"]
    for kind in sorted(kinds, key=_order):
        plan = kinds[kind]
        method, population = str(plan.get("method", "none")), int(plan.get("population", 0))
        sample = [r for r in rows if r.kind == kind and r.sampled]
        outcomes = [evaluate.Outcome(r.code, r.checked, r.deviation, r.amount, r.audited) for r in sample]
        result: Any = None
        note = str(plan.get("note", ""))
        if not sample:
            note = note or "本期无抽样样本，不作推断"
        elif method == "mus":
            book = float(plan["book_value"])
            result = evaluate.monetary(outcomes, float(plan["interval"]), confidence, tolerable * book)
        elif method == "attribute":
            census = 0 < population <= len(sample)  # every item examined: no sampling risk
            result = evaluate.attribute(outcomes, confidence, tolerable, "hypergeometric" if census else model,
                                        population)
            note = CENSUS if census else note
        out.kinds.append(KindVerdict(kind, method, population, result, note))
    for kind in sorted({r.kind for r in rows if not r.sampled}, key=_order):
        examined, deviations = evaluate.in_full([evaluate.Outcome(r.code, r.checked, r.deviation)
                                                 for r in rows if r.kind == kind and not r.sampled])
        out.in_full.append(InFull(kind, examined, deviations))
    attribute = [k for k in out.kinds if isinstance(k.result, evaluate.AttributeResult)]
    out.binding = max(attribute, key=lambda k: k.result.upper, default=None)  # type: ignore[union-attr]
    out.failing = [k.kind for k in out.kinds if k.acceptable is False]
    return out


def _order(kind: str) -> tuple[int, str]:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)
