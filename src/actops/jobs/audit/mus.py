"""Monetary-unit sampling (AUD-2) for expenses: size, interval, systematic selection, and the
Stringer bound. Pure: the random start is an argument (:func:`random_start` makes it from a
seeded generator).

Planning as the AICPA Audit Sampling Guide's formula does::

    n = book value × RF(0) / (tolerable − expected × expansion factor)

with RF(k) the Poisson reliability (confidence) factor for k overstatements — the gamma
quantile, from scipy — and the expansion factor from the guide's table (a published table,
not a distribution). ``method="poisson"`` instead takes the exact Poisson size with
fractional expected taintings (the guide's Table C-1). The size is rounded up and the
sampling interval is book value ÷ size, so the sample is never smaller than planned.

The guide's factor tables print RF rounded *up* to two decimals (3.00, 4.75, 6.30, 7.76,
9.16 at 95 %); ``decimals=2`` (the default) uses them so an auditor can redo the sums with
the tables in hand; ``decimals=None`` uses the exact quantiles.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from scipy import stats

from actops.jobs.audit.sizes import SizeError, attribute_size

# Risk of incorrect acceptance → expansion factor for expected misstatement (AICPA Audit
# Sampling Guide; reproduced as "Expansion Factors for Expected Misstatement" in Whittington
# & Pany, Principles of Auditing, 2006).
EXPANSION = {0.01: 1.9, 0.05: 1.6, 0.10: 1.5, 0.15: 1.4, 0.20: 1.3, 0.25: 1.25, 0.30: 1.2, 0.37: 1.15,
             0.50: 1.0}
TABLE_DECIMALS = 2


def reliability_factor(k: int, confidence: float, decimals: int | None = TABLE_DECIMALS) -> float:
    """The Poisson upper limit on the mean number of overstatements when ``k`` were found:
    ``gamma.ppf(confidence, k + 1)``; rounded up to ``decimals`` as the guide prints it."""
    if not 0 < confidence < 1 or k < 0:
        raise SizeError(f"置信度须在 0 与 1 之间、偏差数不小于 0（而不是 {confidence}、{k}）")
    rf = float(stats.gamma.ppf(confidence, k + 1))
    if decimals is None:
        return rf
    step = Decimal(1).scaleb(-decimals)
    # the quantile's float may sit a hair above a round value (4.0000000001): trim at 9 places
    return float(Decimal(repr(rf)).quantize(Decimal("1e-9")).quantize(step, rounding=ROUND_CEILING))


def expansion_factor(confidence: float) -> float:
    """The guide's factor for the risk ``1 − confidence``; a risk between two listed ones
    takes the factor of the smaller risk (the larger factor: the larger sample)."""
    risk = round(1 - confidence, 6)
    listed = sorted(r for r in EXPANSION if r <= risk + 1e-9)
    if not listed:
        raise SizeError(f"置信度 {confidence:.0%} 高于扩张系数表的最高置信度 99%")
    return EXPANSION[listed[-1]]


@dataclass(frozen=True)
class MusPlan:
    book_value: float
    tolerable: float
    expected: float
    confidence: float
    method: str
    raw_size: float  # before rounding up
    n: int
    interval: float
    reliability: float  # RF(0)
    expansion: float | None  # None for the exact Poisson size


def plan(book_value: float, tolerable: float, expected: float, confidence: float, *,
         method: str = "expansion", decimals: int | None = TABLE_DECIMALS) -> MusPlan:
    """Sample size and interval for a population of ``book_value`` (overstatement testing)."""
    if book_value <= 0:
        raise SizeError("金额单位抽样的总体账面金额须大于 0")
    if not 0 < tolerable <= book_value:
        raise SizeError(f"可容忍错报 {tolerable:,.2f} 须大于 0 且不超过账面金额 {book_value:,.2f}")
    if expected < 0:
        raise SizeError("预期错报不能为负")
    rf = reliability_factor(0, confidence, decimals)
    if method == "poisson":
        size = attribute_size(confidence, tolerable / book_value, expected / book_value, model="poisson")
        return MusPlan(book_value, tolerable, expected, confidence, method, float(size.n), size.n,
                       book_value / size.n, rf, None)
    if method != "expansion":
        raise SizeError(f"未知的金额单位抽样方法 {method}（可选：expansion、poisson）")
    ef = expansion_factor(confidence)
    room = tolerable - expected * ef
    if room <= 0:
        raise SizeError(f"预期错报 × 扩张系数（{expected * ef:,.2f}）不小于可容忍错报 {tolerable:,.2f}：无法抽样得出结论")
    raw = book_value * rf / room
    n = math.ceil(round(raw, 9))
    return MusPlan(book_value, tolerable, expected, confidence, method, raw, n, book_value / n, rf, ef)


def random_start(rng: random.Random, interval: float) -> float:
    """A start in (0, interval]: the monetary unit of the first selection."""
    return interval * (1.0 - rng.random())


@dataclass(frozen=True)
class Selection:
    interval: float
    start: float
    top: tuple[str, ...]  # keys at or above the interval: every one examined
    picks: tuple[tuple[str, float], ...]  # (key, the monetary unit that hit it)
    skipped: tuple[str, ...] = ()  # zero or negative book values: no monetary unit to hit

    @property
    def keys(self) -> tuple[str, ...]:
        return self.top + tuple(k for k, _ in self.picks)


def select(units: Iterable[tuple[str, float]], interval: float, start: float, *,
           order: Callable[[tuple[str, float]], Any] | None = None) -> Selection:
    """Systematic selection over the units in key order (or ``order``, e.g. department then
    key, which spreads the sample over departments): every unit of ``interval`` or more
    is taken (top stratum); through the rest, the items holding monetary units ``start``,
    ``start + interval``, … (cumulative amounts, the item ``i`` with c(i−1) < p ≤ c(i))."""
    if interval <= 0 or not 0 < start <= interval:
        raise SizeError(f"抽样间隔须大于 0，随机起点须在 (0, 间隔] 内（而不是 {interval}、{start}）")
    ordered = sorted(units, key=order or (lambda u: u[0]))
    top = tuple(k for k, a in ordered if a >= interval)
    skipped = tuple(k for k, a in ordered if a <= 0)
    rest = [(k, a) for k, a in ordered if 0 < a < interval]
    picks: list[tuple[str, float]] = []
    point, cum = start, 0.0
    for key, amount in rest:
        cum += amount
        if point <= cum + 1e-9:  # amounts below the interval: at most one point per item
            picks.append((key, point))
            point += interval
    return Selection(interval, start, top, tuple(picks), skipped)


@dataclass(frozen=True)
class Misstatement:
    key: str
    book: float
    audit: float

    @property
    def amount(self) -> float:
        return self.book - self.audit

    @property
    def taint(self) -> float:
        return self.amount / self.book if self.book else 0.0


@dataclass(frozen=True)
class StringerBound:
    interval: float
    confidence: float
    basic_precision: float
    projected: float  # projected overstatement, the top stratum's actual amounts included
    incremental: float  # allowance for the ranked taintings
    upper_limit: float  # basic precision + projected + incremental
    top_misstatement: float
    ranked: tuple[tuple[str, float, float], ...]  # (key, taint, factor increment), largest taint first
    understatement: float = 0.0  # projected understatement, reported apart (Stringer is one-sided)
    factors: tuple[float, ...] = field(default=())


def stringer(interval: float, results: Sequence[Misstatement], confidence: float, *,
             decimals: int | None = TABLE_DECIMALS) -> StringerBound:
    """The upper misstatement limit for overstatements (Stringer bound, as the guide does it):
    basic precision SI × RF(0); each item under the interval projects taint × SI; ranked by
    taint, the i-th adds (RF(i) − RF(i−1) − 1) × its projection as incremental allowance;
    items at or above the interval add their actual misstatement."""
    if interval <= 0:
        raise SizeError("抽样间隔须大于 0")
    top = [m for m in results if m.book >= interval]
    below = [m for m in results if 0 < m.book < interval]
    over = sorted((m for m in below if m.taint > 0), key=lambda m: (-m.taint, m.key))
    under = [m for m in below if m.taint < 0]
    rf = [reliability_factor(i, confidence, decimals) for i in range(len(over) + 1)]
    basic = interval * rf[0]
    top_amount = sum(max(m.amount, 0.0) for m in top)
    projected = sum(m.taint * interval for m in over) + top_amount
    ranked, incremental = [], 0.0
    for i, m in enumerate(over, start=1):
        step = rf[i] - rf[i - 1]
        incremental += m.taint * interval * (step - 1)
        ranked.append((m.key, m.taint, step))
    understatement = sum(-m.taint * interval for m in under) + sum(max(-m.amount, 0.0) for m in top)
    return StringerBound(interval, confidence, basic, projected, incremental, basic + projected + incremental,
                         top_amount, tuple(ranked), understatement, tuple(rf))
