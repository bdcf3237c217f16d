"""Allocating a sample to strata (departments, AUD-2): proportional or Neyman.

Quotas: proportional ``n × N_h / N``; Neyman ``n × N_h S_h / Σ N_h S_h`` (``S_h`` the spread
within the stratum: the standard deviation of amounts, or √(p(1−p)) for a rate). Then, in
this order, until nothing moves:

* a stratum whose quota reaches its size takes all its items and leaves the allocation;
* a non-empty stratum whose quota is under one gets one item and leaves the allocation;

the rest is shared again by the same rule among the strata still in it. The quotas are then
rounded by largest remainder (Hamilton): the integer parts, then one more to the largest
fractional parts (ties by stratum name) until the total is reached. The total is the asked
size capped by the population; it exceeds the asked size only when there are more non-empty
strata than items asked (each still gets one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

METHODS = ("proportional", "neyman")


class AllocationError(ValueError):
    pass


@dataclass(frozen=True)
class Allocation:
    sizes: dict[str, int]  # stratum → items to draw
    quotas: dict[str, float]  # before rounding
    method: str  # the method used (Neyman falls back to proportional when no stratum varies)
    total: int


def allocate(n: int, sizes: Mapping[str, int], method: str = "proportional",
             spread: Mapping[str, float] | None = None) -> Allocation:
    if method not in METHODS:
        raise AllocationError(f"未知的分配方法 {method}（可选：proportional 按比例、neyman 最优分配）")
    if n < 0 or any(v < 0 for v in sizes.values()):
        raise AllocationError("样本量与各层数量不能为负")
    strata = sorted(h for h, size in sizes.items() if size > 0)
    if method == "neyman":
        spread = spread or {}
        if any(spread.get(h, 0) < 0 for h in strata):
            raise AllocationError("各层的标准差不能为负")
        weights = {h: sizes[h] * spread.get(h, 0.0) for h in strata}
        if not any(weights.values()):
            method, weights = "proportional", {h: float(sizes[h]) for h in strata}
    else:
        weights = {h: float(sizes[h]) for h in strata}
    total = min(n, sum(sizes[h] for h in strata))
    if total < len(strata):  # one each, even past the asked size
        return Allocation(dict.fromkeys(strata, 1), dict.fromkeys(strata, 1.0), method, len(strata))
    fixed: dict[str, float] = {}
    while True:
        free = [h for h in strata if h not in fixed]
        left = total - sum(fixed.values())
        weight = sum(weights[h] for h in free)
        quotas = {h: (left * weights[h] / weight if weight else left / len(free)) for h in free} if free else {}
        full = [h for h in free if quotas[h] >= sizes[h]]
        if full:
            fixed.update({h: float(sizes[h]) for h in full})
            continue
        small = [h for h in free if quotas[h] < 1]
        if small:
            fixed.update(dict.fromkeys(small, 1.0))
            continue
        break
    quotas = {**quotas, **fixed}
    return Allocation(_largest_remainder(quotas, total), quotas, method, total)


def _largest_remainder(quotas: Mapping[str, float], total: int) -> dict[str, int]:
    # integer parts robust to 29.999999999 (a quota that is whole up to rounding error)
    base = {h: math.floor(round(q, 9)) for h, q in quotas.items()}
    missing = total - sum(base.values())
    order = sorted(quotas, key=lambda h: (-(round(quotas[h], 9) - base[h]), h))
    for h in order[:missing]:
        base[h] += 1
    return {h: base[h] for h in sorted(base)}


def rate_spread(p: float) -> float:
    """Neyman's S_h for an attribute: √(p(1−p)) at the expected deviation rate ``p``."""
    return math.sqrt(max(p, 0.0) * max(1 - p, 0.0))
