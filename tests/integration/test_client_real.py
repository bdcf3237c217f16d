"""The client against a real NocoDB: paging cost, batches, upsert, links by key."""

from __future__ import annotations

import math

import pytest

from actops.nocodb import Api


@pytest.fixture(scope="module")
def table(api, prefix):
    base = api.create_base(f"{prefix}client")
    return base.create_table("items", "条目", [
        {"column_name": "code", "title": "编号", "uidt": "SingleLineText"},
        {"column_name": "qty", "title": "数量", "uidt": "Number"},
        {"column_name": "kind", "title": "类型", "uidt": "SingleSelect", "colOptions": {"options": [{"title": "甲"}, {"title": "乙"}]}},
    ])


def test_batches_pages_and_upsert_on_real_nocodb(nocodb, table):
    url, token = nocodb
    api = Api(url, token)
    t = api.base("x").table(table.id, "条目")
    n = 2345
    t.create([{"编号": f"K{i:05d}", "数量": i, "类型": "甲"} for i in range(n)], key="编号")
    assert api.calls["POST"] == math.ceil(n / 100)
    api.calls.clear()
    rows = t.all(fields=["编号"])
    assert len(rows) == n and api.calls["GET"] == math.ceil(n / 1000)
    assert rows[0]["编号"] == "K00000"
    api.calls.clear()
    res = t.upsert([{"编号": f"K{i:05d}", "数量": i, "类型": "甲"} for i in range(n)], key="编号")
    assert res.changes == 0 and api.calls["POST"] == 0 and api.calls["PATCH"] == 0
    res = t.upsert([{"编号": "K00001", "数量": 99}, {"编号": "NEW", "数量": 1}], key="编号")
    assert len(res.created) == 1 and len(res.updated) == 1 and res.unchanged == 0
    assert t.count("(编号,eq,K00001)") == 1
    assert t.all(where="(编号,eq,K00001)")[0]["数量"] == 99


def test_unknown_select_option_is_refused_with_a_clear_message(api, table):
    from actops import errors

    t = api.base("x").table(table.id, "条目")
    with pytest.raises(errors.RequestError) as exc:
        t.create([{"编号": "BAD", "类型": "丙"}], key="编号")
    assert "丙" in str(exc.value) and "条目" in str(exc.value)
    assert t.count("(编号,eq,BAD)") == 0


def test_link_records_in_one_call_per_parent(api, prefix):
    base = api.create_base(f"{prefix}links")
    parent = base.create_table("lines", "预算", [{"column_name": "code", "title": "编号", "uidt": "SingleLineText"}])
    child = base.create_table("costs", "费用", [{"column_name": "code", "title": "编号", "uidt": "SingleLineText"},
                                                {"column_name": "amt", "title": "金额", "uidt": "Currency"}])
    api.request("POST", f"/api/v2/meta/tables/{parent.id}/columns",
                json={"title": "费用明细", "column_name": "costs", "uidt": "Links", "parentId": parent.id,
                      "childId": child.id, "type": "hm"})
    [pid] = parent.create([{"编号": "B1"}], key="编号")
    kids = child.create([{"编号": f"C{i}", "金额": 10} for i in range(150)], key="编号")
    api.calls.clear()
    parent.link("费用明细", pid, kids)
    assert api.calls["POST"] == 2  # 150 children: two batches of at most 100
    assert parent.get(pid)["费用明细"] == 150
