"""Monetary-unit sampling against published factor tables and worked examples.

Sources:

* Reliability (confidence) factors: the AICPA Audit Sampling Guide's "Monetary unit
  sampling — confidence factors for sample evaluation", as reproduced in Exhibit FA.2 ("PPS
  Confidence Factors for Sample Evaluation", source AICPA; risks 5 %–50 %, 0–20
  overstatements) and, for the 1 % column, Whittington & Pany, *Principles of Auditing*
  (2006), Table 1 "Reliability Factors for Misstatements of Overstatement".
* Sample size with the expansion factor: the worked example "MUS sampling, steps 1–4"
  (course handout, RIA 5 %, BV $1,000,000, TM $50,000, EM $10,000: n = 1,000,000 × 3 /
  (50,000 − 10,000 × 1.6), SI = $11,333.33) and its step 7 (three misstatements, projected
  misstatement $1,912).
* Exact Poisson size: AICPA Table C-1 (5 % risk, E/T 0.2, TM 5 % → 93), the example of
  BV $2,500,000, TM $125,000 at 95 % with n = 93 and interval $26,882 (Messier et al.'s MUS
  example, lecture notes "Steps in MUS sampling application").
* Stringer bound: the Harder Company problem (Boynton & Johnson, *Modern Auditing*, PPS
  chapter): BV $720,000, RF 3.0 at 5 % RIA, n = 90, five misstatements, incremental factors
  1.75, 1.55, 1.46, 1.40, tolerable misstatement $30,000. The solution is worked in the test
  the way the problem prescribes.
* Systematic selection: Touw & Hoogduin (2011), p. 34 (values 7, 3, 4, 9, 0, 1, 8, 2, 6, 5 for
  items A–J, interval 9, start 2 → A, C, D, G, I).
"""

from __future__ import annotations

import random

import pytest

from actops.jobs.audit.mus import (
    Misstatement,
    expansion_factor,
    plan,
    random_start,
    reliability_factor,
    select,
    stringer,
)
from actops.jobs.audit.sizes import SizeError

# Exhibit FA.2: risk of incorrect acceptance → factors for 0..10 overstatements.
FA2 = {
    0.05: [3.00, 4.75, 6.30, 7.76, 9.16, 10.52, 11.85, 13.15, 14.44, 15.71, 16.97],
    0.10: [2.31, 3.89, 5.33, 6.69, 8.00, 9.28, 10.54, 11.78, 13.00, 14.21, 15.41],
    0.15: [1.90, 3.38, 4.73, 6.02, 7.27, 8.50, 9.71, 10.90, 12.08, 13.25, 14.42],
    0.20: [1.61, 3.00, 4.28, 5.52, 6.73, 7.91, 9.08, 10.24, 11.38, 12.52, 13.66],
    0.25: [1.39, 2.70, 3.93, 5.11, 6.28, 7.43, 8.56, 9.69, 10.81, 11.92, 13.02],
    0.30: [1.21, 2.44, 3.62, 4.77, 5.90, 7.01, 8.12, 9.21, 10.31, 11.39, 12.47],
    0.50: [0.70, 1.68, 2.68, 3.68, 4.68, 5.68, 6.67, 7.67, 8.67, 9.67, 10.67],
}


@pytest.mark.req("AUD-2")
@pytest.mark.parametrize("risk", sorted(FA2))
def test_reliability_factors_match_the_published_table(risk):
    assert [reliability_factor(k, 1 - risk) for k in range(11)] == FA2[risk]


@pytest.mark.req("AUD-2")
def test_reliability_factors_at_1_percent_and_rounding():
    assert [reliability_factor(k, 0.99) for k in range(5)] == [4.61, 6.64, 8.41, 10.05, 11.61]
    # The tables round up: the exact 95 % factor for one overstatement is 4.744 (printed 4.75).
    assert round(reliability_factor(1, 0.95, decimals=None), 3) == 4.744
    assert reliability_factor(20, 0.95) == 29.07


@pytest.mark.req("AUD-2")
def test_expansion_factor_for_the_cycles_confidence():
    assert expansion_factor(0.95) == 1.6
    assert expansion_factor(0.90) == 1.5
    assert expansion_factor(0.93) == 1.6  # 7 % risk is not listed: the 5 % factor (larger sample)
    with pytest.raises(SizeError, match="99%"):
        expansion_factor(0.995)


@pytest.mark.req("AUD-2")
def test_size_and_interval_with_the_expansion_factor_worked_example():
    p = plan(1_000_000, 50_000, 10_000, 0.95)
    assert (p.reliability, p.expansion) == (3.0, 1.6)
    assert p.raw_size == pytest.approx(3_000_000 / 34_000)  # 88.24, as the handout computes
    assert round(1_000_000 / p.raw_size, 2) == 11_333.33  # the handout's interval at that size
    assert p.n == 89  # rounded up, so never fewer units than planned
    assert p.interval == pytest.approx(1_000_000 / 89)


