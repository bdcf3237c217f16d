"""Proportional and Neyman allocation to departments, worked by hand in each test."""

from __future__ import annotations

import pytest

from actops.jobs.audit.strata import AllocationError, allocate, rate_spread


@pytest.mark.req("AUD-2")
def test_proportional_with_largest_remainder():
    # 59 over 500 / 300 / 200: quotas 29.5, 17.7, 11.8 → 29 + 17 + 11 = 57; the two largest
    # remainders (.8 for D3, .7 for D2) get one more each.
    a = allocate(59, {"D1": 500, "D2": 300, "D3": 200})
    assert a.quotas == pytest.approx({"D1": 29.5, "D2": 17.7, "D3": 11.8})
    assert a.sizes == {"D1": 29, "D2": 18, "D3": 12}
    assert a.total == 59 and a.method == "proportional"


@pytest.mark.req("AUD-2")
def test_neyman_weights_by_size_times_spread():
    # N·S = 500·10, 300·20, 200·50 = 5,000, 6,000, 10,000 of 21,000; 59 × those:
    # 14.048, 16.857, 28.095 → 14 + 16 + 28 = 58; the largest remainder (.857, D2) gets the last.
    a = allocate(59, {"D1": 500, "D2": 300, "D3": 200}, "neyman", {"D1": 10, "D2": 20, "D3": 50})
    assert a.quotas["D2"] == pytest.approx(59 * 6000 / 21000)
    assert a.sizes == {"D1": 14, "D2": 17, "D3": 28}


@pytest.mark.req("AUD-2")
def test_a_stratum_is_capped_by_its_size_and_the_rest_shared_again():
    # Neyman gives D3 (4 items, S 1,000) 40 × 4,000/(4,000 + 1,000) = 32 > 4: it takes its 4;
    # the 36 left go to D1 alone (D2 has no spread, so its quota is 0 → it still gets 1):
    # D2 fixed at 1, D1 gets 35.
    a = allocate(40, {"D1": 100, "D2": 50, "D3": 4}, "neyman", {"D1": 10, "D2": 0, "D3": 1000})
    assert a.sizes == {"D1": 35, "D2": 1, "D3": 4}
    assert sum(a.sizes.values()) == 40


@pytest.mark.req("AUD-2")
def test_every_non_empty_stratum_gets_at_least_one():
    # 10 over 990 / 5 / 5: proportional 9.9, 0.05, 0.05 → D2, D3 one each, D1 the other 8.
    a = allocate(10, {"D1": 990, "D2": 5, "D3": 5, "D4": 0})
    assert a.sizes == {"D1": 8, "D2": 1, "D3": 1}


@pytest.mark.req("AUD-2")
def test_capped_by_the_population():
    a = allocate(500, {"D1": 30, "D2": 12})
    assert a.sizes == {"D1": 30, "D2": 12} and a.total == 42


@pytest.mark.req("AUD-2")
def test_more_strata_than_items_asked():
    a = allocate(2, {"D1": 10, "D2": 10, "D3": 10})
    assert a.sizes == {"D1": 1, "D2": 1, "D3": 1} and a.total == 3


@pytest.mark.req("AUD-2")
def test_ties_are_broken_by_name_so_the_result_never_depends_on_order():
    # 5 over three equal strata: 1.667 each → 1 + 1 + 1, two more by name.
    assert allocate(5, {"Z": 10, "A": 10, "M": 10}).sizes == {"A": 2, "M": 2, "Z": 1}


@pytest.mark.req("AUD-2")
def test_neyman_without_any_spread_is_proportional():
    a = allocate(10, {"D1": 60, "D2": 40}, "neyman", {"D1": 0, "D2": 0})
    assert (a.method, a.sizes) == ("proportional", {"D1": 6, "D2": 4})


@pytest.mark.req("AUD-2")
def test_rate_spread_and_bad_input():
    assert rate_spread(0.5) == 0.5 and rate_spread(0.0) == 0.0
    with pytest.raises(AllocationError, match="分配方法"):
        allocate(5, {"D1": 10}, "random")
    with pytest.raises(AllocationError, match="不能为负"):
        allocate(5, {"D1": -1})
