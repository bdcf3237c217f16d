"""The sample's verdict once its checklist is done (AUD-5): pure.

* attribute sampling: the sample deviation rate, the upper deviation limit at the cycle's
  confidence (:func:`.sizes.upper_limit`) and the conclusion against the tolerable rate — the
  control can be relied on when the sample rejects "the population deviates at the tolerable
  rate" (:func:`.sizes.rejects`; for the binomial model, upper limit ≤ tolerable rate);
* monetary-unit sampling: projected misstatement and the upper misstatement limit (Stringer,
  :func:`.mus.stringer`) against the tolerable misstatement. A deviation recorded without an
  audited amount counts as wholly misstated (taint 100 %) and is named, so the bound never
  rests on a figure nobody wrote down.

Items examined in full (AUD-3) are not projected: their deviations are counted apart.
Nothing is concluded while any row of the sample is unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from actops.jobs.audit import mus, sizes


@dataclass(frozen=True)
class Outcome:
    """One sample row as the auditor left it."""

    key: str
    checked: bool
    deviation: bool
    book: float | None = None  # MUS: the recorded amount
    audited: float | None = None  # MUS: the amount the auditor established


@dataclass(frozen=True)
class Pending:
    keys: tuple[str, ...]

    @property
    def conclusion(self) -> str:
        return f"尚有 {len(self.keys)} 个样本未检查完毕，暂不得出结论"


@dataclass(frozen=True)
class AttributeResult:
    n: int
    deviations: int
    rate: float
    upper: float
    tolerable: float
    confidence: float
    model: str
    acceptable: bool

    @property
    def conclusion(self) -> str:
        head = (f"样本 {self.n} 个，偏差 {self.deviations} 个，样本偏差率 {self.rate:.2%}；"
                f"在 {self.confidence:.0%} 置信度下偏差率上限为 {self.upper:.2%}")
        if self.acceptable:
            return f"{head}，不超过可容忍偏差率 {self.tolerable:.2%}：控制执行有效，可以信赖。"
        return (f"{head}，超过可容忍偏差率 {self.tolerable:.2%}：不能信赖该控制，"
                "须扩大检查范围或作为控制缺陷报告并整改。")


@dataclass(frozen=True)
class MusResult:
    n: int
    bound: mus.StringerBound
    tolerable: float
    acceptable: bool
    assumed_full: tuple[str, ...]  # deviations without an audited amount, taken as 100 % misstated

    @property
    def conclusion(self) -> str:
        b = self.bound
        head = (f"样本 {self.n} 笔，推断错报 {b.projected:,.2f} 元；在 {b.confidence:.0%} 置信度下错报上限"
                f" {b.upper_limit:,.2f} 元（基本精确度 {b.basic_precision:,.2f}，增量 {b.incremental:,.2f}）")
        tail = f"；{len(self.assumed_full)} 笔偏差未填审定金额，按全额错报计" if self.assumed_full else ""
        if self.acceptable:
            return f"{head}，不超过可容忍错报 {self.tolerable:,.2f} 元：费用金额无重大错报{tail}。"
        return f"{head}，超过可容忍错报 {self.tolerable:,.2f} 元：费用可能存在重大错报，须扩大检查或调整{tail}。"


def pending(outcomes: Sequence[Outcome]) -> Pending | None:
    left = tuple(sorted(o.key for o in outcomes if not o.checked))
    return Pending(left) if left else None


def attribute(outcomes: Sequence[Outcome], confidence: float, tolerable: float, model: str = "binomial",
              population: int | None = None) -> AttributeResult | Pending:
    waiting = pending(outcomes)
    if waiting:
        return waiting
    n = len(outcomes)
    if n == 0:
        raise ValueError("no sample to evaluate")
    k = sum(o.deviation for o in outcomes)
    pop = population if model == "hypergeometric" else None
    upper = sizes.upper_limit(n, k, confidence, model, pop)
    ok = sizes.rejects(n, k, tolerable, confidence, model, pop)
    return AttributeResult(n, k, k / n, upper, tolerable, confidence, model, ok)


def monetary(outcomes: Sequence[Outcome], interval: float, confidence: float, tolerable: float,
             decimals: int | None = mus.TABLE_DECIMALS) -> MusResult | Pending:
    waiting = pending(outcomes)
    if waiting:
        return waiting
    found, assumed = [], []
    for o in outcomes:
        book = float(o.book or 0.0)
        if o.audited is not None and o.audited != book:
            found.append(mus.Misstatement(o.key, book, float(o.audited)))
        elif o.deviation and o.audited is None:
            found.append(mus.Misstatement(o.key, book, 0.0))
            assumed.append(o.key)
    bound = mus.stringer(interval, found, confidence, decimals=decimals)
    return MusResult(len(outcomes), bound, tolerable, bound.upper_limit <= tolerable, tuple(sorted(assumed)))


def in_full(outcomes: Sequence[Outcome]) -> tuple[int, int]:
    """(examined, deviations) among items examined in full: reported, never projected."""
    return len(outcomes), sum(o.deviation for o in outcomes)
