"""The verdict of a finished checklist, on hand-worked numbers: the attribute upper limit
(Clopper–Pearson, = 1 − α^(1/n) with no deviation), the Stringer bound with the guide's
factors (RF 3.00, 4.75 at 95 %), what "done" means, which kind sets the cycle's figures."""

from __future__ import annotations

import json

import pytest

from actops.jobs.audit import verdict
from actops.jobs.audit.verdict import Row


def record(**kinds) -> dict:
    return {"method_version": "actops-audit/1", "seed": 7,
            "params": {"confidence": 0.95, "tolerable_rate": 0.05, "expected_rate": 0.0, "model": "binomial"},
            "kinds": kinds}


APPROVALS = {"method": "attribute", "population": 80, "n": 59, "size": 59}
EXPENSES = {"method": "mus", "population": 50, "n": 3, "book_value": 300000.0, "interval": 5000.0}


def sampled(kind: str, n: int, deviations: int = 0, reason: str = "随机抽样", **kw) -> list[Row]:
    return [Row(f"Q-{kind}-{i:02d}", kind, f"{kind}{i:02d}", "D02", reason=reason, checked=True,
                deviation=i < deviations, finding="问题" if i < deviations else "", **kw) for i in range(n)]


@pytest.mark.req("AUD-5")
def test_no_deviation_in_59_is_an_upper_limit_of_4_95_percent_and_the_control_is_relied_on():
    # 1 − 0.05^(1/59) = 1 − e^(−2.9957/59) = 1 − e^(−0.050776) = 0.04951 ≤ 5 %
    always = [Row("Q-A-BIG", "审批", "BIG", "D07", 150000, "大额事项", True, True, finding="链不全")]
    v = verdict.verdict(record(审批=APPROVALS), sampled("审批", 59) + always)
    (k,) = v.kinds
    assert k.result.n == 59 and k.result.deviations == 0
    assert k.result.upper == pytest.approx(0.049508, abs=1e-6)
    assert v.acceptable and (v.deviation_rate, v.upper_limit) == (0.0, 0.0495)
    assert [(f.kind, f.examined, f.deviations) for f in v.in_full] == [("审批", 1, 1)]  # apart, not projected
    text = v.conclusion(findings=1)
    assert text.startswith("总体结论：抽样检查的控制执行有效") and "偏差率上限为 4.95%" in text
    assert "审批（全部检查）：检查 1 项，偏差 1 项" in text and "审计发现：1 项。" in text


@pytest.mark.req("AUD-5")
def test_one_deviation_in_59_gives_7_79_percent_above_the_tolerable_5_and_the_control_fails():
    # P(X ≤ 1 | 59, p) = 0.05 at p ≈ 0.0779 (the guide's Table A-3 prints 7.7 for 60 items)
    v = verdict.verdict(record(审批=APPROVALS), sampled("审批", 59, deviations=1))
    assert v.kinds[0].result.upper == pytest.approx(0.0779, abs=5e-5)
    assert v.failing == ["审批"] and not v.acceptable
    assert (v.deviation_rate, v.upper_limit) == (0.0169, 0.0779)  # 1/59 = 1.69 %
    assert v.overall.startswith("总体结论：审批的控制不能信赖")


