"""Evaluating a finished checklist: deviation rate and upper limit against the AICPA tables
(A-3/A-4, as in test_audit_sizes), the hypergeometric case from Touw & Hoogduin (2011,
p. 125), and the Stringer bound on the Harder Company problem (as in test_audit_mus)."""

from __future__ import annotations

import math

import pytest

from actops.jobs.audit.evaluate import (
    AttributeResult,
    MusResult,
    Outcome,
    Pending,
    attribute,
    in_full,
    monetary,
)


def sample(n, deviations):
    return [Outcome(f"S{i:03d}", True, i < deviations) for i in range(n)]


@pytest.mark.req("AUD-5")
def test_no_deviation_in_59_supports_reliance_at_95_percent():
    r = attribute(sample(59, 0), 0.95, 0.05)
    assert isinstance(r, AttributeResult)
    assert r.rate == 0 and r.upper == pytest.approx(1 - 0.05 ** (1 / 59))  # 4.95 %, closed form for k = 0
    assert r.acceptable
    assert "偏差率上限为 4.95%" in r.conclusion and "可以信赖" in r.conclusion


@pytest.mark.req("AUD-5")
def test_upper_limits_and_conclusions_follow_table_a3():
    # Table A-3 (95 %), n = 100: 1 deviation → 4.7 %, 2 → 6.2 %.
    one, two = attribute(sample(100, 1), 0.95, 0.05), attribute(sample(100, 2), 0.95, 0.05)
    assert math.ceil(one.upper * 1000) / 10 == 4.7 and one.acceptable
    assert math.ceil(two.upper * 1000) / 10 == 6.2 and not two.acceptable
    assert two.rate == 0.02 and "不能信赖" in two.conclusion
    # Table A-4 (90 %), n = 45, 1 deviation → 8.4 %: within 10 %.
    assert attribute(sample(45, 1), 0.90, 0.10).acceptable


@pytest.mark.req("AUD-5")
def test_hypergeometric_evaluation_touw_hoogduin():
    two = attribute(sample(102, 2), 0.90, 0.05, "hypergeometric", population=1200)
    three = attribute(sample(102, 3), 0.90, 0.05, "hypergeometric", population=1200)
    assert round(two.upper, 4) == 0.0492 and two.acceptable  # 59 of 1,200 < 60 tolerated
    assert round(three.upper, 4) == 0.0625 and not three.acceptable


@pytest.mark.req("AUD-5")
def test_nothing_is_concluded_while_a_row_is_unchecked():
    rows = sample(10, 0) + [Outcome("LATE", False, False)]
    r = attribute(rows, 0.95, 0.05)
    assert isinstance(r, Pending) and r.keys == ("LATE",)
    assert "1 个样本未检查" in r.conclusion
    assert isinstance(monetary(rows, 1000, 0.95, 5000), Pending)


@pytest.mark.req("AUD-5")
def test_monetary_evaluation_harder_company():
    found = {"1": (1_500, 1_000), "2": (2_400, 1_200), "3": (8_200, 7_500), "4": (6_000, 5_400), "5": (9_000, 8_000)}
    rows = [Outcome(k, True, True, b, a) for k, (b, a) in found.items()]
    rows += [Outcome(f"C{i:02d}", True, False, 500.0, 500.0) for i in range(85)]
    r = monetary(rows, 8_000, 0.95, 30_000)
    assert isinstance(r, MusResult) and r.n == 90
    assert r.bound.upper_limit == pytest.approx(38_001.33, abs=0.01)
    assert not r.acceptable and "超过可容忍错报 30,000.00 元" in r.conclusion
    assert monetary(rows, 8_000, 0.95, 40_000).acceptable


@pytest.mark.req("AUD-5")
def test_a_deviation_without_an_audited_amount_counts_in_full():
    rows = [Outcome("E1", True, True, 2_000.0, None), Outcome("E2", True, False, 3_000.0, None)]
    r = monetary(rows, 8_000, 0.95, 100_000)
    assert r.assumed_full == ("E1",)
    assert r.bound.projected == pytest.approx(8_000)  # taint 100 % × interval
    assert r.bound.upper_limit == pytest.approx(24_000 + 8_000 * 1.75)
    assert "1 笔偏差未填审定金额，按全额错报计" in r.conclusion


@pytest.mark.req("AUD-3")
def test_items_examined_in_full_are_counted_apart():
    assert in_full([Outcome("A", True, True), Outcome("B", True, False)]) == (2, 1)
