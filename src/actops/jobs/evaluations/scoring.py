"""The composite score of one evaluation row (EVA-3): pure, no I/O, no clock.

Composite = the cycle's weights (KPI权重, 上级评分权重, 自评权重, 跨部门评委权重) over the KPI,
supervisor, self and judges' scores. A part is *missing* when its weight is above 0 and it
has no score; a part weighted 0 is not needed and never counts as missing. A missing part
follows the cycle's 缺项处理, never a silent 0:

* 重新分配权重 (also when the cell is blank: it is the field's default) — the composite is
  the weighted mean over the parts present, i.e. the weights re-normalised to sum to 1;
  the row's note names what was missing and shows the sum;
* 标记待补 — no composite; the row is held and the note says what it waits for.

Weights must each be 0…1 and sum to 1 (± 0.001); otherwise the whole cycle is held with a
message on its row (:func:`check_weights`), because re-normalising a typo would hide it.

The self score of a quarter (or year) is the mean of the monthly self scores in it,
skipping months without one (:func:`self_score_over`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actops.jobs.evaluations.periods import Period, get, round_half_up

KPI, SUPERVISOR, SELF, JUDGES = "kpi", "supervisor", "self", "judges"
PARTS = (KPI, SUPERVISOR, SELF, JUDGES)
LABEL = {KPI: "KPI得分", SUPERVISOR: "上级评分", SELF: "自评分", JUDGES: "评委评分"}
WEIGHT_FIELD = {KPI: "w_kpi", SUPERVISOR: "w_supervisor", SELF: "w_self", JUDGES: "w_judges"}
WEIGHT_ZH = {KPI: "KPI权重", SUPERVISOR: "上级评分权重", SELF: "自评权重", JUDGES: "跨部门评委权重"}
REWEIGHT, HOLD = "重新分配权重", "标记待补"
TOLERANCE = 0.001


def weights_of(cycle: Any) -> dict[str, float | None]:
    return {p: get(cycle, WEIGHT_FIELD[p]) for p in PARTS}


def check_weights(weights: Mapping[str, float | None]) -> list[tuple[str, Any, str]]:
    """Problems with a cycle's weights: (field zh, value, why). Empty when usable."""
    out = []
    for p in PARTS:
        w = weights.get(p)
        if w is None:
            out.append((WEIGHT_ZH[p], None, f"请填写{WEIGHT_ZH[p]}（不参与的一项填 0）"))
        elif not 0 <= w <= 1:
            out.append((WEIGHT_ZH[p], w, f"{WEIGHT_ZH[p]}应在 0 到 1 之间（以小数填写，0.3 即 30%）"))
    if not out:
        total = sum(float(weights[p] or 0) for p in PARTS)
        if abs(total - 1) > TOLERANCE:
            shown = " + ".join(f"{float(weights[p] or 0):g}" for p in PARTS)
            out.append((WEIGHT_ZH[KPI], weights[KPI],
                        f"四项权重合计为 {shown} = {round_half_up(total, 4):g}，应为 1；本周期暂不计算综合得分，请修改权重"))
    return out


def check_score(value: float | None, label: str) -> str | None:
    """Why a typed score cannot be used (outside 0–100), or None."""
    if value is not None and not 0 <= value <= 100:
        return f"{label} {value:g} 超出 0–100 的范围，本项暂不计入；请改为百分制分数"
    return None


@dataclass(frozen=True)
class Composite:
    score: float | None
    note: str
    missing: tuple[str, ...]  # parts (PARTS names) that were missing
    held: bool  # True when the rule (or nothing at all present) keeps the row without a composite


def composite(parts: Mapping[str, float | None], weights: Mapping[str, float], rule: str | None) -> Composite:
    """The composite of one row; ``weights`` must have passed :func:`check_weights`."""
    rule = rule or REWEIGHT
    needed = [p for p in PARTS if float(weights.get(p) or 0) > 0]
    present = [p for p in needed if parts.get(p) is not None]
    missing = tuple(p for p in needed if parts.get(p) is None)
    names = "、".join(LABEL[p] for p in missing)
    if not present:
        return Composite(None, f"{names or '各项得分'}均未填写，暂无综合得分", missing, True)
    if missing and rule == HOLD:
        return Composite(None, f"缺少{names}；按本周期「缺项处理：{HOLD}」暂不计算综合得分，补齐后自动计算", missing, True)
    total = sum(float(weights[p]) for p in present)
    value = sum(float(weights[p]) * float(parts[p] or 0) for p in present) / total
    score = round_half_up(value, 2)
    terms = " + ".join(f"{LABEL[p]} {parts[p]:g}×{float(weights[p]):g}" for p in present)
    if missing:
        note = (f"缺少{names}，按「缺项处理：{REWEIGHT}」在其余各项间重新分配权重："
                f"综合得分 = ({terms}) / {round_half_up(total, 4):g} = {score:g}")
    else:
        note = f"综合得分 = {terms} = {score:g}"
    return Composite(score, note, missing, False)


def self_score_over(period: Period, monthly: Mapping[str, float | None]) -> tuple[float | None, str]:
    """The mean of the monthly self scores in ``period`` ("2026-07" → score), skipping
    months without one; None when no month has one."""
    months = [m.code for m in period.months()]
    have = [(m, monthly[m]) for m in months if monthly.get(m) is not None]
    skipped = [m for m in months if monthly.get(m) is None]
    if not have:
        return None, f"{period.code} 各月均无自评分"
    value = round_half_up(sum(float(v or 0) for _, v in have) / len(have), 2)
    note = f"{period.code} 自评分 = {'、'.join(f'{m} {v:g}' for m, v in have)} 的平均 = {value:g}"
    if skipped:
        note += f"（{'、'.join(skipped)} 未自评，不计入，按 {len(have)} 个月平均）"
    return value, note