@pytest.mark.req("AUD-2")
def test_exact_poisson_size_matches_table_c1_and_the_interval_example():
    p = plan(2_500_000, 125_000, 25_000, 0.95, method="poisson")
    assert p.n == 93
    assert round(p.interval) == 26_882
    # the expansion-factor formula is a little smaller here: 2.5M × 3 / (125,000 − 40,000)
    assert plan(2_500_000, 125_000, 25_000, 0.95).n == 89


@pytest.mark.req("AUD-2")
def test_plans_that_cannot_conclude_are_refused():
    with pytest.raises(SizeError, match="扩张系数"):
        plan(1_000_000, 50_000, 40_000, 0.95)
    with pytest.raises(SizeError, match="账面金额"):
        plan(0, 1, 0, 0.95)


@pytest.mark.req("AUD-2")
def test_systematic_selection_touw_hoogduin_page_34():
    units = list(zip("ABCDEFGHIJ", [7, 3, 4, 9, 0, 1, 8, 2, 6, 5], strict=True))
    sel = select(units, interval=9, start=2)
    assert sorted(sel.keys) == ["A", "C", "D", "G", "I"]
    assert sel.top == ("D",)  # 9 is at the interval: taken in full
    assert sel.skipped == ("E",)  # no monetary unit to hit


@pytest.mark.req("AUD-2")
def test_systematic_selection_by_hand_and_in_key_order():
    units = [("E", 900), ("A", 300), ("B", 1200), ("D", 50), ("C", 700)]
    # key order without B (top): A (0,300] C (300,1000] D (1000,1050] E (1050,1950];
    # points 400 → C, 1400 → E, 2400 lies beyond.
    sel = select(units, interval=1000, start=400)
    assert sel.top == ("B",)
    assert sel.picks == (("C", 400), ("E", 1400))
    assert select(units, interval=1000, start=1000).picks == (("C", 1000),)  # (0, 1000] from the top


@pytest.mark.req("AUD-2")
def test_every_item_at_or_above_the_interval_is_taken_whatever_the_start():
    rng = random.Random(11)
    units = [(f"X{i:03d}", rng.uniform(10, 3000)) for i in range(300)]
    interval = 1500.0
    big = {k for k, a in units if a >= interval}
    assert big
    for seed in range(5):
        start = random_start(random.Random(seed), interval)
        assert 0 < start <= interval
        sel = select(units, interval, start)
        assert big == set(sel.top) and not big & {k for k, _ in sel.picks}
        below = sum(a for k, a in units if a < interval)
        assert len(sel.picks) in (int(below // interval), int(below // interval) + 1)


@pytest.mark.req("AUD-2")
def test_the_seeded_start_is_reproducible():
    assert random_start(random.Random(42), 500.0) == random_start(random.Random(42), 500.0)
    assert random_start(random.Random(42), 500.0) != random_start(random.Random(43), 500.0)


@pytest.mark.req("AUD-2")
def test_stringer_bound_harder_company():
    interval = 720_000 / 90  # 8,000
    found = [Misstatement("1", 1_500, 1_000), Misstatement("2", 2_400, 1_200), Misstatement("3", 8_200, 7_500),
             Misstatement("4", 6_000, 5_400), Misstatement("5", 9_000, 8_000)]
    b = stringer(interval, found, 0.95)
    # Basic precision 3.0 × 8,000.
    assert b.basic_precision == pytest.approx(24_000)
    # Projected: taints 1/3, 1/2, 1/10 × 8,000, plus 700 and 1,000 actual on the two items
    # of 8,000 or more: 2,666.67 + 4,000 + 800 + 1,700 = 9,166.67.
    assert b.top_misstatement == pytest.approx(1_700)
    assert b.projected == pytest.approx(9_166.67, abs=0.01)
    # Ranked by taint: 4,000 × (1.75 − 1) + 2,666.67 × (1.55 − 1) + 800 × (1.46 − 1) = 4,834.67.
    assert [(k, round(step, 2)) for k, _, step in b.ranked] == [("2", 1.75), ("1", 1.55), ("4", 1.46)]
    assert b.incremental == pytest.approx(4_834.67, abs=0.01)
    assert b.upper_limit == pytest.approx(38_001.33, abs=0.01)
    assert b.upper_limit > 30_000  # the problem's tolerable misstatement: not fairly stated


@pytest.mark.req("AUD-2")
def test_projected_misstatement_worked_example_step_7():
    found = [Misstatement("1", 100, 95), Misstatement("2", 11_700, 11_488), Misstatement("3", 65, 58.50)]
    b = stringer(11_333.33, found, 0.95)
    # 5 % × 11,333 = 567; 11,700 exceeds the interval: its 212; 10 % × 11,333 = 1,133.
    assert round(b.projected) == 1_912


@pytest.mark.req("AUD-2")
def test_no_misstatement_leaves_basic_precision_and_understatements_stand_apart():
    assert stringer(8_000, [], 0.95).upper_limit == 24_000
    b = stringer(8_000, [Misstatement("u", 1_000, 1_200), Misstatement("o", 1_000, 900)], 0.95)
    assert b.understatement == pytest.approx(0.2 * 8_000)
    assert b.upper_limit == pytest.approx(24_000 + 800 + 800 * 0.75)
