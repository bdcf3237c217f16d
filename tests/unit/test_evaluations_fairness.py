"""Top-grade rates per group and the four-fifths flag (EVA-4). Worked numbers in comments."""

from __future__ import annotations

from fractions import Fraction

import pytest

from actops.jobs.evaluations.fairness import flags, rates, top_grades
from actops.jobs.evaluations.grading import Band

BANDS = [Band("S", 90, 1.5, 0.1), Band("A", 80, 1.2, 0.2), Band("B", 70, 1.0, 0.5), Band("C", 60, 0.8, 0.15),
         Band("D", 0, 0.5, 0.05)]
TOP = top_grades(BANDS)


def people(group, top, rest):
    return [(group, "S" if i % 2 else "A") for i in range(top)] + [(group, "B")] * rest


@pytest.mark.req("EVA-4")
def test_four_fifths_rule_per_department():
    assert top_grades(BANDS) == frozenset("SA")  # bonus above 1
    rows = (people("D01", 4, 6) + people("D02", 3, 5) + people("D03", 1, 4) + people("D04", 0, 4)
            + people("D05", 8, 17) + [("D03", None)])
    got = {r.group: r for r in rates(rows, TOP)}
    # D01 4/10 = 0.4 is the best; D02 3/8 = 0.375 → 0.375/0.4 = 0.9375; D03 1/5 = 0.2 → 0.5 (the ungraded
    # row does not count); D04 0/4 → 0; D05 8/25 = 0.32 → 0.32/0.4 = 0.8 exactly: not below 0.8
    assert {g: (r.top, r.total, r.ratio) for g, r in got.items()} == {
        "D01": (4, 10, Fraction(1)), "D02": (3, 8, Fraction(15, 16)), "D03": (1, 5, Fraction(1, 2)),
        "D04": (0, 4, Fraction(0)), "D05": (8, 25, Fraction(4, 5))}
    assert [g for g, r in got.items() if r.flagged] == ["D03", "D04"]
    msgs = flags("部门", list(got.values()), TOP)
    assert len(msgs) == 2
    assert msgs[0].startswith("按部门：D03 的 A、S 等级比例 1/5 = 20.0%，是比例最高的 D01（4/10 = 40.0%）的 0.50 倍")


@pytest.mark.req("EVA-4")
def test_any_group_field_and_blank_groups():
    # by a field HR added (e.g. 职级): P1 2/4 = 0.5 best, P2 1/3 = 0.333 → 0.667 flagged; blank 1/2 → 1.0
    rows = [("P1", "S"), ("P1", "A"), ("P1", "B"), ("P1", "C"), ("P2", "A"), ("P2", "B"), ("P2", "B"),
            (None, "A"), ("", "D")]
    got = {r.group: r for r in rates(rows, TOP)}
    assert {g: r.ratio for g, r in got.items()} == {"P1": Fraction(1), "P2": Fraction(2, 3), "（未填）": Fraction(1)}
    assert [m.split("：")[1][:2] for m in flags("职级", list(got.values()), TOP)] == ["P2"]


@pytest.mark.req("EVA-4")
def test_no_top_grade_anywhere_flags_nothing():
    got = rates([("D01", "B"), ("D02", "C")], TOP)
    assert all(r.ratio is None and not r.flagged for r in got) and flags("部门", got, TOP) == []
