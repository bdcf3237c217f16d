"""The composite score (EVA-3): weights, a missing part by the cycle's rule, the quarter's
self score. Every expected number is worked out by hand in the comment above it."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from actops.jobs.evaluations.periods import parse_period
from actops.jobs.evaluations.scoring import (
    HOLD,
    REWEIGHT,
    check_score,
    check_weights,
    composite,
    self_score_over,
    weights_of,
)

W = {"kpi": 0.4, "supervisor": 0.3, "self": 0.1, "judges": 0.2}


@pytest.mark.req("EVA-3")
def test_all_parts_present():
    # 90×0.4 + 80×0.3 + 85×0.1 + 70×0.2 = 36 + 24 + 8.5 + 14 = 82.5
    c = composite({"kpi": 90, "supervisor": 80, "self": 85, "judges": 70}, W, REWEIGHT)
    assert (c.score, c.missing, c.held) == (82.5, (), False)


@pytest.mark.req("EVA-3")
def test_one_part_missing_is_reweighted_over_the_parts_present():
    # self missing: (90×0.4 + 80×0.3 + 70×0.2) / (0.4 + 0.3 + 0.2) = (36 + 24 + 14) / 0.9 = 74 / 0.9 = 82.22
    # (as a silent zero it would be 74.0)
    c = composite({"kpi": 90, "supervisor": 80, "self": None, "judges": 70}, W, REWEIGHT)
    assert (c.score, c.missing, c.held) == (82.22, ("self",), False)
    assert "缺少自评分" in c.note and "/ 0.9 = 82.22" in c.note
    # a blank rule is the field's default, 重新分配权重
    assert composite({"kpi": 90, "supervisor": 80, "self": None, "judges": 70}, W, None).score == 82.22
    # supervisor missing instead: (36 + 8.5 + 14) / 0.7 = 58.5 / 0.7 = 83.5714… → 83.57
    assert composite({"kpi": 90, "supervisor": None, "self": 85, "judges": 70}, W, REWEIGHT).score == 83.57


@pytest.mark.req("EVA-3")
def test_one_part_missing_is_held_when_the_cycle_says_so():
    c = composite({"kpi": 90, "supervisor": 80, "self": None, "judges": 70}, W, HOLD)
    assert (c.score, c.missing, c.held) == (None, ("self",), True)
    assert "缺少自评分" in c.note and "标记待补" in c.note


@pytest.mark.req("EVA-3")
def test_a_part_weighted_zero_is_not_missing():
    w = {"kpi": 0.5, "supervisor": 0.5, "self": 0.0, "judges": 0.0}
    # 90×0.5 + 80×0.5 = 85, held by nothing although self and judges are blank
    c = composite({"kpi": 90, "supervisor": 80, "self": None, "judges": None}, w, HOLD)
    assert (c.score, c.missing, c.held) == (85.0, (), False)


@pytest.mark.req("EVA-3")
def test_nothing_present_is_no_score():
    c = composite({}, W, REWEIGHT)
    assert (c.score, c.held) == (None, True)


@pytest.mark.req("EVA-3")
def test_weights_must_sum_to_one():
    assert check_weights(weights_of(NS(w_kpi=0.4, w_supervisor=0.3, w_self=0.1, w_judges=0.2))) == []
    # 0.4 + 0.3 + 0.1 + 0.3 = 1.1
    [(field, _, why)] = check_weights({"kpi": 0.4, "supervisor": 0.3, "self": 0.1, "judges": 0.3})
    assert field == "KPI权重" and "= 1.1" in why
    assert [p[0] for p in check_weights({"kpi": 0.4, "supervisor": None, "self": 0.1, "judges": 1.5})] == [
        "上级评分权重", "跨部门评委权重"]
    assert check_score(101, "上级评分") and check_score(-1, "上级评分") and check_score(100, "x") is None


@pytest.mark.req("EVA-3")
def test_the_quarters_self_score_skips_a_missing_month():
    q3 = parse_period("2026-Q3")
    # July 80, August missing, September 90 → (80 + 90) / 2 = 85 (with August as 0: 170/3 = 56.67)
    got, note = self_score_over(q3, {"2026-07": 80, "2026-09": 90, "2026-10": 10})
    assert got == 85.0 and "2026-08 未自评" in note and "按 2 个月平均" in note
    # all three: (80 + 75 + 90) / 3 = 81.67
    assert self_score_over(q3, {"2026-07": 80, "2026-08": 75, "2026-09": 90})[0] == 81.67
    assert self_score_over(q3, {"2026-10": 90})[0] is None