@pytest.mark.req("AUD-5")
def test_the_stringer_bound_of_one_40_percent_taint_is_18500_above_a_tolerable_15000():
    # SI 5,000, RF(0) 3.00 → basic precision 15,000; taint (1,000 − 600)/1,000 = 0.4 → projected
    # 2,000; incremental (4.75 − 3.00 − 1) × 2,000 = 1,500; upper 18,500 > 5 % × 300,000 = 15,000
    rows = [Row("Q-E-1", "费用", "E1", "D02", 1000, "金额单位抽样", True, True, audited=600, finding="多报"),
            Row("Q-E-2", "费用", "E2", "D02", 2500, "金额单位抽样", True, False, audited=2500),
            Row("Q-E-3", "费用", "E3", "D02", 4000, "金额单位抽样", True, False)]
    v = verdict.verdict(record(费用=EXPENSES), rows)
    b = v.kinds[0].result.bound
    assert (b.basic_precision, b.projected, b.incremental, b.upper_limit) == (15000, 2000, 1500, 18500)
    assert v.kinds[0].result.tolerable == 15000 and v.failing == ["费用"]
    assert v.upper_limit is None  # no attribute kind: 偏差率 / 偏差上限 stay blank

    clean = [Row(r.code, r.kind, r.item, r.department, r.amount, r.reason, True, False) for r in rows]
    ok = verdict.verdict(record(费用=EXPENSES), clean)
    assert ok.kinds[0].result.bound.upper_limit == 15000 and ok.acceptable  # at the limit: ≤ passes


@pytest.mark.req("AUD-5")
def test_a_deviation_without_an_audited_amount_counts_as_wholly_misstated_and_is_named():
    # taint 1 → projected 5,000, incremental 0.75 × 5,000 = 3,750: 15,000 + 5,000 + 3,750
    rows = [Row("Q-E-1", "费用", "E1", "D02", 1000, "金额单位抽样", True, True, finding="无票据")]
    v = verdict.verdict(record(费用=EXPENSES), rows)
    assert v.kinds[0].result.bound.upper_limit == 23750 and v.kinds[0].result.assumed_full == ("Q-E-1",)
    assert "1 笔偏差未填审定金额，按全额错报计" in v.conclusion()


@pytest.mark.req("AUD-5")
def test_a_whole_small_population_examined_is_judged_exactly_not_by_the_binomial():
    activities = {"method": "attribute", "population": 10, "n": 10, "size": 59, "note": "总体不足，全部检查"}
    clean = verdict.verdict(record(活动=activities), sampled("活动", 10))
    assert clean.kinds[0].result.upper == 0 and clean.acceptable  # binomial would say 25.9 %
    assert "无抽样风险" in clean.kinds[0].text
    one = verdict.verdict(record(活动=activities), sampled("活动", 10, deviations=1))
    assert one.kinds[0].result.upper == pytest.approx(0.1) and one.failing == ["活动"]


@pytest.mark.req("AUD-5")
def test_the_cycle_figures_are_those_of_the_kind_closest_to_failing():
    activities = {"method": "attribute", "population": 200, "n": 30, "size": 30}
    rows = sampled("审批", 59) + sampled("活动", 30, deviations=1)
    v = verdict.verdict(record(审批=APPROVALS, 活动=activities), rows)
    assert v.binding.kind == "活动" and v.deviation_rate == pytest.approx(1 / 30, abs=1e-4)
    assert [k.kind for k in v.kinds] == ["审批", "活动"]


@pytest.mark.req("AUD-5")
def test_done_means_checked_and_every_deviation_described():
    rows = sampled("审批", 3)
    assert verdict.pending(rows) == []
    unchecked = Row("X-1", "审批", "X1", checked=False, reason="随机抽样")
    undescribed = Row("X-2", "审批", "X2", checked=True, deviation=True, finding="  ", reason="随机抽样")
    assert [r.code for r in verdict.pending([*rows, unchecked, undescribed])] == ["X-1", "X-2"]
    with pytest.raises(ValueError):
        verdict.verdict(record(审批=APPROVALS), [*rows, unchecked])


def test_a_stored_record_that_cannot_be_read_is_said_not_guessed():
    assert verdict.read_record(json.dumps(record(审批=APPROVALS)))["kinds"]["审批"]["n"] == 59
    for bad in ("", "{", json.dumps({"params": {}}), json.dumps({"params": {"confidence": 0.95,
                                                                           "tolerable_rate": 0.05}, "kinds": []})):
        with pytest.raises(verdict.RecordError):
            verdict.read_record(bad)
