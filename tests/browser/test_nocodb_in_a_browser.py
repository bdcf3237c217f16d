"""NocoDB as staff and managers see it, in headless Chromium: Chinese interface, the managers'
views, a form filled and submitted, a phone-sized window. Every step leaves a screenshot in
tests/artifacts/screenshots/<test>/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from actops.nocodb import Api, Base
from tests.browser import harness

TABLES = {"departments", "employees", "activities", "approval_steps", "reports", "action_items"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Nc:
    """Where things are in the test base, for building dashboard URLs."""

    url: str
    api: Api
    base: Base
    base_title: str
    workspace: str

    def table(self, name: str):
        return self.base.table_by_name(name)

    def view(self, table: str, title: str) -> tuple[str, str]:
        t = self.table(table)
        return t.id, next(v["id"] for v in t.meta(refresh=True)["views"] if v["title"] == title)

    def open(self, page, table: str, view: str | None = None):
        table_id, view_id = self.view(table, view) if view else (self.table(table).id, None)
        return harness.open_table(page, self.url, self.workspace, self.base.id, table_id, view_id)


def _month_dates(today: date) -> dict[str, tuple[date, date]]:
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return {
        "A-THIS": (first + timedelta(days=1), first + timedelta(days=3)),  # inside this month
        "A-SPAN": (last_month_end - timedelta(days=2), first),  # starts last month, ends on the 1st
        "A-LAST": (last_month_end.replace(day=3), last_month_end.replace(day=6)),  # last month only
        "A-NEXT": (next_month + timedelta(days=4), next_month + timedelta(days=6)),  # next month only
    }


@pytest.fixture(scope="module")
def nc(make_store, nocodb, api) -> Nc:
    store = make_store(TABLES)
    today = datetime.now(SHANGHAI).date()
    store.table("departments").create([
        {"code": "D01", "name": "市场部", "kind": "业务"}, {"code": "D02", "name": "技术部", "kind": "业务"},
    ])
    store.table("employees").create([
        {"code": "E0001", "name": "张伟", "department": "D01", "roles": ["员工", "部门负责人"], "email": "zhangwei@example.com"},
        {"code": "E0002", "name": "李娜", "department": "D02", "roles": ["员工", "财务"], "email": "lina@example.com"},
        {"code": "E0003", "name": "王强", "department": "D01", "roles": ["员工"], "email": "wangqiang@example.com"},
    ])
    due = datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(days=1)
    steps = [("AP-000001", "E0001", "待审批"), ("AP-000002", "E0002", "待审批"), ("AP-000003", "E0001", "待审批"),
             ("AP-000004", "E0003", "待审批"), ("AP-000005", "E0002", "待审批"), ("AP-000006", "E0002", "已通过")]
    store.table("approval_steps").create([
        {"code": f"{req}-S1", "request": req, "seq": 1, "role": "部门负责人", "assignee": who, "status": status,
         "due_at": due} for req, who, status in steps
    ])
    items = [("AI-001", "D01", "E0001", -5, "进行中"), ("AI-002", "D01", "E0003", -2, "未开始"),
             ("AI-003", "D02", "E0002", -1, "进行中"), ("AI-004", "D02", "E0002", 3, "进行中"),
             ("AI-005", "D01", "E0001", -9, "已完成")]
    store.table("action_items").create([
        {"code": code, "title": f"事项 {code}", "department": dept, "owner": who,
         "due_date": today + timedelta(days=days), "status": status} for code, dept, who, days, status in items
    ])
    store.table("activities").create([
        {"code": code, "name": f"活动 {code}", "type": "市场推广", "stage": "执行", "department": "D01",
         "owner": "E0001", "start_date": start, "end_date": end} for code, (start, end) in _month_dates(today).items()
    ])
    for table, name in [("employees", "name"), ("departments", "name")]:  # what `display:` in the yaml does
        column = store.table(table).table.column(name)
        if not column.get("pv"):
            api.request("POST", f"/api/v2/meta/columns/{column['id']}/primary")
    title = f"{store.prefix}活动运营"
    base = api.base_by_title(title)
    workspace = next(b["fk_workspace_id"] for b in api.bases() if b["id"] == base.id)
    return Nc(nocodb[0], api, base, title, workspace)


def _rows(data, key: str) -> list[str]:
    return sorted(r[key] for r in data["list"])


def _name(value) -> str:
    """What a grid shows for a reference: a link's display value, or the plain text."""
    if isinstance(value, dict):
        return next(str(v) for k, v in value.items() if k != "Id")
    return str(value)


