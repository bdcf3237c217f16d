"""REL-2: contradictions are reported on every row involved, never resolved silently."""

from __future__ import annotations

from datetime import date

import pytest

from actops.checks import check_all
from actops.kernel import contradictions as c
from actops.kernel.contradictions import (
    base_rules,
    calendar_conflicts,
    duplicate_keys,
    employee_contact_issues,
    inactive_references,
    setting_names_employee,
    table_rules,
    valid_wecom_id,
)
from actops.records import check_values, validate_rows
from actops.schema.spec import FieldSpec, find_table, load_schema

pytestmark = pytest.mark.req("REL-2")


def spec(name):
    return find_table(name)[1]


def typed(name, rows, salvage=False):
    recs, problems = validate_rows(spec(name), rows, salvage=salvage)
    return recs, problems


def emp(i, code=None, **kw):
    row = {"Id": i, "工号": code or f"E{i}", "姓名": f"员工{i}", "所属部门": "D01", "在职": True}
    row.update(kw)
    return row


EMPS = typed("employees", [emp(1), emp(2, 直属上级="E1"), emp(3, 在职=False, 姓名="李离职")])[0]


def test_zh_names_of_the_fixed_rules_match_the_schema():
    e, cal = spec("employees"), spec("calendar")
    assert (e.zh, e.field("code").zh, e.field("wecom_id").zh) == (c.EMPLOYEES_ZH, c.CODE_ZH, c.WECOM_ZH)
    assert (cal.zh, cal.field("date").zh, cal.field("is_workday").zh) == (c.CALENDAR_ZH, c.DATE_ZH, c.WORKDAY_ZH)


# --------------------------------------------------------------------- duplicate keys


def test_two_employees_with_one_code_are_both_reported_naming_the_other_row():
    recs, _ = typed("employees", [emp(12, "E0035"), emp(13, "E0036"), emp(40, "E0035")])
    issues, ambiguous = duplicate_keys(spec("employees"), recs)
    assert ambiguous == {"E0035"}
    assert [(i.table, i.row_id, i.field, i.value) for i in issues] == [
        ("员工", 12, "工号", "E0035"), ("员工", 40, "工号", "E0035")]
    assert issues[0].reason.startswith("工号 E0035 与第 40 行重复")
    assert issues[1].reason.startswith("工号 E0035 与第 12 行重复")
    assert "请删除多余的行或修改「工号」" in issues[0].reason


def test_three_rows_name_the_two_others_and_raw_rows_work_too():
    rows = [{"Id": 5, "code": "AP-1"}, {"Id": 6, "code": " AP-1 "}, {"Id": 7, "code": "AP-1"}, {"Id": 8, "code": ""}]
    issues, ambiguous = duplicate_keys(spec("approval_requests"), rows)
    assert ambiguous == {"AP-1"} and [i.row_id for i in issues] == [5, 6, 7]
    assert "申请编号 AP-1 与第 6、7 行重复" in issues[0].reason


def test_one_date_twice_in_the_calendar_is_a_duplicate_key():
    recs, _ = typed("calendar", [{"Id": 1, "日期": "2026-10-01", "是否工作日": False},
                                 {"Id": 2, "日期": "2026-10-01", "是否工作日": False}])
    issues, ambiguous = duplicate_keys(spec("calendar"), recs)
    assert ambiguous == {"2026-10-01"} and {i.field for i in issues} == {"日期"}


# --------------------------------------------------------------------- calendar


def test_two_calendar_rows_for_one_date_that_disagree_make_the_date_unknown():
    rows = [{"Id": 3, "date": "2026-10-08", "is_workday": True},
            {"Id": 9, "date": date(2026, 10, 8), "is_workday": "false"},
            {"Id": 4, "date": "2026-10-09", "is_workday": True},
            {"Id": 5, "date": "2026-10-09", "is_workday": True}]
    issues, dates = calendar_conflicts(rows)
    assert dates == {date(2026, 10, 8)}
    assert [(i.table, i.row_id, i.field, i.value) for i in issues] == [
        ("工作日历", 3, "是否工作日", "是"), ("工作日历", 9, "是否工作日", "否")]
    assert "2026-10-08" in issues[0].reason and "第 3 行：是；第 9 行：否" in issues[0].reason
    assert "请删除错误的行" in issues[0].reason


