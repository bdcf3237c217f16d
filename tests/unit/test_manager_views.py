"""Managers' views as schema: grouping, the calendar-month filter, and bases made by an older schema."""

from __future__ import annotations

import pytest

from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.spec import TableSpec, ViewSpec, find_table
from actops.schema.sync import apply, plan

TABLES = {"activities", "approval_steps", "action_items", "employees", "departments"}


def _apply(api: FakeApi) -> None:
    apply(api, load_schema(), prefix="t-", only=TABLES, log=lambda s: None)


def _view(api: FakeApi, table: str, title: str) -> tuple[object, dict]:
    t = api.server.table_named(table)
    return t, next(v for v in t.views if v["title"] == title)


def _grouping(api: FakeApi, table: str, title: str) -> list[tuple[str, str]]:
    t, view = _view(api, table, title)
    cols = api.request("GET", f"/api/v2/meta/grids/{view['id']}/grid-columns")
    titles = {c["id"]: c["title"] for c in t.columns}
    grouped = sorted((c for c in cols if c["group_by"]), key=lambda c: c["group_by_order"])
    return [(titles[c["fk_column_id"]], c["group_by_sort"]) for c in grouped]


def _filters(api: FakeApi, table: str, title: str) -> list[tuple]:
    t, view = _view(api, table, title)
    titles = {c["id"]: c["title"] for c in t.columns}
    return [(titles[f["fk_column_id"]], f["comparison_op"], f.get("comparison_sub_op"), f.get("value"))
            for f in view["filters"]]


@pytest.fixture
def api():
    a = FakeApi()
    _apply(a)
    return a


@pytest.mark.req("STF-3")
def test_the_three_manager_views_are_grouped_and_filtered_as_the_schema_says(api):
    assert _grouping(api, "approval_steps", "待我审批") == [("审批人", "asc")]
    assert _grouping(api, "action_items", "本部门逾期事项") == [("部门", "asc")]
    assert _grouping(api, "activities", "本月活动") == []
    assert _filters(api, "activities", "本月活动") == [("是否本月", "eq", None, 1)]
    acts = api.server.table_named("activities")
    formula = next(c for c in acts.columns if c["title"] == "是否本月")["colOptions"]["formula_raw"]
    assert 'DATEADD(NOW(), 8, "hour")' in formula and '"months"' in formula  # calendar months, Beijing time
    again = plan(api, load_schema(), prefix="t-", only=TABLES)
    assert again.changes == [] and again.drift == []


def _make_old(api: FakeApi) -> None:
    """What a base made before the manager views changed looks like: no grouping, the old filter."""
    for table, title in [("approval_steps", "待我审批"), ("action_items", "本部门逾期事项")]:
        for gc in _view(api, table, title)[1]["columns"]:
            gc.update(group_by=None, group_by_order=None, group_by_sort=None)
    acts, view = _view(api, "activities", "本月活动")
    start = next(c for c in acts.columns if c["title"] == "开始日期")
    view["filters"][:] = [{"id": "fiold", "fk_view_id": view["id"], "fk_column_id": start["id"],
                           "comparison_op": "gte", "comparison_sub_op": "oneMonthAgo", "value": None}]


@pytest.mark.req("STF-3")
def test_schema_apply_brings_a_base_of_the_older_schema_up_to_date_once(api):
    _make_old(api)
    p = plan(api, load_schema(), prefix="t-", only=TABLES)
    kinds = sorted((c.what, c.where) for c in p.changes)
    assert kinds == [
        ("group view", "审批步骤/待我审批: 分组 审批人"),
        ("group view", "待办事项/本部门逾期事项: 分组 部门"),
        ("replace view filters", "活动/本月活动: 是否本月 eq 1"),
    ]
    p.apply(lambda s: None)
    assert _grouping(api, "approval_steps", "待我审批") == [("审批人", "asc")]
    assert _filters(api, "activities", "本月活动") == [("是否本月", "eq", None, 1)]
    again = plan(api, load_schema(), prefix="t-", only=TABLES)
    assert again.changes == [] and again.drift == []


