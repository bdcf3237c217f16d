"""The streamed full read of the approvals (issue 12): the decision chains folded a page at a
time give every request the verdict the whole-list check gives, whatever the pages."""

from __future__ import annotations

import random

import pytest

from actops.jobs.approvals import full, history
from tests.unit.test_approvals_rules import NOW, decision


def _reference(decisions, stored_head):
    """The whole-list check as it was written before the fold (kept here as the oracle)."""
    rows = sorted(decisions, key=lambda r: r.Id)
    problems, seals = [], {}
    prev, sealed = history.GENESIS, 0
    last_sealed_pos = max((i for i, r in enumerate(rows) if r.hash), default=-1)
    for i, r in enumerate(rows):
        if r.hash:
            sealed += 1
            if (r.prev_hash or "") != prev:
                problems.append((r.Id, "prev"))
            if history.digest(r.prev_hash or "", r) != r.hash:
                problems.append((r.Id, "content"))
            prev = r.hash
        elif i < last_sealed_pos:
            problems.append((r.Id, "unsealed"))
        else:
            h = history.digest(prev, r)
            seals[r.Id] = (prev, h)
            prev = h
    stored = history.parse_head(stored_head)
    last = next((r.hash for r in reversed(rows) if r.hash), history.GENESIS)
    if stored is not None:
        if sealed < stored[0]:
            problems.append((None, "fewer"))
        elif sealed == stored[0] and sealed and rows and stored[1] != last:
            problems.append((None, "last"))
    elif str(stored_head or "").strip():
        problems.append((None, "format"))
    elif sealed:
        problems.append((None, "cleared"))
    return [p[0] for p in problems], seals, history.head(sealed + len(seals), prev)


def _company(rng: random.Random):
    """Twelve requests' decisions, sealed, then damaged in every way a person could."""
    rows, heads, next_id = [], {}, 1
    for n in range(12):
        code = f"AP-{n}"
        mine = []
        for k in range(rng.randint(0, 5)):
            mine.append(decision(next_id, f"{code}-S{k}", "通过", "E03", request=code, comment=f"意见{n}.{k}"))
            next_id += rng.randint(1, 3)
        seal = history.check(mine, None)
        for d in mine[:rng.randint(0, len(mine))]:  # some sealed, the newest maybe not yet
            d.prev_hash, d.hash = seal.seals[d.Id]
        sealed = sum(1 for d in mine if d.hash)
        heads[code] = history.head(sealed, mine[sealed - 1].hash) if sealed else None
        rows += mine
    rng.shuffle(rows)
    damage = rows[:6]
    damage[0].comment = "改过"
    damage[1].hash = None
    damage[2].prev_hash = "0" * 16
    heads["AP-3"] = "7:abc"
    heads["AP-4"] = "not a head"
    del rows[3]
    return sorted(rows, key=lambda d: d.Id), heads


@pytest.mark.req("APR-3", "SEC-4")
@pytest.mark.parametrize("seed", range(25))
def test_folded_pages_give_each_request_the_whole_list_verdict(seed):
    rng = random.Random(seed)
    rows, heads = _company(rng)
    cuts = sorted(rng.sample(range(len(rows) + 1), min(3, len(rows) + 1)))
    pages = [(rows[a:b], []) for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
    folded = full.fold(pages, keep={"AP-1"})
    assert folded.ids == [d.Id for d in rows]
    assert [d.Id for d in folded.kept.get("AP-1", [])] == [d.Id for d in rows if d.request == "AP-1"]
    assert set(folded.kept) <= {"AP-1"}
    for code, stored in heads.items():
        mine = [d for d in rows if d.request == code]
        v = folded.verdict(code, stored)
        assert ([p[0] for p in v.problems], v.seals, v.head) == _reference(mine, stored), code
        assert v.hashes == {rid: next(d.hash for d in mine if d.Id == rid) for rid, _ in v.problems if rid}


@pytest.mark.req("APR-3")
def test_a_quiet_verdict_is_one_with_nothing_to_write():
    rows = [decision(i, f"AP-1-S{i}", "通过", "E03", at=NOW) for i in (1, 2)]
    first = history.check(rows, None)
    assert not first.quiet(None)  # seals to write
    for r in rows:
        r.prev_hash, r.hash = first.seals[r.Id]
    again = history.check(rows, first.head)
    assert again.quiet(first.head) and not again.quiet(None)  # 记录校验 blank: not quiet
    assert history.check([], None).quiet(None) and not history.check([], "1:abc").quiet("1:abc")
