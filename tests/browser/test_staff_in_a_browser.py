"""The staff path in headless Chromium, as the people themselves: accounts made by the access
job (the code path of ``actops access apply``), each person signs in with their own password,
switches NocoDB to 简体中文, fills the forms by picking from lists and submits; one intake run
(the path of ``actops run intake``) then gives every row its key, its submitted time and its
submitter. A staff member without HR rights cannot open the HR base; HR can.

Screenshots: tests/artifacts/screenshots/<test>/.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from actops.jobs.intake.calendar_sync import sync_calendar
from actops.kernel.calendar import TZ
from actops.messaging.channels import EmailChannel
from actops.nocodb import Api, Base
from actops.schema.sync import base_title
from actops.service import run_job
from actops.store import Store
from actops_dev.accounts import sign_up_pending
from actops_dev.catcher import MailCatcher
from tests.browser import harness

TABLES = {"settings", "activities", "activity_types", "reports", "expenses", "feedback", "customers", "evaluations",
          "eval_cycles", "employees", "departments", "documents", "calendar", "run_log", "outbox",
          "approval_requests"}
TAG = uuid.uuid4().hex[:6]  # NocoDB accounts are instance-wide: keep this module's apart
TALL = {"width": 1440, "height": 2000}  # a whole form in one screenshot (NocoDB scrolls it inside the page)


def mail(code: str) -> str:
    return f"{code.lower()}.{TAG}@corp.test"


@dataclass
class Company:
    url: str
    api: Api
    store: Store
    ops: Base
    hr: Base
    workspace: str
    passwords: dict[str, str]
    welcomes: list[dict]

    def login(self, code: str) -> tuple[str, str]:
        return mail(code), self.passwords[mail(code)]

    def form(self, table: str, title: str) -> tuple[str, str]:
        t = self.store.table(table).table
        return t.id, next(v["id"] for v in t.meta(refresh=True)["views"] if v["title"] == title)

    def sign_in(self, page: Page, code: str) -> None:
        harness.sign_in(page, self.url, *self.login(code))
        harness.set_language_zh(page)

    def base_url(self, base: Base) -> str:
        return f"{self.url}/dashboard/#/{self.workspace}/{base.id}"


@pytest.fixture(scope="module")
def company(make_store, nocodb, tmp_path_factory) -> Company:
    store = make_store(TABLES, suffix="staff-")
    store.table("departments").create([{"code": "D01", "name": "市场部"}, {"code": "D08", "name": "人力资源部"}])
    store.table("employees").create([
        {"code": "E1", "name": "钱总", "department": "D01", "roles": "总经理", "email": mail("E1"), "active": True},
        {"code": "E2", "name": "李人事", "department": "D08", "manager": "E1", "roles": "人事", "email": mail("E2"),
         "active": True},
        {"code": "E3", "name": "张三", "department": "D01", "manager": "E4", "roles": "员工", "email": mail("E3"),
         "active": True},
        {"code": "E4", "name": "赵部长", "department": "D01", "manager": "E1", "roles": "员工,部门负责人",
         "email": mail("E4"), "active": True},
    ])
    store.table("customers").create([{"code": "C0001", "name": "华东客户"}])
    store.table("activities").create([{"code": "ACT-2026-0001", "name": "春季促销", "type": "市场推广", "stage": "执行",
                                       "department": "D01", "owner": "E4", "start_date": "2026-11-01",
                                       "end_date": "2026-11-30"}])
    store.table("eval_cycles").create([{"code": "2026-10-自评", "kind": "月度自评", "period": "2026-10",
                                        "due_date": "2030-12-05", "status": "已开启"}])
    store.table("evaluations").create([{  # confidential: what HR sees and 张三 must not
        "code": "SE-20261031-0007", "cycle": "2026-10-自评", "employee": "E3", "employee_name": "张三",
        "department": "D01", "supervisor": "E4", "self_results": "完成两场活动", "improvement_plan": "提前准备物料",
        "self_score": 80, "supervisor_score": 72}])
    sync_calendar(store)  # `actops calendar sync`, as on a production base (else intake fills it and says so)
    # Accounts and roles exactly as `actops access apply` makes them (run_job("access", …)), at noon
    # so the welcome e-mails are not held back by quiet hours; they go to a real SMTP server.
    catcher = MailCatcher().start()
    try:
        noon = datetime.now(TZ).replace(hour=12, minute=0, second=0, microsecond=0)
        channel = EmailChannel(host="127.0.0.1", port=catcher.port, sender="actops@corp.test")
        result = run_job("access", noon, store=store, channels={"邮件": channel})
        assert result.status == "成功", (result.status, result.plan.warnings)
        welcomes = list(catcher.messages)
    finally:
        catcher.stop()
    api = store.api
    ops, hr = (api.base_by_title(base_title(s, store.prefix)) for s in sorted(store.specs, key=lambda s: s.restricted))
    # What `actops access apply --demo-passwords` does on the local stack: a password per invitation.
    passwords = sign_up_pending(api, [ops.id, hr.id], Path(tmp_path_factory.mktemp("accounts")) / "accounts.csv")
    workspace = next(b["fk_workspace_id"] for b in api.bases() if b["id"] == ops.id)
    return Company(nocodb[0], api, store, ops, hr, workspace, passwords, welcomes)


def picked(page: Page, title: str) -> list[str]:
    """What a link field of a form shows once rows are picked: each chip's name (the row's display value)."""
    return [t.strip() for t in harness.form_field(page, title).locator(".chips .chip .name").all_inner_texts()]


# Five forms, each filled the way a person does it: references picked by name from the link lists.
STAFF_FORMS = [
    ("activities", "活动项目启动申请表", {
        "活动名称": "冬季答谢会", "活动类型": "客户交流", "承办部门": "市场部", "负责人": "张三", "客户": "华东客户",
        "活动内容": "答谢重点客户，年终回顾", "开始日期": "2026-12-20", "结束日期": "2026-12-20", "预算金额": "50000"}),
    ("expenses", "费用报销单", {
        "活动": "春季促销", "科目": "餐饮", "金额": "1280.5", "发生日期": "2026-11-20", "报销人": "张三", "事由": "客户午餐"}),
    ("reports", "工作报告提交", {
        "提交人": "张三", "报告类型": "日报", "报告期开始": "2026-11-23", "报告内容": "今日完成展台验收"}),
    ("feedback", "活动反馈表", {"活动": "春季促销", "客户": "华东客户", "满意度": 4, "意见建议": "场地很好，签到略慢"}),
]
LINKS = {"活动类型": "客户交流", "承办部门": "市场部", "负责人": "张三", "客户": "华东客户", "活动": "春季促销",
         "报销人": "张三", "提交人": "张三"}
SELF_EVAL = ("evaluations", "员工自评表", {"自评-业绩": "完成三场活动", "自评-能力": "客户沟通更熟练",
                                          "自评-态度": "主动补位", "改进计划": "提前两周备货", "自评分": "86"})
KEY_TITLES = {"activities": "活动编号", "expenses": "费用编号", "reports": "报告编号", "feedback": "反馈编号",
              "evaluations": "编号"}
SUBMITTED = object()  # a submitted time was stamped
SHOWN = {  # besides the key, the account and an empty 数据问题: what the expanded row shows after intake
    "activities": {"负责人": "张三", "活动类型": "客户交流", "承办部门": "市场部", "阶段": "立项申请"},
    "expenses": {"报销人": "张三", "活动": "春季促销"},
    "reports": {"提交人": "张三", "提交时间": SUBMITTED},
    "feedback": {"填写人": "张三", "活动": "春季促销", "提交时间": SUBMITTED},
    "evaluations": {"员工工号": "E4", "考评周期": "2026-10-自评", "上级工号": "E1", "自评提交时间": SUBMITTED},
}
PREFIXES = {"activities": "ACT", "expenses": "EXP", "reports": "RPT", "feedback": "FB", "evaluations": "SE"}


def fill_and_submit(page: Page, c: Company, base: Base, table: str, form: str, values: dict, shot) -> int:
    table_id, form_id = c.form(table, form)
    harness.open_form(page, c.url, c.workspace, base.id, table_id, form_id)
    kinds = harness.fill_form(page, values)
    for title, name in LINKS.items():
        if title in values:
            assert kinds[title] == "link", (form, title, kinds[title])  # a pick-list, not a text box
            assert picked(page, title) == [name], (form, title)  # the picked row's name, not its code
    page.get_by_test_id("nc-form-submit").scroll_into_view_if_needed()
    shot(page, f"{form}-filled")
    success = next(f.success for s in c.store.specs for t in s.tables if t.name == table for f in t.forms
                   if f.zh == form)
    new = harness.submit_form(page, success)  # the form's own zh success text
    shot(page, f"{form}-submitted")
    return int(new["Id"])


@pytest.mark.req("STF-1", "STF-2", "STF-4", "EVA-7")
def test_staff_fill_every_form_by_picking_and_one_intake_run_accepts_every_row(company, windows, shot):
    c = company
    staff = windows(TALL)
    welcome = [m for m in c.welcomes if m["to"] == [mail("E3")]]
    assert len(welcome) == 1 and "简体中文" in welcome[0]["html"]  # the access job told him the two clicks
    c.sign_in(staff, "E3")  # 张三, role 员工: the operations base only
    assert harness.ui_language(staff) == harness.ZH
    staff.get_by_test_id("nc-tbl-title-工作报告").wait_for()  # his base's tables are listed
    shot(staff, "张三-signed-in")
    started = datetime.now(TZ).replace(microsecond=0)
    ids = {table: fill_and_submit(staff, c, c.ops, table, form, values, shot) for table, form, values in STAFF_FORMS}

    # 员工自评表 lives in the HR base, which only HR and managers may open (EVA-7; access
    # policy: 人事, 主管, 部门负责人, 总监, 总经理, CEO). So the self-evaluation through NocoDB's
    # form is filled here by a manager evaluating himself; 张三 is refused the base (next test).
    manager = windows(TALL)
    c.sign_in(manager, "E4")  # 赵部长, 部门负责人
    table, form, values = SELF_EVAL
    ids[table] = fill_and_submit(manager, c, c.hr, table, form, values, shot)  # 员工工号 left blank, as its help says

    before = {t: c.store.table(t).table.get(i) for t, i in ids.items()}
    assert {t: row[KEY_TITLES[t]] for t, row in before.items()} == dict.fromkeys(ids)  # the forms leave the key out

    result = run_job("intake", datetime.now(TZ), store=c.store, channels={})  # `actops run intake`
    assert result.status == "成功", (result.status, result.plan.warnings, result.plan.issues)
    day = datetime.now(TZ).strftime("%Y%m%d")
    rows = {t: {r["Id"]: r for r in c.store.table(t).rows()}[i] for t, i in ids.items()}
    for t, row in rows.items():
        assert row["code"] == f"{PREFIXES[t]}-{day}-0001", (t, row["code"])
        assert not row["data_issue"], (t, row["data_issue"])
        submitter = "E4" if t == "evaluations" else "E3"
        assert row["account"]["email"] == mail(submitter), t  # NocoDB's CreatedBy: who signed in and submitted
        created = datetime.fromisoformat(str(row["CreatedAt"]))
        assert started <= created.astimezone(TZ) <= datetime.now(TZ), (t, row["CreatedAt"])
    for t in ("reports", "feedback", "evaluations"):  # the tables with a submitted-time field
        assert rows[t]["submitted_at"] == rows[t]["CreatedAt"], t
    assert rows["activities"]["owner"] == "E3" and rows["activities"]["type"] == "客户交流"
    assert rows["activities"]["department"] == "D01" and rows["activities"]["customer"] == "C0001"
    assert rows["activities"]["stage"] == "立项申请"
    assert rows["expenses"]["employee"] == "E3" and rows["expenses"]["activity"] == "ACT-2026-0001"
    assert rows["reports"]["employee"] == "E3"
    assert rows["feedback"]["activity"] == "ACT-2026-0001" and rows["feedback"]["customer"] == "C0001"
    assert rows["feedback"]["respondent"] == "张三" and rows["feedback"]["satisfaction"] == 4  # 填写人 from the login
    assert (rows["evaluations"]["employee"], rows["evaluations"]["cycle"], rows["evaluations"]["supervisor"]) == (
        "E4", "2026-10-自评", "E1")

    # What each of them sees afterwards: the row, as its expanded record (what a row link opens).
    for t, row in rows.items():
        window, who = (manager, "E4") if t == "evaluations" else (staff, "E3")
        base = c.hr if t == "evaluations" else c.ops
        harness.open_record(window, c.url, c.workspace, base.id, c.store.table(t).table.id, ids[t])
        shown = {KEY_TITLES[t]: row["code"], **SHOWN[t], "提交账号": mail(who), "数据问题": ""}
        for title, value in shown.items():
            if value is SUBMITTED:  # the stamped time, in Beijing time like the window
                at = datetime.fromisoformat(str(row["submitted_at"])).astimezone(TZ)
                value = (f"{at:%Y-%m-%d}", f"{at:%H:%M}")
            harness.expect_record_field(window, title, value)
        harness.record_field(window, KEY_TITLES[t]).scroll_into_view_if_needed()
        shot(window, f"{t}-row-top")
        harness.record_field(window, "数据问题").scroll_into_view_if_needed()
        shot(window, f"{t}-row-bottom")


def _project_meta(base_id: str):
    def match(r: Response) -> bool:
        return r.request.method == "GET" and r.url.split("?", 1)[0].endswith(f"/api/v1/db/meta/projects/{base_id}")
    return match


@pytest.mark.req("STF-4", "EVA-7")
def test_staff_without_hr_rights_cannot_open_the_hr_base_hr_can(company, windows, shot):
    c = company
    hr_title, ops_title = base_title_of(c, c.hr), base_title_of(c, c.ops)
    evals_id, form_id = c.form("evaluations", "员工自评表")

    staff = windows()
    c.sign_in(staff, "E3")
    assert harness.listed_bases(staff) == [ops_title]  # the base list offers the operations base only
    shot(staff, "张三-base-list")
    staff.keyboard.press("Escape")
    for name, url in [("base", c.base_url(c.hr)), ("self-evaluation-form", f"{c.base_url(c.hr)}/{evals_id}/{form_id}")]:
        # Each link opened as a new page (as pasted into a new tab): a mere hash change in the
        # same page raced the app's own redirect home and was lost under load (seen in CI).
        staff.goto("about:blank")
        with staff.expect_response(_project_meta(c.hr.id), timeout=harness.TIMEOUT_MS) as meta:
            staff.goto(url)
        assert meta.value.status == 403, (name, meta.value.status)  # NocoDB refuses the base to this account,
        toast = staff.get_by_text(harness.NO_ACCESS).first
        toast.wait_for()  # says so,
        home = re.compile(rf"/{c.ops.id}([/?]|$)")  # his base: its overview or its first table
        expect(staff).to_have_url(home, timeout=harness.TIMEOUT_MS)  # and sends him home
        staff.get_by_test_id("nc-tbl-title-活动").wait_for()  # (his base's tables) while the toast is still up
        for table in ("考评表", "考评周期"):
            expect(staff.get_by_test_id(f"nc-tbl-title-{table}")).to_have_count(0)
        expect(staff.get_by_test_id("nc-form-submit")).to_have_count(0)
        shot(staff, f"张三-hr-{name}-refused")  # taken with the toast on screen, if it has not faded yet
        toast.wait_for(state="hidden")  # so the next URL's toast is its own

    hr = windows()
    c.sign_in(hr, "E2")  # 李人事, 人事
    assert harness.listed_bases(hr) == sorted([ops_title, hr_title])
    shot(hr, "李人事-base-list")
    hr.keyboard.press("Escape")
    grid = harness.open_table(hr, c.url, c.workspace, c.hr.id, evals_id)
    assert ("SE-20261031-0007", "张三", 72) in [(r["编号"], r["员工姓名"], r["上级评分"]) for r in grid["list"]]
    expect(hr).to_have_url(re.compile(f"/{c.hr.id}/"))
    for table in ("考评表", "考评周期"):
        expect(hr.get_by_test_id(f"nc-tbl-title-{table}")).to_have_count(1)
    shot(hr, "李人事-考评表")
    harness.open_form(hr, c.url, c.workspace, c.hr.id, evals_id, form_id)
    shot(hr, "李人事-员工自评表")


def base_title_of(c: Company, base: Base) -> str:
    return next(b["title"] for b in c.api.bases() if b["id"] == base.id)