@pytest.mark.req("STF-3", "STF-2")
def test_a_view_grouped_by_the_key_column_is_regrouped_by_the_link_that_shows_names(api):
    steps, view = _view(api, "approval_steps", "待我审批")
    key = next(c for c in steps.columns if c["title"] == "审批人（工号）")
    for gc in api.request("GET", f"/api/v2/meta/grids/{view['id']}/grid-columns"):
        on_key = gc["fk_column_id"] == key["id"]  # as an apply before the links grouped it
        api.request("PATCH", f"/api/v2/meta/grid-columns/{gc['id']}",
                    json={"group_by": on_key, "group_by_order": 1 if on_key else None, "group_by_sort": "asc"})
    assert _grouping(api, "approval_steps", "待我审批") == [("审批人（工号）", "asc")]
    p = plan(api, load_schema(), prefix="t-", only=TABLES)
    assert [(c.what, c.where) for c in p.changes] == [("group view", "审批步骤/待我审批: 分组 审批人")]
    p.apply(lambda s: None)
    assert _grouping(api, "approval_steps", "待我审批") == [("审批人", "asc")]
    assert plan(api, load_schema(), prefix="t-", only=TABLES).changes == []


def test_without_the_referenced_table_a_view_groups_by_the_key_column():
    api = FakeApi()
    apply(api, load_schema(), prefix="t-", only={"approval_steps"}, log=lambda s: None)
    assert _grouping(api, "approval_steps", "待我审批") == [("审批人（工号）", "asc")]
    again = plan(api, load_schema(), prefix="t-", only={"approval_steps"})
    assert again.changes == [] and again.drift == []


@pytest.mark.req("STF-3")
def test_a_view_a_person_changed_in_nocodb_is_reported_not_reverted(api):
    steps, view = _view(api, "approval_steps", "待我审批")
    role = next(c for c in steps.columns if c["title"] == "审批角色")
    cols = api.request("GET", f"/api/v2/meta/grids/{view['id']}/grid-columns")
    for gc in cols:  # a manager regrouped it by role
        grouped = gc["fk_column_id"] == role["id"]
        api.request("PATCH", f"/api/v2/meta/grid-columns/{gc['id']}",
                    json={"group_by": grouped or None, "group_by_order": 1 if grouped else None,
                          "group_by_sort": "desc" if grouped else None})
    acts, month = _view(api, "activities", "本月活动")
    month["filters"][0]["value"] = "0"  # and someone flipped the month filter
    p = plan(api, load_schema(), prefix="t-", only=TABLES)
    assert p.changes == []
    assert sorted(p.drift) == [
        "审批步骤/待我审批: grouped by 审批角色（降序） in NocoDB, schema says 审批人; left as is",
        "活动/本月活动: filters differ from the schema (changed in NocoDB?); left as is",
    ]


def test_group_by_names_a_field_of_the_table():
    _, acts = find_table("activities")
    fields = [f.model_dump() for f in acts.fields]
    with pytest.raises(ValueError, match="unknown group-by field 'nobody'"):
        TableSpec(name="x", zh="x", en="x", key="code", fields=fields,
                  views=[ViewSpec(zh="v", en="v", group_by=("nobody",))])
    with pytest.raises(ValueError, match="unknown field 'gone' in old_filters"):
        TableSpec(name="x", zh="x", en="x", key="code", fields=fields,
                  views=[ViewSpec(zh="v", en="v", old_filters=(("gone", "eq", 1),))])


@pytest.mark.req("STF-3")
def test_relative_date_filters_count_days_in_shanghai_also_on_bases_made_before(api):
    # NocoDB counts ``today`` in the filter's meta timezone, UTC without one: from 00:00 to
    # 08:00 Shanghai, 本部门逾期事项 left out the items due yesterday (seen in a browser test).
    t, view = _view(api, "action_items", "本部门逾期事项")
    due = next(f for f in view["filters"] if f.get("comparison_sub_op") == "today")
    assert due["meta"] == {"timezone": "Asia/Shanghai"}
    due["meta"] = {}  # as a base made before this, or a filter edited in NocoDB
    p = plan(api, load_schema(), prefix="t-", only=TABLES)
    assert [(c.what, c.where) for c in p.changes] == [("filter timezone", "待办事项/本部门逾期事项: today 按 Asia/Shanghai 计算")]
    _apply(api)
    assert due["meta"] == {"timezone": "Asia/Shanghai"} and due["comparison_op"] == "lt"
    assert plan(api, load_schema(), prefix="t-", only=TABLES).changes == []
