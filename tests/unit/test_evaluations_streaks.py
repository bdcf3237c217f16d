"""Streak edges and the evaluator's flags (EVA-6, RPT-1)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from actops.jobs.evaluations.periods import parse_period
from actops.jobs.evaluations.streaks import evaluator_flags, met_target, streak_flags, trailing

Q3 = parse_period("2026-Q3")


@pytest.mark.req("EVA-6")
def test_a_quarter_meets_its_target_at_100():
    assert (met_target(100.0), met_target(99.99), met_target(120), met_target(None)) == (True, False, True, None)


@pytest.mark.req("EVA-6")
@pytest.mark.parametrize("outcomes, met", [
    ({"2026-Q2": True, "2026-Q3": True}, 2),  # exactly N = 2
    ({"2026-Q3": True}, 1),  # N − 1
    ({"2026-Q1": True, "2026-Q3": True}, 1),  # Q2 missing: a gap breaks it
    ({"2026-Q1": True, "2026-Q2": None, "2026-Q3": True}, 1),  # Q2 without KPI score: a gap too
    ({"2026-Q1": True, "2026-Q2": False, "2026-Q3": True}, 1),  # a failed quarter breaks it
    ({"2025-Q4": True, "2026-Q1": True, "2026-Q2": True, "2026-Q3": True}, 4),  # across a year
    ({"2026-Q2": True, "2026-Q3": None}, 0),  # the current quarter itself has no score
])
def test_met_streak_edges(outcomes, met):
    assert trailing(outcomes, Q3, True) == met
    flags = streak_flags(outcomes, Q3, reward_streak=2, fail_streak=2)
    assert any("符合海外培训奖励条件" in f for f in flags) == (met >= 2)


@pytest.mark.req("EVA-6")
def test_fail_streak_edges():
    two = {"2026-Q2": False, "2026-Q3": False}
    assert trailing(two, Q3, False) == 2
    assert streak_flags(two, Q3, 2, 2) == ["连续 2 个季度未达标（上限 2 个季度）：须安排培训或调岗（EVA-6）"]
    assert streak_flags({"2026-Q3": False}, Q3, 2, 2) == []  # N − 1
    assert streak_flags({"2026-Q1": False, "2026-Q3": False}, Q3, 2, 2) == []  # gap
    assert streak_flags(two, Q3, 2, 3) == []  # fail_streak 3: two is not enough
    # across a year: 2025-Q4, 2026-Q1 failed → 2
    assert trailing({"2025-Q4": False, "2026-Q1": False}, parse_period("2026-Q1"), False) == 2
    with pytest.raises(ValueError):
        trailing(two, parse_period("2026-09"), False)


@pytest.mark.req("EVA-6", "RPT-1", "AUD-5")
def test_late_reports_and_fraud_findings_are_shown_to_the_evaluator():
    findings = [NS(code="F-2", cycle="2026-Q2", severity="严重", description="伪造签到表", fraud=True),
                NS(code="F-1", cycle="2026-Q2", severity="低", description="票据缺失", fraud=False)]
    flags = evaluator_flags(3, 3, findings)  # exactly the limit
    assert flags == ["连续逾期提交报告 3 次（达到 3 次，RPT-1），请在考评中关注",
                     "审计发现 F-2（审计周期 2026-Q2，严重）：数据造假 — 伪造签到表（AUD-5）"]
    assert evaluator_flags(2, 3, findings[1:]) == []  # one below the limit, no fraud
