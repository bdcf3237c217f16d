"""The managers' views on a real NocoDB: grouping, 「本月」 as the calendar month, older bases brought up to date."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from actops.schema import load_schema
from actops.schema.sync import plan

TABLES = {"activities", "approval_steps", "action_items", "employees", "departments"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def store(make_store):
    return make_store(TABLES)


def _view(table, title):
    return next(v for v in table.meta(refresh=True)["views"] if v["title"] == title)


def _grouping(api, table, title):
    cols = api.request("GET", f"/api/v2/meta/grids/{_view(table, title)['id']}/grid-columns")
    titles = {c["id"]: c["title"] for c in table.meta()["columns"]}
    return [(titles[c["fk_column_id"]], c["group_by_sort"]) for c in sorted(
        (c for c in cols if c["group_by"]), key=lambda c: c["group_by_order"])]


def _through_view(api, table, title):
    rows = api.request("GET", f"/api/v2/tables/{table.id}/records",
                       params={"viewId": _view(table, title)["id"], "limit": 1000})["list"]
    return rows


@pytest.mark.req("STF-3")
def test_views_are_grouped_and_a_second_apply_changes_nothing(api, prefix, store):
    steps, items = store.table("approval_steps").table, store.table("action_items").table
    assert _grouping(api, steps, "待我审批") == [("审批人", "asc")]
    assert _grouping(api, items, "本部门逾期事项") == [("部门", "asc")]
    again = plan(api, load_schema(), prefix=prefix, only=TABLES)
    assert again.changes == [] and again.drift == []


@pytest.mark.req("STF-3")
def test_this_month_is_the_calendar_month_in_beijing_time(api, store):
    acts = store.table("activities")
    today = datetime.now(SHANGHAI).date()
    first = today.replace(day=1)
    last_end = first - timedelta(days=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    month_end = next_first - timedelta(days=1)
    dated = {
        "M-FIRST": (first, first), "M-LAST-DAY": (month_end, month_end), "M-TODAY": (today, today),
        "M-SPAN-IN": (last_end - timedelta(days=3), first + timedelta(days=1)),  # runs into this month
        "M-SPAN-OUT": (month_end, next_first + timedelta(days=2)),  # runs on into next month
        "X-LAST": (last_end.replace(day=1), last_end),  # all of last month: not shown
        "X-PREV-END": (last_end, last_end),  # the day before the 1st: not shown
        "X-NEXT": (next_first, next_first),  # the day after the month: not shown
        "X-YEAR-AGO": (today.replace(year=today.year - 1), today.replace(year=today.year - 1)),  # same month, last year
    }
    acts.create([{"code": c, "name": c, "type": "培训", "stage": "策划", "department": "D01", "owner": "E0001",
                  "start_date": s, "end_date": e} for c, (s, e) in dated.items()])
    shown = sorted(r["活动编号"] for r in _through_view(api, acts.table, "本月活动"))
    assert shown == sorted(c for c in dated if c.startswith("M-"))


@pytest.mark.req("STF-3")
def test_schema_apply_updates_views_made_by_the_older_schema(api, prefix, store):
    """A base from before: 「待我审批」 ungrouped, 「本月活动」 on "start ≥ one month ago"."""
    steps, acts = store.table("approval_steps").table, store.table("activities").table
    for gc in api.request("GET", f"/api/v2/meta/grids/{_view(steps, '待我审批')['id']}/grid-columns"):
        if gc["group_by"]:
            api.request("PATCH", f"/api/v2/meta/grid-columns/{gc['id']}",
                        json={"group_by": False})
    month = _view(acts, "本月活动")
    for f in api.request("GET", f"/api/v2/meta/views/{month['id']}/filters")["list"]:
        api.request("DELETE", f"/api/v2/meta/filters/{f['id']}")
    api.request("POST", f"/api/v2/meta/views/{month['id']}/filters",
                json={"fk_column_id": acts.column("start_date")["id"], "comparison_op": "gte",
                      "comparison_sub_op": "oneMonthAgo", "value": None})
    p = plan(api, load_schema(), prefix=prefix, only=TABLES)
    assert sorted((c.what, c.where) for c in p.changes) == [
        ("group view", "审批步骤/待我审批: 分组 审批人"),
        ("replace view filters", "活动/本月活动: 是否本月 eq 1"),
    ]
    p.apply(lambda s: None)
    assert _grouping(api, steps, "待我审批") == [("审批人", "asc")]
    filters = api.request("GET", f"/api/v2/meta/views/{month['id']}/filters")["list"]
    assert [(f["fk_column_id"], f["comparison_op"], str(f["value"])) for f in filters] == [
        (acts.column("this_month")["id"], "eq", "1")]
    again = plan(api, load_schema(), prefix=prefix, only=TABLES)
    assert again.changes == [] and again.drift == []
