"""Grades by bands, forced distribution by largest remainder, ties, bonus and ranks (EVA-4,
EVA-5). Every expected number is worked out by hand in the comment above it."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace as NS

import pytest

from actops.jobs.evaluations.grading import (
    Band,
    bands_from_rows,
    by_bands,
    check_quotas,
    forced,
    quota_seats,
    ranks_within,
)

# the seeded 等级区间: quotas 10 / 20 / 50 / 15 / 5 %
ROWS = [NS(Id=i, grade=g, min_score=m, bonus_coefficient=b, quota=q) for i, (g, m, b, q) in enumerate([
    ("C", 60, 0.8, 0.15), ("S", 90, 1.5, 0.1), ("A", 80, 1.2, 0.2), ("D", 0, 0.5, 0.05), ("B", 70, 1.0, 0.5)], 1)]
BANDS, _ = bands_from_rows(ROWS)


def grades(dist):
    return Counter(g.grade for g in dist.rows.values())


@pytest.mark.req("EVA-4")
def test_bands_best_first_and_the_grade_of_a_score():
    assert [b.grade for b in BANDS] == ["S", "A", "B", "C", "D"]
    got = by_bands([("e1", 90), ("e2", 89.99), ("e3", 80), ("e4", 59.5), ("e5", 0)], BANDS)
    # 90 reaches S's 90; 89.99 does not → A; 80 → A; 59.5 < 60 → D; 0 → D
    assert {k: (g.grade, g.bonus) for k, g in got.items()} == {
        "e1": ("S", 1.5), "e2": ("A", 1.2), "e3": ("A", 1.2), "e4": ("D", 0.5), "e5": ("D", 0.5)}
    no_floor = [b for b in BANDS if b.grade != "D"]
    assert by_bands([("e", 50)], no_floor)["e"].grade is None


@pytest.mark.req("EVA-4")
def test_bad_band_rows_are_reported():
    rows = [*ROWS, NS(Id=9, grade="E", min_score=60, bonus_coefficient=0.1, quota=0), NS(Id=10, grade="F",
            min_score=None, bonus_coefficient=0.1, quota=0)]
    bands, problems = bands_from_rows(rows)
    assert len(bands) == 5 and [p[0] for p in problems] == [9, 10]


@pytest.mark.req("EVA-4")
def test_quota_seats_by_largest_remainder():
    # 20 × (0.10, 0.20, 0.50, 0.15, 0.05) = 2, 4, 10, 3, 1 exactly
    assert quota_seats(20, BANDS) == [2, 4, 10, 3, 1]
    # 13 × shares = 1.3, 2.6, 6.5, 1.95, 0.65 → whole parts 1, 2, 6, 1, 0 = 10; 3 seats left go to the
    # largest remainders .95 (C), .65 (D), .60 (A); .50 (B) and .30 (S) get none → 1, 3, 6, 2, 1 = 13
    assert quota_seats(13, BANDS) == [1, 3, 6, 2, 1]
    # 10 × shares = 1, 2, 5, 1.5, 0.5 → 1, 2, 5, 1, 0 = 9; one seat, remainders C .5 = D .5: the better grade, C
    assert quota_seats(10, BANDS) == [1, 2, 5, 2, 0]
    assert check_quotas(BANDS) is None
    assert "合计为 0.95" in check_quotas([Band("S", 90, 1, 0.5), Band("A", 0, 1, 0.45)])
    assert "未填写" in check_quotas([Band("S", 90, 1, None), Band("A", 0, 1, 1.0)])


@pytest.mark.req("EVA-4")
def test_forced_distribution_over_20():
    # scores 95, 94, …, 76 (all different): S the best 2, A the next 4, B 10, C 3, D the last 1
    people = [(f"e{i:02d}", 95 - i) for i in range(20)]
    dist = forced(people, BANDS)
    assert grades(dist) == {"S": 2, "A": 4, "B": 10, "C": 3, "D": 1}
    # places 1–2 (95, 94) S, 3–6 (93–90) A, 7–16 (89–80) B, 17–19 (79–77) C, 20 (76) D: by rank, not
    # by band — 89 (e06) is B although its band is A, 79 (e16) is C and 76 (e19) D although their band is B
    assert (dist.rows["e01"].grade, dist.rows["e02"].grade, dist.rows["e06"].grade, dist.rows["e15"].grade,
            dist.rows["e16"].grade, dist.rows["e19"].grade) == ("S", "A", "B", "B", "C", "D")
    assert dist.rows["e19"].bonus == 0.5 and dist.notes == [] and dist.seats == dist.given


@pytest.mark.req("EVA-4")
def test_forced_distribution_over_13():
    # seats 1, 3, 6, 2, 1 (above): 99 → S; 98–96 → A; 95–90 → B; 89–88 → C; 87 → D
    people = [(f"e{i:02d}", 99 - i) for i in range(13)]
    dist = forced(people, BANDS)
    assert [dist.rows[f"e{i:02d}"].grade for i in range(13)] == list("SAAABBBBBBCCD")


@pytest.mark.req("EVA-4")
def test_a_tie_across_a_quota_boundary_goes_wholly_to_the_better_grade():
    # 20 people; 2nd and 3rd place both 90: S has 2 seats, the tie starts on the 2nd → both S.
    # S gets 3, A's seats shrink from 4 to 3 (places 4–6), B 10, C 3, D 1 as before.
    scores = [95, 90, 90] + [89 - i for i in range(17)]
    people = [(f"e{i:02d}", s) for i, s in enumerate(scores)]
    dist = forced(people, BANDS)
    assert grades(dist) == {"S": 3, "A": 3, "B": 10, "C": 3, "D": 1}
    assert (dist.rows["e01"].grade, dist.rows["e02"].grade, dist.rows["e03"].grade, dist.rows["e05"].grade,
            dist.rows["e06"].grade) == ("S", "S", "A", "A", "B")
    # the tie-break is said on both rows of the tie, and nowhere else
    for k in ("e01", "e02"):
        assert "同为 90 分" in dist.rows[k].note and "整组评为 S" in dist.rows[k].note
        assert "多占的 1 个名额" in dist.rows[k].note
    assert not dist.rows["e00"].note and not dist.rows["e03"].note
    assert dist.seats["S"] == 2 and dist.given["S"] == 3 and len(dist.notes) == 1


@pytest.mark.req("EVA-4")
def test_a_tie_can_use_up_the_next_grade():
    # 13 people (seats 1, 3, 6, 2, 1), the best four tied at 90: all four S; A's 3 seats are used up
    # (4 − 1 = 3 over), so 80 (5th) starts B; B still ends at place 10 → 80 … 75 are B (6 people),
    # 74, 73 C, 72 D.
    scores = [90, 90, 90, 90, 80, 79, 78, 77, 76, 75, 74, 73, 72]
    dist = forced([(f"e{i:02d}", s) for i, s in enumerate(scores)], BANDS)
    assert [dist.rows[f"e{i:02d}"].grade for i in range(13)] == list("SSSSBBBBBBCCD")
    assert grades(dist) == {"S": 4, "B": 6, "C": 2, "D": 1}
    assert "多占的 3 个名额" in dist.rows["e00"].note


@pytest.mark.req("EVA-4")
def test_only_a_tie_across_a_boundary_is_noted():
    # 20 people, seats 2/4/10/3/1: A holds places 3–6. Places 5–7 tied at 85 straddle A/B → all three A
    # (noted); places 8–9 tied at 70 lie inside B → B, no note. Then 60 … 50 fill places 10–20:
    # B to place 16 (7 more), C 17–19, D 20 → S 2, A 5, B 2 + 7 = 9, C 3, D 1
    scores = [99, 98, 97, 96, 85, 85, 85, 70, 70] + [60 - i for i in range(11)]
    dist = forced([(f"e{i:02d}", s) for i, s in enumerate(scores)], BANDS)
    assert [dist.rows[f"e{i:02d}"].grade for i in (4, 5, 6, 7, 8)] == ["A", "A", "A", "B", "B"]
    assert dist.rows["e04"].note and not dist.rows["e07"].note
    assert grades(dist) == {"S": 2, "A": 5, "B": 9, "C": 3, "D": 1}


@pytest.mark.req("EVA-5")
def test_rank_within_department_ties_share_a_rank():
    rows = [("a", "D01", 90), ("b", "D01", 85), ("c", "D01", 85), ("d", "D01", 70), ("e", "D02", 88),
            ("f", "D02", None)]
    # D01: 90 → 1; 85, 85 → 2, 2; 70 → 4. D02: 88 → 1; f has no composite → unranked
    assert ranks_within(rows) == {"a": 1, "b": 2, "c": 2, "d": 4, "e": 1}
