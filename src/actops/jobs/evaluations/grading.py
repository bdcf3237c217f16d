"""Grades, bonus coefficients and ranks (EVA-4, EVA-5): pure, no I/O, no clock.

* **Bands** — 等级区间: a composite gets the grade of the highest band whose 最低分 it
  reaches (90 → S when S starts at 90). A score below every band has no grade (reported).
* **Forced distribution** (考评周期 强制分布 ticked) — the grades follow the ranking, not the
  bands: the scored rows of the cycle, best first, fill each grade's seats in band order.
  Seats per grade = n × 强制分布比例 by the **largest-remainder method**: each grade gets the
  whole part of its share, and the seats left go to the largest fractional parts (equal
  remainders: the better grade first). The shares must sum to 1.
* **Ties** — equal scores are treated equally: they always get the same grade. A tie group
  that straddles a quota boundary goes **wholly to the better grade**, and the seats it takes
  beyond that grade's quota come off the next grade(s) (the group starts in the better
  grade, so its members would have had it by position had they been ranked apart). Each row
  of such a group says so on the row (:attr:`Graded.note`), with the seats before and after.
  The rule can only make a grade larger where a tie forces it, never by more than the tie.
* **Bonus** — the grade's 奖金系数.
* **Rank in department** — competition ranking: equal composites share a rank and the next
  rank skips (90, 85, 85, 70 → 1, 2, 2, 4). Rows without a composite are not ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from itertools import groupby
from typing import Any

from actops.jobs.evaluations.periods import get

TOLERANCE = Decimal("0.001")


@dataclass(frozen=True)
class Band:
    grade: str
    min_score: float
    bonus: float
    quota: float | None = None


def bands_from_rows(rows: Iterable[Any]) -> tuple[list[Band], list[tuple[Any, str, Any, str]]]:
    """Bands best first, and problems (row Id, field zh, value, why)."""
    bands, problems, seen = [], [], {}
    for r in rows:
        grade, low, bonus = get(r, "grade"), get(r, "min_score"), get(r, "bonus_coefficient")
        if not grade or low is None or bonus is None:
            problems.append((get(r, "Id"), "等级", grade, "等级、最低分和奖金系数都须填写；这一行暂不使用"))
            continue
        if float(low) in seen:
            problems.append((get(r, "Id"), "最低分", low,
                             f"与等级 {seen[float(low)]} 的最低分相同，无法区分；请修改其中一行"))
            continue
        seen[float(low)] = grade
        bands.append(Band(str(grade), float(low), float(bonus), get(r, "quota")))
    return sorted(bands, key=lambda b: -b.min_score), problems


def band_for(score: float, bands: Sequence[Band]) -> Band | None:
    return next((b for b in bands if score >= b.min_score), None)


def check_quotas(bands: Sequence[Band]) -> str | None:
    """Why forced distribution cannot run on these bands, or None."""
    if not bands:
        return "「等级区间」没有可用的等级"
    blank = [b.grade for b in bands if b.quota is None or b.quota < 0]
    if blank:
        return f"等级 {'、'.join(blank)} 的强制分布比例未填写或为负数"
    total = sum(Decimal(str(b.quota)) for b in bands)
    if abs(total - 1) > TOLERANCE:
        return f"各等级的强制分布比例合计为 {total:g}，应为 1"
    return None


def quota_seats(n: int, bands: Sequence[Band]) -> list[int]:
    """Seats per band (best first) for ``n`` people, by the largest-remainder method."""
    shares = [Decimal(str(b.quota or 0)) * n for b in bands]
    seats = [int(s.to_integral_value(rounding=ROUND_FLOOR)) for s in shares]
    left = n - sum(seats)
    order = sorted(range(len(bands)), key=lambda i: (-(shares[i] - seats[i]), i))
    for i in order[:max(left, 0)]:
        seats[i] += 1
    return seats


@dataclass(frozen=True)
class Graded:
    grade: str | None
    bonus: float | None
    note: str = ""


@dataclass
class Distribution:
    rows: dict[Any, Graded]
    seats: dict[str, int]  # by quota
    given: dict[str, int]  # after ties
    notes: list[str] = field(default_factory=list)  # for the cycle row


def by_bands(scores: Iterable[tuple[Any, float]], bands: Sequence[Band]) -> dict[Any, Graded]:
    out = {}
    for key, score in scores:
        b = band_for(score, bands)
        out[key] = (Graded(b.grade, b.bonus) if b else
                    Graded(None, None, f"综合得分 {score:g} 低于所有等级的最低分，无法定级；请检查「等级区间」"))
    return out


def forced(scores: Iterable[tuple[Any, float]], bands: Sequence[Band]) -> Distribution:
    """Grades by rank with quota seats (call :func:`check_quotas` first)."""
    ranked = sorted(scores, key=lambda ks: -ks[1])
    n = len(ranked)
    seats = quota_seats(n, bands)
    bounds, acc = [], 0  # bounds[g] = seats of grades 0..g together
    for s in seats:
        acc += s
        bounds.append(acc)
    rows: dict[Any, Graded] = {}
    given = dict.fromkeys((b.grade for b in bands), 0)
    notes = []
    pos = 0
    for score, group_iter in groupby(ranked, key=lambda ks: ks[1]):
        group = list(group_iter)
        k = len(group)
        g = next(i for i, b in enumerate(bounds) if pos < b)
        band = bands[g]
        note = ""
        if pos + k > bounds[g]:
            inside = bounds[g] - pos
            shifted = k - inside
            note = (f"强制分布：与另外 {k - 1} 人同为 {score:g} 分（第 {pos + 1}–{pos + k} 名），跨越 {band.grade} 等级的"
                    f"名额界线（{band.grade} 名额 {seats[g]} 人，本组之前已占 {pos - (bounds[g] - seats[g])} 人）；"
                    f"同分同等对待，整组评为 {band.grade}，多占的 {shifted} 个名额从其后的等级中扣减")
            notes.append(f"第 {pos + 1}–{pos + k} 名同为 {score:g} 分，整组评为 {band.grade}（超出名额 {shifted} 人）")
        for key, _ in group:
            rows[key] = Graded(band.grade, band.bonus, note)
        given[band.grade] += k
        pos += k
    return Distribution(rows, {b.grade: s for b, s in zip(bands, seats, strict=True)}, given, notes)


def ranks_within(rows: Iterable[tuple[Any, str | None, float | None]]) -> dict[Any, int]:
    """Competition rank of each scored row within its department: (key, department, score)."""
    by_dept: dict[str | None, list[tuple[Any, float]]] = {}
    for key, dept, score in rows:
        if score is not None:
            by_dept.setdefault(dept, []).append((key, score))
    out = {}
    for members in by_dept.values():
        members.sort(key=lambda ks: -ks[1])
        for i, (key, score) in enumerate(members):
            out[key] = i + 1 if i == 0 or score != members[i - 1][1] else out[members[i - 1][0]]
    return out
