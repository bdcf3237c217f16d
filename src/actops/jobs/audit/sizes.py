"""Attribute-sampling sample sizes and upper deviation limits (AUD-2): pure, scipy only.

Three models of the number of deviations ``k`` in a sample of ``n``:

* ``binomial``: an infinite population (the model of the AICPA Audit Sampling Guide's
  Tables A-1/A-2 and A-3/A-4);
* ``hypergeometric``: a finite population of ``N`` items, of which ``ceil(rate × N)``
  deviate (drawing without replacement: smaller samples for small populations);
* ``poisson``: the large-population, small-rate approximation (the model of the guide's
  monetary-unit tables C-1/C-2); here the expected number of deviations may be fractional.

The sample size is the smallest ``n`` whose upper deviation limit, at the expected number
of deviations in that sample, does not exceed the tolerable rate; equivalently, the smallest
``n`` for which finding that many deviations would still reject "the population deviates at
the tolerable rate" at the chosen confidence. As in the guide's tables, the expected number
of deviations is ``ceil(n × expected rate)`` for the binomial and hypergeometric models (the
"(1)" printed beside 93 in Table A-1 at 1 % expected) and ``n × expected rate`` for Poisson.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import stats

MODELS = ("binomial", "hypergeometric", "poisson")
CHUNK = 256
MAX_N = 100_000  # beyond this a sample is not a sample; the caller is told, not given a number


class SizeError(ValueError):
    """The parameters admit no useful sample (expected ≥ tolerable, or too large a sample)."""


@dataclass(frozen=True)
class Size:
    n: int
    expected_deviations: float  # allowed in the sample at that size (integer except for Poisson)
    model: str
    capped: bool = False  # the population was smaller than the computed size: every item is taken


def _rate(x: float | Fraction, what: str) -> Fraction:
    f = Fraction(str(x)) if not isinstance(x, Fraction) else x
    if not 0 <= f < 1:
        raise SizeError(f"{what} 须在 0 与 1 之间（以小数填写），而不是 {x}")
    return f


def expected_count(n: int, expected: float, model: str) -> float:
    """Deviations the sample may show at size ``n``: exact decimal arithmetic, so that
    400 × 0.035 is 14 and not 14.000000000000002 (which would round up to 15)."""
    e = Fraction(str(expected)) * n
    return float(e) if model == "poisson" else math.ceil(e)


def upper_limit(n: int, k: float, confidence: float, model: str = "binomial",
                population: int | None = None) -> float:
    """One-sided upper deviation limit for ``k`` deviations in ``n`` at ``confidence``.

    binomial: Clopper–Pearson, the beta quantile (guide Tables A-3/A-4); poisson: the gamma
    quantile over ``n`` (``k`` may be fractional); hypergeometric: ``K/N`` for the largest
    number ``K`` of deviations in the population that ``k`` in ``n`` does not reject (Touw &
    Hoogduin 2011, p. 125).
    """
    _check(n, confidence)
    if k < 0 or k > n:
        raise SizeError(f"偏差数 {k} 不在 0 与样本量 {n} 之间")
    if model == "binomial":
        return 1.0 if k >= n else float(stats.beta.ppf(confidence, k + 1, n - k))
    if model == "poisson":
        return float(stats.gamma.ppf(confidence, k + 1)) / n
    if model == "hypergeometric":
        N = _population(population, n)
        alpha = 1 - confidence
        k = int(k)
        # P(X ≤ k | K) falls as K grows: the largest K still above alpha, by bisection.
        lo, hi = k, N - (n - k)  # K = k is always possible; more than N - (n - k) is not
        if stats.hypergeom.cdf(k, N, hi, n) > alpha:
            return hi / N
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if stats.hypergeom.cdf(k, N, mid, n) > alpha:
                lo = mid
            else:
                hi = mid
        return lo / N
    raise SizeError(f"未知的抽样模型 {model}（可选：{'、'.join(MODELS)}）")


def rejects(n: int, k: float, tolerable: float, confidence: float, model: str = "binomial",
            population: int | None = None) -> bool:
    """True when ``k`` deviations in ``n`` let the auditor conclude, at ``confidence``, that
    the population deviation rate is below ``tolerable``."""
    alpha = 1 - confidence
    if model == "binomial":
        return k < n and float(stats.binom.cdf(math.floor(k), n, tolerable)) <= alpha
    if model == "poisson":
        return upper_limit(n, k, confidence, "poisson") <= tolerable
    if model == "hypergeometric":
        N = _population(population, n)
        K = math.ceil(Fraction(str(tolerable)) * N)
        return float(stats.hypergeom.cdf(int(k), N, K, n)) <= alpha
    raise SizeError(f"未知的抽样模型 {model}（可选：{'、'.join(MODELS)}）")


def attribute_size(confidence: float, tolerable: float, expected: float = 0.0, *,
                   model: str = "binomial", population: int | None = None,
                   deviations: int | None = None) -> Size:
    """The smallest sample whose upper deviation limit at the expected number of deviations
    does not exceed ``tolerable``. ``deviations`` fixes that number instead of deriving it
    from ``expected`` (as in Touw & Hoogduin's "2 errors allowed"). For ``hypergeometric``,
    ``population`` is the number of items; the size never exceeds it (``capped``)."""
    _check(1, confidence)
    tol = _rate(tolerable, "可容忍偏差率")
    exp = _rate(expected, "预期偏差率")
    if tol == 0:
        raise SizeError("可容忍偏差率须大于 0")
    if deviations is None and exp >= tol:
        raise SizeError(f"预期偏差率 {float(exp):.2%} 不低于可容忍偏差率 {float(tol):.2%}：无论抽多少都无法得出结论")
    if model not in MODELS:
        raise SizeError(f"未知的抽样模型 {model}（可选：{'、'.join(MODELS)}）")
    limit = _population(population, 1) if model == "hypergeometric" else MAX_N
    for start in range(1, limit + 1, CHUNK):  # vectorised over n, CHUNK sizes at a time
        ns = np.arange(start, min(start + CHUNK, limit + 1))
        ks = (np.full(ns.shape, float(deviations)) if deviations is not None else
              np.array([expected_count(int(n), float(exp), model) for n in ns], dtype=float))
        ok = (ks < ns) & _rejects_many(ns, ks, float(tol), confidence, model, population)
        if ok.any():
            i = int(np.argmax(ok))
            k = float(ks[i]) if model == "poisson" else int(ks[i])
            return Size(int(ns[i]), k, model)
    if model == "hypergeometric":  # every item: the population itself is examined
        k = deviations if deviations is not None else expected_count(limit, float(exp), model)
        return Size(limit, k, model, capped=True)
    raise SizeError(f"所需样本量超过 {MAX_N}：请提高可容忍偏差率或降低预期偏差率")


def _rejects_many(ns: np.ndarray, ks: np.ndarray, tolerable: float, confidence: float, model: str,
                  population: int | None) -> np.ndarray:
    """:func:`rejects` for many sizes at once (same rules)."""
    alpha = 1 - confidence
    if model == "binomial":
        return stats.binom.cdf(np.floor(ks), ns, tolerable) <= alpha
    if model == "poisson":
        return stats.gamma.ppf(confidence, ks + 1) / ns <= tolerable
    N = int(population or 0)
    K = math.ceil(Fraction(str(tolerable)) * N)
    return stats.hypergeom.cdf(np.floor(ks), N, K, ns) <= alpha


def _check(n: int, confidence: float) -> None:
    if not 0 < confidence < 1:
        raise SizeError(f"置信度须在 0 与 1 之间（以小数填写，如 0.95），而不是 {confidence}")
    if n < 1:
        raise SizeError("样本量须至少为 1")


def _population(population: int | None, n: int) -> int:
    if population is None or population < n:
        raise SizeError(f"超几何模型须给出总体数量（不少于样本量 {n}），而不是 {population}")
    return int(population)