def test_calendar_table_rules_report_a_conflict_once_per_row():
    recs, _ = typed("calendar", [{"Id": 1, "日期": "2026-10-08", "是否工作日": True},
                                 {"Id": 2, "日期": "2026-10-08", "是否工作日": False},
                                 {"Id": 3, "日期": "2026-10-09", "是否工作日": True},
                                 {"Id": 4, "日期": "2026-10-09", "是否工作日": True}])
    found = table_rules(spec("calendar"), recs)
    assert found.unknown_dates == {date(2026, 10, 8)}
    assert found.ambiguous == {"2026-10-08", "2026-10-09"}
    assert sorted((i.row_id, i.field) for i in found.issues) == [
        (1, "是否工作日"), (2, "是否工作日"), (3, "日期"), (4, "日期")]


# --------------------------------------------------------------------- settings → employee


@pytest.mark.parametrize("value,words", [("E404", "不在「员工」表中"), ("E3", "李离职 已不在职"), ("E7", "有多行")])
def test_a_setting_naming_nobody_is_reported_on_the_settings_row(value, words):
    emps = [*EMPS, *typed("employees", [emp(7), emp(8, "E7")])[0]]
    issues = setting_names_employee([{"Id": 24, "key": "general_manager", "value": value}], emps)
    [i] = issues
    assert (i.table, i.row_id, i.field, i.value) == ("系统设置", 24, "取值", value)
    assert words in i.reason and "general_manager" in i.reason and "或留空" in i.reason


def test_a_setting_naming_an_active_employee_or_nobody_on_purpose_is_fine():
    rows = [{"Id": 1, "key": "general_manager", "value": "E1"}, {"Id": 2, "key": "general_manager", "value": ""},
            {"Id": 3, "key": "approval_sla_days", "value": "E404"}]
    assert setting_names_employee(rows, EMPS) == []


# --------------------------------------------------------------------- contacts


@pytest.mark.parametrize("wecom,words", [("all", "会提醒群内所有人"), ("@ALL", "会提醒群内所有人"),
                                         ("张三", "格式不对"), ("a" * 65, "格式不对")])
def test_a_wecom_id_that_would_reach_the_wrong_people_is_reported(wecom, words):
    recs, _ = typed("employees", [emp(1, 企业微信号=wecom), emp(2, 企业微信号="zhang.san@corp"), emp(3)])
    [i] = employee_contact_issues(recs)
    assert (i.table, i.row_id, i.field, i.value) == ("员工", 1, "企业微信号", wecom)
    assert words in i.reason and "已忽略" in i.reason and "请填写本人的企业微信账号" in i.reason


def test_the_channel_does_not_mention_all(monkeypatch):
    from actops.messaging import channels
    from actops.messaging.channels import Outgoing

    sent = []

    class Resp:
        status_code = 200
        text = ""

        def json(self):
            return {"errcode": 0}

    monkeypatch.setattr(channels.httpx, "post", lambda url, json, headers, timeout: sent.append(json) or Resp())
    ch = channels.WeComChannel("http://bot.invalid/send")
    ch.send(Outgoing("k1", "@all", "s", "<p>x</p>", "x"))
    ch.send(Outgoing("k2", "zhangsan", "s", "<p>x</p>", "x"))
    assert [m["markdown"]["content"] for m in sent] == ["x", "x\n<@zhangsan>"]
    assert not valid_wecom_id("All") and valid_wecom_id("a_b.c@d-e")


# --------------------------------------------------------------------- people who left


def test_an_open_activity_owned_by_someone_who_left_is_reported():
    base = {"活动名称": "发布会", "活动类型": "市场推广", "承办部门": "D01", "开始日期": "2026-10-01",
            "结束日期": "2026-10-02"}
    recs, problems = typed("activities", [
        {"Id": 1, "活动编号": "A1", "阶段": "执行", "负责人": "E3", **base},
        {"Id": 2, "活动编号": "A2", "阶段": "归档", "负责人": "E3", **base},
        {"Id": 3, "活动编号": "A3", "阶段": "执行", "负责人": "E2", **base}])
    assert problems == []
    [i] = inactive_references(spec("activities"), recs, EMPS)
    assert (i.table, i.row_id, i.field, i.value) == ("活动", 1, "负责人", "E3")
    assert "李离职（E3）已不在职" in i.reason and "请改为在职员工" in i.reason