@pytest.mark.req("STF-3")
def test_the_admin_signs_in_switches_to_chinese_and_opens_the_pending_approvals(fresh_page, nc, nocodb_login, shot):
    page = fresh_page
    harness.sign_in(page, nc.url, *nocodb_login)
    page.goto(f"{nc.url}/dashboard/#/{nc.workspace}/{nc.base.id}")  # the base's overview
    page.get_by_test_id("nc-tbl-title-审批步骤").wait_for()
    assert page.get_by_text("Create New").first.is_visible()  # NocoDB starts in English
    shot(page, "signed-in-english")
    harness.set_language_zh(page)
    assert harness.ui_language(page) == harness.ZH
    grid = nc.open(page, "approval_steps")
    assert _rows(grid, "步骤编号") == [f"AP-00000{i}-S1" for i in range(1, 7)]
    for label in ("数据", "字段", "筛选", "分组", "排序", "新增记录"):  # NocoDB's own interface, in Chinese
        assert page.get_by_text(label, exact=False).first.is_visible(), label
    shot(page, "审批步骤-grid")

    groups = nc.open(page, "approval_steps", "待我审批")
    # grouped by the approver's link: each group is headed by the person's name
    assert {g["审批人"]: int(g["count"]) for g in groups["list"]} == {"张伟": 2, "李娜": 2, "王强": 1}
    shot(page, "待我审批-groups")
    table_id, view_id = nc.view("approval_steps", "待我审批")
    opened = harness.expand_groups(page, len(groups["list"]), nc.base.id, table_id, view_id)
    shown = {r["步骤编号"]: _name(r["审批人"]) for rows in opened for r in rows}
    assert shown == {"AP-000001-S1": "张伟", "AP-000003-S1": "张伟", "AP-000002-S1": "李娜",
                     "AP-000005-S1": "李娜", "AP-000004-S1": "王强"}  # 已通过 is not pending
    shot(page, "待我审批-expanded")


@pytest.mark.req("STF-3")
def test_a_manager_sees_overdue_items_by_department_and_this_calendar_month(page, nc, shot):
    overdue = nc.open(page, "action_items", "本部门逾期事项")
    assert {g["部门"]: int(g["count"]) for g in overdue["list"]} == {"市场部": 2, "技术部": 1}
    table_id, view_id = nc.view("action_items", "本部门逾期事项")
    opened = harness.expand_groups(page, len(overdue["list"]), nc.base.id, table_id, view_id)
    assert [sorted(r["事项编号"] for r in rows) for rows in opened] == [["AI-001", "AI-002"], ["AI-003"]]
    shot(page, "本部门逾期事项")  # not yet due (AI-004) and done (AI-005) are not there

    month = nc.open(page, "activities", "本月活动")
    assert _rows(month, "活动编号") == ["A-SPAN", "A-THIS"]  # not last month's, not next month's
    assert {r["活动编号"]: r["是否本月"] for r in month["list"]} == {"A-SPAN": 1, "A-THIS": 1}
    shot(page, "本月活动")
    everything = nc.open(page, "activities")
    assert {r["活动编号"]: r["是否本月"] for r in everything["list"]} == {"A-THIS": 1, "A-SPAN": 1, "A-LAST": 0, "A-NEXT": 0}


def _form_layout(api: Api, form_id: str) -> list[tuple]:
    columns = api.request("GET", f"/api/v2/meta/forms/{form_id}")["columns"]
    return sorted((c["fk_column_id"], bool(c["show"]), bool(c["required"]), c["order"], c.get("description"))
                  for c in columns)


