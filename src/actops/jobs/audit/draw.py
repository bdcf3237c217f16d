"""The quarter's population and its sample (AUD-1, AUD-3, AUD-4): pure, seeded, versioned.

* **Always included** (AUD-3), listed apart and examined in full: every emergency approval,
  every request whose decision history was found altered, every item whose amount is at or
  above ``always_amount``, and every finding still open from the last quarter (a 整改复查
  entry). These leave the population the statistical sample is drawn from.
* **Statistical sample** (AUD-2), one per kind, since each kind is a different control:
  approvals and activities by attribute sampling, the size from :mod:`.sizes` on that kind's
  population, allocated to departments by :mod:`.strata` and drawn at random without
  replacement within each department; expenses by monetary-unit sampling (:mod:`.mus`,
  systematic selection in department-then-key order, so departments are spread as well), or
  by attribute sampling when ``expense_method="attribute"``.
* **Reproducible** (AUD-4): every random number comes from Python's Mersenne Twister seeded
  with a hash of (``METHOD_VERSION``, seed, kind, department), and only its ``random()`` is
  used — the one stream Python keeps unchanged across versions for an integer seed. Items are
  put in key order first, so the order rows are read in does not matter. The fingerprint
  (seed, parameters, method version, population digest) is stored with the cycle: the same
  fingerprint means the same sample. Change the algorithm ⇒ bump ``METHOD_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from actops.jobs.audit import mus, sizes, strata

METHOD_VERSION = "actops-audit/1"
KINDS = ("approval", "expense", "activity")
RECHECK_KIND = "recheck"
KIND_ZH = {"approval": "审批", "expense": "费用", "activity": "活动", RECHECK_KIND: "整改复查"}
EMERGENCY, ALTERED = "emergency", "altered"  # item flags
# 入样原因 (审计样本.reason)
RANDOM, MONETARY, WHY_EMERGENCY, WHY_LARGE, WHY_RECHECK, WHY_ALTERED = (
    "随机抽样", "金额单位抽样", "紧急审批", "大额事项", "上期整改复查", "审批记录被改动")
NO_DEPARTMENT = "（未填部门）"


@dataclass(frozen=True, slots=True)  # a million of them make a quarter's population (OPS-4)
class Item:
    kind: str  # approval / expense / activity
    key: str
    department: str | None = None
    amount: float | None = None
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OpenFinding:
    code: str
    department: str | None = None
    subject: str | None = None  # the item it was raised on, for the auditor


@dataclass(frozen=True)
class Params:
    confidence: float = 0.95
    tolerable_rate: float = 0.05
    expected_rate: float = 0.0
    always_amount: float = 100_000
    model: str = "binomial"  # attribute model: binomial / hypergeometric / poisson
    allocation: str = "proportional"  # proportional / neyman
    expense_method: str = "mus"  # mus / attribute
    mus_method: str = "expansion"  # expansion (the guide's formula) / poisson (Table C-1)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Pick:
    kind: str
    key: str
    department: str | None
    amount: float | None
    reasons: tuple[str, ...]
    always: bool  # examined in full (AUD-3) rather than drawn
    subject: str | None = None  # for a 整改复查: the item the finding was raised on


@dataclass(frozen=True)
class KindPlan:
    kind: str
    method: str  # attribute / mus / none
    population: int  # items the sample is drawn from (always-included ones left out)
    n: int  # items drawn
    size: sizes.Size | None = None
    allocation: strata.Allocation | None = None
    mus: mus.MusPlan | None = None
    selection: mus.Selection | None = None
    book_value: float = 0.0
    note: str = ""


@dataclass
class Draw:
    seed: int
    params: Params
    version: str
    population_digest: str
    fingerprint: str
    always: list[Pick] = field(default_factory=list)
    sample: list[Pick] = field(default_factory=list)
    plans: dict[str, KindPlan] = field(default_factory=dict)

    @property
    def picks(self) -> list[Pick]:
        return self.always + self.sample


def rng(seed: int, *purpose: str) -> random.Random:
    """A generator for one purpose (a kind, a department) derived from the cycle's seed."""
    text = "|".join([METHOD_VERSION, str(int(seed)), *purpose])
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def population_digest(items: Iterable[Item], findings: Iterable[OpenFinding] = ()) -> str:
    lines = sorted(f"{i.kind}|{i.key}|{i.department or ''}|{_amount_text(i.amount)}|{','.join(sorted(i.flags))}"
                   for i in items)
    lines += sorted(f"finding|{f.code}|{f.department or ''}|{f.subject or ''}" for f in findings)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def fingerprint(seed: int, params: Params, digest: str) -> str:
    text = json.dumps({"version": METHOD_VERSION, "seed": int(seed), "params": params.as_dict(),
                       "population": digest}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def always_included(items: Iterable[Item], findings: Iterable[OpenFinding], params: Params) -> list[Pick]:
    out = []
    for i in sorted(items, key=lambda i: (KINDS.index(i.kind), i.key)):
        why = []
        if EMERGENCY in i.flags:
            why.append(WHY_EMERGENCY)
        if ALTERED in i.flags:
            why.append(WHY_ALTERED)
        if i.amount is not None and i.amount >= params.always_amount:
            why.append(WHY_LARGE)
        if why:
            out.append(Pick(i.kind, i.key, i.department, i.amount, tuple(why), True))
    for f in sorted(findings, key=lambda f: f.code):
        out.append(Pick(RECHECK_KIND, f.code, f.department, None, (WHY_RECHECK,), True, f.subject))
    return out


def draw(items: Sequence[Item], findings: Sequence[OpenFinding], params: Params, seed: int,
         spread: Mapping[str, Mapping[str, float]] | None = None) -> Draw:
    """The cycle's always-included items and statistical sample. ``spread`` (kind →
    department → S_h) feeds Neyman allocation; by default S_h is the standard deviation of the
    department's amounts (the spread of a rate is the same in every department)."""
    unknown = {i.kind for i in items} - set(KINDS)
    if unknown:
        raise ValueError(f"unknown item kinds {sorted(unknown)}")
    keys = [(i.kind, i.key) for i in items]
    if len(set(keys)) != len(keys):
        raise ValueError("two items of one kind share a key")
    digest = population_digest(items, findings)
    out = Draw(int(seed), params, METHOD_VERSION, digest, fingerprint(seed, params, digest))
    out.always = always_included(items, findings, params)
    taken = {(p.kind, p.key) for p in out.always}
    for kind in KINDS:
        pool = sorted((i for i in items if i.kind == kind and (kind, i.key) not in taken), key=lambda i: i.key)
        if not pool:
            out.plans[kind] = KindPlan(kind, "none", 0, 0, note="本期无可抽样的事项")
            continue
        if kind == "expense" and params.expense_method == "mus":
            plan, picks = _monetary(pool, params, int(seed))
        else:
            plan, picks = _attribute(kind, pool, params, int(seed), (spread or {}).get(kind))
        out.plans[kind] = plan
        out.sample += picks
    return out


def _attribute(kind: str, pool: list[Item], params: Params, seed: int,
               spread: Mapping[str, float] | None) -> tuple[KindPlan, list[Pick]]:
    N = len(pool)
    size = sizes.attribute_size(params.confidence, params.tolerable_rate, params.expected_rate,
                                model=params.model, population=N if params.model == "hypergeometric" else None)
    n = min(size.n, N)
    by_dept: dict[str, list[Item]] = {}
    for i in pool:
        by_dept.setdefault(i.department or NO_DEPARTMENT, []).append(i)
    if spread is None and params.allocation == "neyman":
        spread = {d: _stdev([i.amount for i in its if i.amount is not None]) for d, its in by_dept.items()}
    alloc = strata.allocate(n, {d: len(its) for d, its in by_dept.items()}, params.allocation, spread)
    picks = []
    for dept in sorted(alloc.sizes):
        gen = rng(seed, kind, dept)
        ranked = sorted(((gen.random(), i.key, i) for i in by_dept[dept]), key=lambda t: (t[0], t[1]))
        chosen = sorted((i for _, _, i in ranked[:alloc.sizes[dept]]), key=lambda i: i.key)
        picks += [Pick(kind, i.key, i.department, i.amount, (RANDOM,), False) for i in chosen]
    note = "总体不足，全部检查" if size.n >= N else ""
    return KindPlan(kind, "attribute", N, len(picks), size=size, allocation=alloc, note=note), picks


def _monetary(pool: list[Item], params: Params, seed: int) -> tuple[KindPlan, list[Pick]]:
    units = [(i.key, float(i.amount or 0.0)) for i in pool]
    book = sum(a for _, a in units if a > 0)
    if book <= 0:
        return KindPlan("expense", "mus", len(pool), 0, note="本期费用账面金额为 0，无法按金额单位抽样"), []
    plan = mus.plan(book, params.tolerable_rate * book, params.expected_rate * book, params.confidence,
                    method=params.mus_method)
    dept = {i.key: i.department or NO_DEPARTMENT for i in pool}
    start = mus.random_start(rng(seed, "expense", "mus"), plan.interval)
    sel = mus.select(units, plan.interval, start, order=lambda u: (dept[u[0]], u[0]))
    by_key = {i.key: i for i in pool}
    picks = [Pick("expense", k, by_key[k].department, by_key[k].amount, (MONETARY,), False)
             for k in sorted(sel.keys)]
    note = f"{len(sel.skipped)} 笔金额为 0 或负数的费用不在金额单位抽样范围内，请另行检查" if sel.skipped else ""
    return KindPlan("expense", "mus", len(pool), len(picks), mus=plan, selection=sel, book_value=book,
                    note=note), picks


def _stdev(values: list[float]) -> float:
    return statistics.pstdev(values) if len(values) > 1 else 0.0


def _amount_text(amount: float | None) -> str:
    return "" if amount is None else f"{float(amount):.2f}"