def test_closed_steps_and_history_rows_may_name_people_who_left():
    steps = [{"Id": 1, "code": "S1", "assignee": "E3", "status": "待审批"},
             {"Id": 2, "code": "S2", "assignee": "E3", "status": "已通过"},
             {"Id": 3, "code": "S3", "delegate": "E3"}]
    assert [(i.row_id, i.field) for i in inactive_references(spec("approval_steps"), steps, EMPS)] == [
        (1, "审批人"), (3, "代理审批人")]
    decisions = [{"Id": 1, "code": "D1", "by": "E3"}]
    assert inactive_references(spec("approval_decisions"), decisions, EMPS) == []
    reports = [{"Id": 1, "code": "R1", "employee": "E3", "submitted_at": "2026-01-05T10:00:00+08:00"},
               {"Id": 2, "code": "R2", "employee": "E3", "submitted_at": None}]
    assert [i.row_id for i in inactive_references(spec("reports"), reports, EMPS)] == [2]


def test_a_manager_who_left_is_reported_but_not_on_the_leaver_own_row():
    emps, _ = typed("employees", [emp(1, 在职=False), emp(2, 直属上级="E1"), emp(3, 在职=False, 直属上级="E1")])
    [i] = inactive_references(spec("employees"), emps, emps)
    assert (i.row_id, i.field, i.value) == (2, "直属上级", "E1")


# --------------------------------------------------------------------- implausible values


def expense(i, **kw):
    row = {"Id": i, "费用编号": f"X{i}", "活动": "A1", "科目": "交通", "金额": 500, "发生日期": "2026-10-01",
           "报销人": "E1"}
    row.update(kw)
    return row


@pytest.mark.parametrize("amount,shown", [(-50000, "-50000"), (1e18, "1000000000000000000"),
                                          ("1e18", "1000000000000000000")])
def test_an_implausible_amount_is_reported_and_the_row_skipped(amount, shown):
    recs, issues = typed("expenses", [expense(1), expense(2, 金额=amount)])
    assert [r.Id for r in recs] == [1]
    [i] = issues
    assert (i.table, i.row_id, i.field, i.value) == ("费用报销", 2, "金额", amount)
    assert i.reason == f"金额 {shown} 不合理：应在 0 至 1,000,000,000 元之间；请核对"


def test_an_implausible_due_date_is_reported_and_salvage_keeps_the_rest_of_the_row():
    row = {"Id": 7, "事项编号": "AI-1", "事项": "布置会场", "负责人": "E1", "截止日期": "9999-12-31"}
    recs, issues = typed("action_items", [row])
    assert recs == []
    [i] = issues
    assert (i.table, i.row_id, i.field, i.value) == ("待办事项", 7, "截止日期", "9999-12-31")
    assert i.reason == "日期 9999-12-31 超出 2000–2100 年；请核对"
    recs, issues = typed("action_items", [row], salvage=True)
    assert len(issues) == 1 and recs[0].due_date is None and recs[0].owner == "E1"


def test_implausible_values_are_refused_before_writing():
    t = spec("action_items")
    found = check_values(t, {"due_date": date(9999, 12, 31), "next_escalation_at": "1900-01-01T00:00:00+08:00"}, 3)
    assert [(i.field, i.reason.split(" ")[0]) for i in found] == [("截止日期", "日期"), ("下次升级时间", "时间")]
    assert check_values(spec("expenses"), {"amount": -1}, 1)[0].reason.startswith("金额 -1 不合理")
    assert check_values(spec("expenses"), {"amount": 999_999_999}, 1) == []


def test_a_field_may_set_its_own_plausible_range():
    from actops.records import implausible

    score = FieldSpec(name="likelihood", zh="可能性", en="L", type="number", min=1, max=5)
    assert implausible(score, 3) is None
    assert implausible(score, 6) == "数值 6 不合理：应在 1 至 5 之间；请核对"
    refund = FieldSpec(name="refund", zh="退款", en="R", type="currency", min=-1000)
    assert implausible(refund, -500) is None
    assert "应在 -1,000 至 1,000,000,000 元之间" in implausible(refund, -5000)
    with pytest.raises(ValueError):
        FieldSpec(name="x", zh="x", en="x", type="text", min=1)
    with pytest.raises(ValueError):
        FieldSpec(name="x", zh="x", en="x", type="number", min=5, max=1)


