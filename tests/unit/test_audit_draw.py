"""The quarter's draw: always-included items apart from the statistical sample (AUD-3), the
sizes of :mod:`sizes`/:mod:`mus` per kind, and a draw that the seed reproduces (AUD-4)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from actops.jobs.audit import draw as d
from actops.jobs.audit.draw import ALTERED, EMERGENCY, Item, OpenFinding, Params
from actops.jobs.audit.sizes import attribute_size

DEPTS = ("D02", "D03", "D04")


def population(seed: int = 1) -> list[Item]:
    g = random.Random(seed)
    items = [Item("approval", f"AP-{i:04d}", DEPTS[i % 3], round(g.uniform(500, 60_000), 2)) for i in range(300)]
    items[5] = replace(items[5], flags=frozenset({EMERGENCY}))
    items[6] = replace(items[6], flags=frozenset({EMERGENCY, ALTERED}))
    items[7] = replace(items[7], flags=frozenset({ALTERED}))
    items[8] = replace(items[8], amount=100_000.0)  # at the threshold: examined in full
    items += [Item("expense", f"EXP-{i:04d}", DEPTS[i % 2], round(g.lognormvariate(7, 1.2), 2)) for i in range(400)]
    items.append(Item("expense", "EXP-BIG", "D02", 250_000.0))
    items += [Item("activity", f"ACT-{i:03d}", DEPTS[i % 3], 20_000.0) for i in range(40)]
    return items


FINDINGS = [OpenFinding("F-2026Q2-01", "D03", "AP-0999"), OpenFinding("F-2026Q2-02", None, "EXP-0042")]


def keys(picks):
    return [(p.kind, p.key) for p in picks]


@pytest.mark.req("AUD-3")
def test_always_included_are_listed_apart_with_their_reasons():
    got = d.draw(population(), FINDINGS, Params(), seed=7)
    reasons = {(p.kind, p.key): p.reasons for p in got.always}
    assert reasons == {
        ("approval", "AP-0005"): ("紧急审批",),
        ("approval", "AP-0006"): ("紧急审批", "审批记录被改动"),
        ("approval", "AP-0007"): ("审批记录被改动",),
        ("approval", "AP-0008"): ("大额事项",),
        ("expense", "EXP-BIG"): ("大额事项",),
        ("recheck", "F-2026Q2-01"): ("上期整改复查",),
        ("recheck", "F-2026Q2-02"): ("上期整改复查",),
    }
    assert all(p.always for p in got.always) and not any(p.always for p in got.sample)
    assert not set(keys(got.always)) & set(keys(got.sample))
    assert next(p for p in got.always if p.key == "F-2026Q2-01").subject == "AP-0999"


@pytest.mark.req("AUD-2", "AUD-3")
def test_attribute_sample_per_kind_stratified_by_department():
    got = d.draw(population(), FINDINGS, Params(), seed=7)
    plan = got.plans["approval"]
    assert plan.population == 296  # 300 less the four examined in full
    assert plan.size.n == attribute_size(0.95, 0.05, 0).n == 59
    approvals = [p for p in got.sample if p.kind == "approval"]
    assert len(approvals) == len({p.key for p in approvals}) == 59
    per_dept = {dep: sum(p.department == dep for p in approvals) for dep in DEPTS}
    assert per_dept == plan.allocation.sizes
    assert all(p.reasons == ("随机抽样",) for p in approvals)


@pytest.mark.req("AUD-2")
def test_a_small_population_is_examined_whole():
    plan = d.draw(population(), [], Params(), seed=7).plans["activity"]
    assert (plan.population, plan.n, plan.note) == (40, 40, "总体不足，全部检查")


@pytest.mark.req("AUD-2")
def test_hypergeometric_model_uses_the_kinds_population():
    got = d.draw(population(), [], Params(model="hypergeometric"), seed=7)
    plan = got.plans["approval"]
    assert plan.size.n == attribute_size(0.95, 0.05, 0, model="hypergeometric", population=296).n < 59


@pytest.mark.req("AUD-2")
def test_expenses_by_monetary_unit_sampling():
    got = d.draw(population(), [], Params(), seed=7)
    plan = got.plans["expense"]
    assert plan.method == "mus" and plan.mus.n == 60  # 3.00 / 5 % with nothing expected
    assert plan.book_value == pytest.approx(sum(i.amount for i in population()
                                                if i.kind == "expense" and i.key != "EXP-BIG"))
    assert plan.mus.interval == pytest.approx(plan.book_value / 60)
    picked = {p.key for p in got.sample if p.kind == "expense"}
    big = {i.key for i in population() if i.kind == "expense" and plan.mus.interval <= i.amount < 100_000}
    assert big and big <= picked  # at or above the interval: always in
    assert "EXP-BIG" not in picked  # examined in full already
    assert plan.n == len(picked) <= 60


@pytest.mark.req("AUD-2")
def test_expenses_by_attribute_sampling_when_asked():
    got = d.draw(population(), [], Params(expense_method="attribute", allocation="neyman"), seed=7)
    plan = got.plans["expense"]
    assert plan.method == "attribute" and plan.n == 59
    assert plan.allocation.method == "neyman"  # by the departments' spread of amounts


@pytest.mark.req("AUD-4")
def test_the_same_seed_and_parameters_draw_the_same_sample_whatever_the_row_order():
    items = population()
    first = d.draw(items, FINDINGS, Params(), seed=20261)
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    again = d.draw(shuffled, list(reversed(FINDINGS)), Params(), seed=20261)
    assert keys(again.sample) == keys(first.sample) and keys(again.always) == keys(first.always)
    assert again.fingerprint == first.fingerprint


@pytest.mark.req("AUD-4")
def test_a_new_seed_draws_another_sample():
    a = d.draw(population(), [], Params(), seed=1)
    b = d.draw(population(), [], Params(), seed=2)
    assert {k for k in keys(a.sample) if k[0] == "approval"} != {k for k in keys(b.sample) if k[0] == "approval"}
    assert a.plans["expense"].selection.start != b.plans["expense"].selection.start
    assert a.fingerprint != b.fingerprint
    assert keys(a.always) == keys(b.always)  # the full examinations do not depend on chance


@pytest.mark.req("AUD-4")
def test_the_fingerprint_covers_parameters_population_and_method_version(monkeypatch):
    base = d.draw(population(), [], Params(), seed=5)
    assert d.draw(population(), [], Params(tolerable_rate=0.06), seed=5).fingerprint != base.fingerprint
    assert d.draw(population(2), [], Params(), seed=5).fingerprint != base.fingerprint
    monkeypatch.setattr(d, "METHOD_VERSION", "actops-audit/test")
    other = d.draw(population(), [], Params(), seed=5)
    assert other.fingerprint != base.fingerprint and keys(other.sample) != keys(base.sample)


@pytest.mark.req("AUD-4")
def test_a_pinned_draw_never_changes_without_a_new_method_version():
    # If this fails, the draw changed: bump METHOD_VERSION (stored samples stay reproducible
    # only under the version they were drawn with) and pin the new result.
    items = [Item("approval", f"AP-{i:02d}", "D02" if i < 12 else "D03") for i in range(20)]
    got = d.draw(items, [], Params(tolerable_rate=0.2), seed=42)
    assert got.version == "actops-audit/1"
    assert [p.key for p in got.sample] == PINNED


# 95 %, 20 % tolerable, none expected: 14 (Table A-1), 8.4 / 5.6 → 8 + 6 by department.
PINNED = ["AP-01", "AP-02", "AP-03", "AP-05", "AP-06", "AP-08", "AP-09", "AP-11",  # D02
          "AP-13", "AP-15", "AP-16", "AP-17", "AP-18", "AP-19"]  # D03


@pytest.mark.req("AUD-1")
def test_an_empty_kind_has_no_sample_and_bad_items_are_refused():
    got = d.draw([Item("approval", "AP-1", "D02", 10.0)], [], Params(), seed=1)
    assert got.plans["expense"].method == "none" and got.plans["activity"].n == 0
    with pytest.raises(ValueError, match="kinds"):
        d.draw([Item("invoice", "X", None)], [], Params(), seed=1)
    with pytest.raises(ValueError, match="share a key"):
        d.draw([Item("approval", "X"), Item("approval", "X")], [], Params(), seed=1)
