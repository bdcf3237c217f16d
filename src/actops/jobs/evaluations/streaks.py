"""Streaks and the flags shown to the evaluator (EVA-6, RPT-1, AUD-5): pure, no I/O, no clock.

* A quarter is **met** (达标) when the person's KPI part of that quarter's 季度考评 is at
  least 100 — weighted attainment of their KPI targets ≥ 100 % — and **failed** (未达标) when
  it is below 100. A quarter without a KPI score (no evaluation row, or no KPI data) is
  neither: it is a gap, and a gap breaks both streaks.
* A streak counts consecutive calendar quarters ending at the quarter being evaluated.
  ``reward_streak`` met quarters in a row (exactly N or more) → eligible for the training
  reward (海外培训, S0); ``fail_streak`` failed quarters in a row → training or reassignment
  (S2). The flag is shown every quarter the streak holds; HR decides whether it was already
  acted on (the row says how long the streak is).
* ``late_streak_limit`` consecutive late reports (RPT-1) and data-fraud audit findings
  (AUD-5, 审计发现 with 数据造假 ticked, owner = the person) are shown too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from actops.jobs.evaluations.periods import QUARTER, Period, get

TARGET_SCORE = 100.0


def met_target(kpi_score: float | None) -> bool | None:
    """Whether a quarter met its target (None: no KPI score, a gap)."""
    return None if kpi_score is None else kpi_score >= TARGET_SCORE


def trailing(outcomes: Mapping[str, bool | None], current: Period, want: bool) -> int:
    """Consecutive quarters ending at ``current`` whose outcome is ``want``
    (``outcomes``: quarter code such as "2026-Q3" → met / failed / None)."""
    if current.kind != QUARTER:
        raise ValueError(f"streaks count quarters, not {current.code}")
    n, q = 0, current
    while outcomes.get(q.code) is want:
        n += 1
        q = q.previous()
    return n


def streak_flags(outcomes: Mapping[str, bool | None], current: Period, reward_streak: int,
                 fail_streak: int) -> list[str]:
    met, failed = trailing(outcomes, current, True), trailing(outcomes, current, False)
    out = []
    if met >= reward_streak:
        out.append(f"连续 {met} 个季度达标（奖励条件：连续 {reward_streak} 个季度）：符合海外培训奖励条件（EVA-6）")
    if failed >= fail_streak:
        out.append(f"连续 {failed} 个季度未达标（上限 {fail_streak} 个季度）：须安排培训或调岗（EVA-6）")
    return out


def evaluator_flags(late_streak: int, late_streak_limit: int, findings: Iterable[Any]) -> list[str]:
    """Late-report streak and data-fraud findings of one person (``findings``: their 审计发现 rows)."""
    out = []
    if late_streak >= late_streak_limit:
        out.append(f"连续逾期提交报告 {late_streak} 次（达到 {late_streak_limit} 次，RPT-1），请在考评中关注")
    for f in sorted(findings, key=lambda f: str(get(f, "code", ""))):
        if get(f, "fraud"):
            what = str(get(f, "description", "")).strip().replace("\n", " ")[:40]
            out.append(f"审计发现 {get(f, 'code')}（审计周期 {get(f, 'cycle', '—')}，{get(f, 'severity', '—')}）："
                       f"数据造假 — {what}（AUD-5）")
    return out