# --------------------------------------------------------------------- one rule set for check and jobs


def test_base_rules_cover_every_table_with_loops_and_dangling_refs():
    specs = {t.name: t for b in load_schema() for t in b.tables}
    emps, _ = typed("employees", [emp(1, 直属上级="E2"), emp(2, 直属上级="E1"), emp(3, 在职=False),
                                  emp(4, 直属上级="E404", 企业微信号="all"), emp(5, "E4")])
    settings, _ = typed("settings", [{"Id": 1, "参数": "general_manager", "取值": "E3"},
                                     {"Id": 2, "参数": "approval_sla_days", "取值": "-1"}])
    found = base_rules(specs, {"employees": emps, "settings": settings})
    got = {(i.table, i.row_id, i.field) for f in found.values() for i in f.issues}
    assert got == {
        ("员工", 1, "直属上级"), ("员工", 2, "直属上级"),  # loop
        ("员工", 4, "直属上级"),  # dangling
        ("员工", 4, "企业微信号"),
        ("员工", 4, "工号"), ("员工", 5, "工号"),  # duplicate
        ("系统设置", 1, "取值"),  # names someone who left
        ("系统设置", 2, "取值"),  # out of range
    }
    assert found["employees"].ambiguous == {"E4"}


class FakeBound:
    def __init__(self, spec, rows):
        self.spec, self.rows, self.marked = spec, rows, None

    def read(self, salvage=False):
        return validate_rows(self.spec, self.rows, salvage=salvage)

    def mark_issues(self, issues, checked, tag):
        self.marked = (list(issues), list(checked), tag)


class FakeStore:
    def __init__(self, tables):
        self.tables = {n: FakeBound(spec(n), rows) for n, rows in tables.items()}
        self.specs = load_schema()

    def table(self, name):
        return self.tables[name]


def test_check_reports_and_marks_what_the_jobs_see():
    store = FakeStore({
        "employees": [emp(1), emp(2, 直属上级="E3", 邮箱="bad"), emp(3, 在职=False), emp(4, "E1")],
        "calendar": [{"Id": 1, "日期": "2026-10-08", "是否工作日": True}, {"Id": 2, "日期": "2026-10-08", "是否工作日": False}],
    })
    issues = check_all(store, mark=True, tables=["employees", "calendar"])
    got = sorted((i.table, i.row_id, i.field) for i in issues)
    assert got == sorted([
        ("员工", 1, "工号"), ("员工", 4, "工号"),
        ("员工", 2, "邮箱"),  # bad value, row salvaged …
        ("员工", 2, "直属上级"),  # … so its manager who left is still seen
        ("工作日历", 1, "是否工作日"), ("工作日历", 2, "是否工作日"),
    ])
    marked, checked, tag = store.tables["employees"].marked
    assert tag == "数据检查" and 2 in checked and {i.row_id for i in marked} == {1, 2, 4}


@pytest.mark.req("ACT-4")
def test_an_activity_executed_without_the_customers_confirmation_is_reported_on_its_row():
    base = {"活动名称": "发布会", "活动类型": "市场推广", "承办部门": "D01", "开始日期": "2026-10-01",
            "结束日期": "2026-10-02", "负责人": "E1"}
    recs, problems = typed("activities", [
        {"Id": 1, "活动编号": "A1", "阶段": "执行", **base},
        {"Id": 2, "活动编号": "A2", "阶段": "执行", "客户确认时间": "2026-09-28 10:00:00+08:00", **base},
        {"Id": 3, "活动编号": "A3", "阶段": "客户确认", **base},  # still waiting for the signature: fine
        {"Id": 4, "活动编号": "A4", "阶段": "归档", **base}])
    assert problems == []
    found = c.table_rules(spec("activities"), recs, EMPS).issues
    assert [(i.row_id, i.field) for i in found] == [(1, "客户确认时间"), (4, "客户确认时间")]
    assert "《活动策划方案确认表》" in found[0].reason and "改回「客户确认」" in found[0].reason