@pytest.mark.req("STF-1", "STF-2")
def test_the_admin_fills_the_work_report_form_and_the_row_arrives(page, nc, shot):
    reports = nc.table("reports")
    table_id, form_id = nc.view("reports", "工作报告提交")
    layout = _form_layout(nc.api, form_id)
    harness.open_form(page, nc.url, nc.workspace, nc.base.id, table_id, form_id)
    shot(page, "工作报告提交-empty")
    monday = datetime.now(SHANGHAI).date() - timedelta(days=datetime.now(SHANGHAI).weekday() + 7)
    content = "本周完成春季促销方案初稿，已约客户下周确认。"
    kinds = harness.fill_form(page, {"提交人": "E0003", "报告类型": "周报", "报告期开始": monday.isoformat(),
                                     "报告内容": content})
    assert kinds["报告类型"] == "singleselect" and kinds["报告期开始"] == "date" and kinds["报告内容"] == "longtext"
    assert kinds["提交人"] in ("singlelinetext", "link")  # a text box for the 工号 today, a pick-list later
    harness.form_field(page, "提交人").scroll_into_view_if_needed()
    shot(page, "工作报告提交-filled")
    harness.submit_form(page, "报告已提交")
    shot(page, "工作报告提交-submitted")

    rows = [r for r in reports.all() if r.get("报告内容") == content]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["报告类型"] == "周报" and row["报告期开始"] == monday.isoformat()
    assert _name(row["提交人"]) == ("王强" if kinds["提交人"] == "link" else "E0003")
    assert _form_layout(nc.api, form_id) == layout  # filling the form in the builder changed nothing of it


@pytest.mark.req("STF-3")
def test_a_grid_in_a_phone_sized_window(phone_page, nc, shot):
    grid = nc.open(phone_page, "approval_steps", "待我审批")
    assert len(grid["list"]) == 3
    assert phone_page.viewport_size == harness.PHONE
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= harness.PHONE["width"], f"the page is {width}px wide in a {harness.PHONE['width']}px window"
    shot(phone_page, "待我审批-phone")
    table_id, view_id = nc.view("approval_steps", "待我审批")
    first = harness.expand_groups(phone_page, 1, nc.base.id, table_id, view_id)[0]
    assert sorted(r["步骤编号"] for r in first) == ["AP-000001-S1", "AP-000003-S1"]
    shot(phone_page, "待我审批-phone-张伟")


@pytest.mark.req("STF-2")
def test_a_reference_that_is_a_link_is_picked_from_the_list(page, nc, prefix, shot):
    """Today's references are text boxes; once they are NocoDB links the same helper picks from the list."""
    base = nc.api.create_base(f"{prefix}选人")
    people = base.create_table("people", "人员", [{"column_name": "name", "title": "姓名", "uidt": "SingleLineText"},
                                                {"column_name": "code", "title": "工号", "uidt": "SingleLineText"}])
    tasks = base.create_table("tasks", "任务", [{"column_name": "title", "title": "标题", "uidt": "SingleLineText"}])
    nc.api.request("POST", f"/api/v2/meta/tables/{tasks.id}/columns", json={
        "title": "负责人", "column_name": "owner", "uidt": "LinkToAnotherRecord", "type": "bt",
        "parentId": people.id, "childId": tasks.id})
    nc.api.request("POST", f"/api/v2/tables/{people.id}/records",
                   json=[{"姓名": "张伟", "工号": "E0001"}, {"姓名": "李娜", "工号": "E0002"}])
    form = nc.api.request("POST", f"/api/v2/meta/tables/{tasks.id}/forms", json={"title": "任务登记"})
    harness.open_form(page, nc.url, nc.workspace, base.id, tasks.id, form["id"])
    kinds = harness.fill_form(page, {"标题": "布置会场", "负责人": "E0002"})
    assert kinds == {"标题": "singlelinetext", "负责人": "link"}
    assert "李娜" in harness.form_field(page, "负责人").inner_text()  # the picked person's name, not a code
    shot(page, "任务登记-picked")
    harness.submit_form(page)
    rows = nc.api.request("GET", f"/api/v2/tables/{tasks.id}/records")["list"]
    assert [(r["标题"], (r["负责人"] or {}).get("姓名")) for r in rows] == [("布置会场", "李娜")]
