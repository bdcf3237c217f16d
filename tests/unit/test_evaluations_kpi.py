"""KPI attainment and score, and actuals computed from typed rows (KPI-1, KPI-2).

Every expected number is worked out by hand in the comment above it."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace as NS

import pytest

from actops.jobs.evaluations import actuals as A
from actops.jobs.evaluations.kpi import Actual, KpiDef, attainment, combine, evaluate
from actops.jobs.evaluations.periods import parse_period, round_half_up
from actops.kernel.calendar import TZ

CAP = 1.2
Q3 = parse_period("2026-Q3")
AS_OF = date(2026, 10, 10)


def kdef(code="K-X", direction="越高越好", target=0.9, applies_to="部门", scope="*", weight=0.1, name="指标"):
    return KpiDef(code=code, name=name, direction=direction, weight=weight, target=target,
                  applies_to=applies_to, scope=scope)


def at(y, m, d, h=12, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=TZ)


# ------------------------------------------------------------------ attainment and score


@pytest.mark.req("KPI-2")
def test_a_kpi_above_target_is_capped():
    # K-CONV: target 0.30, actual 0.45 → attainment 0.45/0.30 = 1.5 → 150 > cap 120 → 120.
    s = evaluate(kdef("K-CONV", target=0.3), Actual(45, 100, "45/100"), None, CAP)
    assert (s.actual, s.attainment, s.score) == (0.45, 1.5, 120.0)
    assert "封顶" in s.note
    # the same with kpi_score_cap = 130 %: 150 > 130 → 130
    assert evaluate(kdef(target=0.3), Actual(45, 100, "x"), None, 1.3).score == 130.0
    # K-ONTIME: 10/10 against 0.95 → 1/0.95 = 1.052631… → 105.26, below the cap: not capped
    s = evaluate(kdef("K-ONTIME", target=0.95), Actual(10, 10, "10/10"), None, CAP)
    assert (s.attainment, s.score) == (1.0526, 105.26)
    assert "封顶" not in s.note


@pytest.mark.req("KPI-1", "KPI-2")
@pytest.mark.parametrize("actual, att, score", [
    # cost control, target 1.0, lower is better: attainment = target / actual
    (0.9, 1.1111, 111.11),   # 1.0/0.9 = 1.1111… → 111.11
    (1.25, 0.8, 80.0),       # overspent by a quarter: 1.0/1.25 = 0.8 → 80
    (0.8, 1.25, 120.0),      # 1.0/0.8 = 1.25 → the score is capped at 120 (attainment kept as is)
    (1.0, 1.0, 100.0),       # on budget → 100
])
def test_an_inverted_kpi_divides_target_by_actual(actual, att, score):
    s = evaluate(kdef("K-COST", direction="越低越好", target=1.0), None, actual, CAP)
    assert (s.attainment, s.score) == (att, score)


@pytest.mark.req("KPI-2")
def test_error_rate_lower_is_better_and_zero_errors_score_the_cap():
    d = kdef("K-ERR", direction="越低越好", target=0.02)
    # 4 % errors against 2 %: 0.02/0.04 = 0.5 → 50
    assert evaluate(d, None, 0.04, CAP).score == 50.0
    # no errors at all: the best possible → the cap, 120 (no division by zero)
    s = evaluate(d, None, 0.0, CAP)
    assert s.score == 120.0 and "按封顶计" in s.note
    # and the same actual read as higher-is-better would be 0.04/0.02 = 2 → capped 120: the marker matters
    assert evaluate(kdef(target=0.02), None, 0.04, CAP).score == 120.0


@pytest.mark.req("KPI-2")
def test_a_manual_actual_overrides_the_computed_one_and_says_so():
    d = kdef("K-SAT", target=0.9)
    # computed 8/10 = 0.8, entered 0.9 → the 0.9 counts: 0.9/0.9 = 1 → 100
    s = evaluate(d, Actual(8, 10, "8/10 份反馈为满意"), 0.9, CAP)
    assert (s.actual, s.score, s.source) == (0.9, 100.0, "录入")
    assert "人工录入的实际值 0.9 覆盖了系统计算值 0.8" in s.note and "8/10 份反馈为满意" in s.note
    # without the entry the computed 0.8 counts: 0.8/0.9 = 0.8889 → 88.89
    s = evaluate(d, Actual(8, 10, "8/10"), None, CAP)
    assert (s.actual, s.attainment, s.score, s.source) == (0.8, 0.8889, 88.89, "计算")


@pytest.mark.req("KPI-2")
def test_no_data_is_no_score_never_zero():
    d = kdef("K-SAT", name="客户满意度")
    for computed in (None, Actual(0, 0, "")):
        s = evaluate(d, computed, None, CAP)
        assert (s.actual, s.attainment, s.score, s.source) == (None, None, None, None)
        assert "不评分" in s.note and "K-SAT" in s.note
    # a real zero (0 of 3 items on time) is data, and scores 0
    assert evaluate(d, Actual(0, 3, "0/3"), None, CAP).score == 0.0


@pytest.mark.req("KPI-2")
def test_a_target_of_zero_for_higher_is_better_cannot_be_scored():
    assert attainment(5, 0, inverted=False, cap=CAP)[0] is None
    s = evaluate(kdef(target=0), None, 5, CAP)
    assert s.score is None and "目标值为 0" in s.note


@pytest.mark.req("KPI-2", "EVA-3")
def test_the_kpi_part_leaves_kpis_without_data_out():
    a, b, c = kdef("K-A", weight=0.2), kdef("K-B", weight=0.1), kdef("K-C", weight=0.3)
    sa = evaluate(a, None, 0.72, CAP)   # 0.72/0.9 = 0.8 → 80
    sb = evaluate(b, None, 0.99, CAP)   # 0.99/0.9 = 1.1 → 110
    sc = evaluate(c, None, None, CAP)   # no data
    assert (sa.score, sb.score, sc.score) == (80.0, 110.0, None)
    # (80×0.2 + 110×0.1) / (0.2 + 0.1) = (16 + 11) / 0.3 = 90; counting K-C as 0 would give 27/0.6 = 45
    got = combine([(a, sa), (b, sb), (c, sc)])
    assert got.score == 90.0 and got.left_out == ("K-C",) and "K-C 无数据，未计入" in got.note
    nothing = combine([(c, sc)])
    assert nothing.score is None and "K-C" in nothing.note


def test_rounding_is_half_up():
    assert (round_half_up(2.345, 2), round_half_up(2.5, 0), round_half_up(88.885, 2)) == (2.35, 3.0, 88.89)


# ------------------------------------------------------------------ actuals from the tables


def act(code, type_, dept, owner, end, closed=None, stage="执行", budget=None, cost=None):
    return NS(code=code, type=type_, department=dept, owner=owner, end_date=end, closed_at=closed,
              stage=stage, budget=budget, actual_cost=cost)


ACTS = [
    act("A1", "技术", "D03", "E10", date(2026, 7, 10), at(2026, 7, 10, 20), "归档", 100_000, 90_000),
    act("A2", "技术", "D03", "E10", date(2026, 8, 1), at(2026, 8, 5), "结项验收", 50_000, 70_000),
    # closed 2026-09-30 16:30 UTC = 2026-10-01 00:30 in Beijing: a Q4 closing
    act("A3", "技术", "D03", "E11", date(2026, 9, 30), datetime.fromisoformat("2026-09-30T16:30:00+00:00"), "归档"),
    act("A4", "销售", "D02", "E20", date(2026, 9, 1), at(2026, 8, 30), "归档", 20_000, None),
    act("A5", "技术", "D03", "E11", date(2026, 9, 20)),
    act("A6", "技术", "D03", "E11", date(2026, 9, 15), stage="立项申请"),
]


@pytest.mark.req("KPI-2")
def test_on_time_delivery_per_person_for_technical_activities():
    d = kdef("K-ONTIME", target=0.95, applies_to="活动类型", scope="技术")
    got = A.actuals(d, A.Data(activities=ACTS), Q3, AS_OF)
    # closed in Q3 and technical: A1 (closed on its end day: on time), A2 (4 days late) → E10 1/2.
    # A3 closed in Q4 (Beijing time), A5 not closed, A4 is 销售 → E11 has nothing, so no entry.
    assert {k: (v.num, v.den) for k, v in got.items()} == {"E10": (1.0, 2.0)}
    # 0.5 / 0.95 = 0.526315… → 52.63
    assert evaluate(d, got["E10"], None, CAP).score == 52.63


@pytest.mark.req("KPI-2")
def test_project_completion_per_department_uses_the_cut_off():
    d = kdef("K-DONE", target=0.9)
    # ending in Q3, past 立项申请: D03 A1 A2 A3 A5 (A6 still 立项申请), D02 A4.
    # Closed by 2026-10-10: A1, A2, A3 (10-01) → D03 3/4 = 0.75; D02 1/1.
    got = A.actuals(d, A.Data(activities=ACTS), Q3, AS_OF)
    assert {k: v.value for k, v in got.items()} == {"D02": 1.0, "D03": 0.75}
    # cut off at 2026-09-30: A3 (closed 10-01) is not done yet → D03 2/4
    assert A.actuals(d, A.Data(activities=ACTS), Q3, date(2026, 9, 30))["D03"].value == 0.5


@pytest.mark.req("KPI-2")
def test_cost_control_sums_cost_over_budget_and_is_inverted():
    d = kdef("K-COST", direction="越低越好", target=1.0)
    got = A.actuals(d, A.Data(activities=ACTS), Q3, AS_OF)
    # closed in Q3 with budget and cost: A1 90k/100k, A2 70k/50k → D03 160k/150k = 1.0667.
    # A4 (D02) has no actual cost: left out and named; D02 has no data.
    assert set(got) == {"D03"} and (got["D03"].num, got["D03"].den) == (160_000, 150_000)
    assert "A4" in got["D03"].basis
    # inverted: 150k/160k = 0.9375 → 93.75
    assert evaluate(d, got["D03"], None, CAP).score == 93.75


@pytest.mark.req("KPI-2")
def test_satisfaction_is_the_share_of_four_and_five_star_answers():
    fb = [NS(activity="A1", satisfaction=5, submitted_at=at(2026, 7, 12)),
          NS(activity="A1", satisfaction=3, submitted_at=at(2026, 7, 13)),
          NS(activity="A2", satisfaction=4, submitted_at=None),  # dated by A2's end, 2026-08-01: Q3
          NS(activity="A4", satisfaction=2, submitted_at=at(2026, 10, 2)),  # Q4
          NS(activity="A4", satisfaction=None, submitted_at=at(2026, 8, 2)),  # no rating
          NS(activity="ACT-X", satisfaction=1, submitted_at=at(2026, 8, 2))]  # unknown activity
    d = kdef("K-SAT", target=0.9)
    got = A.actuals(d, A.Data(activities=ACTS, feedback=fb), Q3, AS_OF)
    # D03: ratings 5, 3, 4 → 2 of 3 satisfied; D02: nothing in Q3
    assert {k: (v.num, v.den) for k, v in got.items()} == {"D03": (2.0, 3.0)}
    # (2/3) / 0.9 = 0.740740… → 74.07
    assert evaluate(d, got["D03"], None, CAP).score == 74.07


@pytest.mark.req("KPI-2")
def test_plan_completion_per_person_and_per_department():
    plans = [NS(code="P1", department="D03")]
    tasks = [NS(plan="P1", owner="E10", due_date=date(2026, 7, 15), status="已完成", done_at=at(2026, 7, 14)),
             NS(plan="P1", owner="E10", due_date=date(2026, 8, 15), status="进行中", done_at=None),
             NS(plan="P1", owner="E10", due_date=date(2026, 9, 1), status="已取消", done_at=None),
             NS(plan="P1", owner="E11", due_date=date(2026, 9, 10), status="已完成", done_at=None),
             NS(plan="P1", owner="E10", due_date=date(2026, 10, 5), status="已完成", done_at=at(2026, 10, 5)),
             NS(plan="P1", owner="E10", due_date=date(2026, 9, 20), status="已完成", done_at=at(2026, 10, 20))]
    data = A.Data(plans=plans, plan_tasks=tasks)
    # E10 in Q3: T1 done, T2 open, T3 cancelled (out), T5 due in Q4 (out), T6 done after the cut-off → 1/3.
    # E11: T4 已完成 without a time → done → 1/1.
    got = A.actuals(kdef("K-PLAN", applies_to="个人"), data, Q3, AS_OF)
    assert {k: (v.num, v.den) for k, v in got.items()} == {"E10": (1.0, 3.0), "E11": (1.0, 1.0)}
    # per department: D03 2/4
    assert A.actuals(kdef("K-PLAN"), data, Q3, AS_OF)["D03"].value == 0.5


@pytest.mark.req("KPI-2")
def test_collaboration_counts_action_items_done_by_their_deadline():
    items = [NS(activity=None, owner="E10", department="D03", due_date=date(2026, 7, 20), status="已完成",
                done_at=at(2026, 7, 20, 23)),
             NS(activity=None, owner="E11", department=None, due_date=date(2026, 8, 10), status="已完成",
                done_at=at(2026, 8, 11)),
             NS(activity=None, owner="E20", department="D02", due_date=date(2026, 9, 1), status="未开始", done_at=None)]
    data = A.Data(action_items=items, department_of={"E11": "D03"})
    got = A.actuals(kdef("K-COLLAB"), data, Q3, AS_OF)
    # D03: I1 on time, I2 (E11's department) a day late → 1/2; D02: 0/1 — a real 0, not missing
    assert {k: (v.num, v.den) for k, v in got.items()} == {"D02": (0.0, 1.0), "D03": (1.0, 2.0)}


@pytest.mark.req("KPI-1")
def test_a_scope_limits_the_subjects():
    d = kdef("K-DONE", scope="D02")
    assert set(A.actuals(d, A.Data(activities=ACTS), Q3, AS_OF)) == {"D02"}
    assert A.subjects_in_scope(d, ["D01", "D02", "D03"], []) == ["D02"]
    assert A.subjects_in_scope(kdef(scope="D01，D03"), ["D01", "D02", "D03"], []) == ["D01", "D03"]
    assert A.subjects_in_scope(kdef(applies_to="活动类型", scope="技术"), ["D01"], ["E10"]) == []


@pytest.mark.req("KPI-2")
def test_kpis_the_tables_cannot_give_say_why():
    for code in ("K-CONV", "K-REACH", "K-ERR"):
        d = kdef(code)
        assert A.why_not(d) and "录入" in A.why_not(d)
        with pytest.raises(KeyError):
            A.actuals(d, A.Data(), Q3, AS_OF)
    assert "没有对应的计算规则" in A.why_not(kdef("K-NEW", name="新指标"))
    assert A.why_not(kdef("K-9", name="按时交付率")) is None  # a renamed code found by its name


def test_periods():
    assert (Q3.start, Q3.end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert [m.code for m in Q3.months()] == ["2026-07", "2026-08", "2026-09"]
    assert parse_period("2026-q1").previous().code == "2025-Q4"
    assert parse_period("2026-02").end == date(2026, 2, 28)
    for bad in ("2026-13", "Q3", "", "2026-Q5"):
        with pytest.raises(ValueError):
            parse_period(bad)
