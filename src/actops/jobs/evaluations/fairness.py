"""Fairness of a cycle's grades (EVA-4, before publishing): pure, no I/O, no clock.

For each group field (部门, and any field HR groups people by) the **top-grade rate** of each
group is (people with a top grade) / (people graded). A group whose rate is below four
fifths of the best-placed group's rate — impact ratio < 0.8, the four-fifths rule — is
flagged to HR before the cycle is published. Exactly 0.8 is not flagged.

* Top grades default to the grades whose 奖金系数 is above 1 (S and A in the seeded bands:
  the grades that earn more than the standard bonus); the job may pass another set.
* Rates and ratios are exact fractions, so 8/25 against 2/5 is exactly 0.8.
* When no one in the cycle has a top grade there is nothing to compare: no flags, a note.
* Small groups are compared like any other; the message gives the counts so HR can judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from actops.jobs.evaluations.grading import Band

FOUR_FIFTHS = Fraction(4, 5)
BLANK = "（未填）"


@dataclass(frozen=True)
class GroupRate:
    group: str
    top: int
    total: int
    ratio: Fraction | None  # against the best-placed group; None when no group has a top grade

    @property
    def rate(self) -> Fraction:
        return Fraction(self.top, self.total)

    @property
    def flagged(self) -> bool:
        return self.ratio is not None and self.ratio < FOUR_FIFTHS


def top_grades(bands: Sequence[Band]) -> frozenset[str]:
    return frozenset(b.grade for b in bands if b.bonus > 1)


def rates(rows: Iterable[tuple[Any, str | None]], top: frozenset[str]) -> list[GroupRate]:
    """(group, grade) of each graded row → the rate of each group, by group name."""
    counts: dict[str, list[int]] = {}
    for group, grade in rows:
        if grade is None:
            continue
        c = counts.setdefault(str(group) if group not in (None, "") else BLANK, [0, 0])
        c[0] += grade in top
        c[1] += 1
    best = max((Fraction(t, n) for t, n in counts.values()), default=Fraction(0))
    return [GroupRate(g, t, n, Fraction(t, n) / best if best else None) for g, (t, n) in sorted(counts.items())]


def _pct(f: Fraction) -> str:
    return f"{float(f) * 100:.1f}%"


def flags(field_zh: str, found: Sequence[GroupRate], top: frozenset[str]) -> list[str]:
    """One message per flagged group, for HR (group names and counts only, no person)."""
    if not found:
        return []
    names = "、".join(sorted(top))
    best = max(found, key=lambda r: (r.rate, r.total))
    if best.top == 0:
        return []
    out = []
    for r in found:
        if r.flagged:
            out.append(f"按{field_zh}：{r.group} 的 {names} 等级比例 {r.top}/{r.total} = {_pct(r.rate)}，是比例最高的 "
                       f"{best.group}（{best.top}/{best.total} = {_pct(best.rate)}）的 {float(r.ratio or 0):.2f} 倍，"
                       f"低于 0.8（五分之四规则）；发布前请复核该组的评分")
    return out
