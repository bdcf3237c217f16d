"""The pure half of form intake: keys, the naming rule, submitters, what each form row gets."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from actops.jobs.intake import naming, numbering
from actops.jobs.intake.calendar_sync import expected_days, plan_calendar
from actops.jobs.intake.forms import BY_TABLE, Known, accept, choose_cycle
from actops.jobs.intake.submitters import Directory, account_email, identify
from actops.kernel.calendar import prc_calendar_rows
from actops.schema.spec import find_table

ADMIN = {"id": "us1", "email": "Zhang.San@Example.cn", "display_name": None, "meta": None}


# --- keys ---------------------------------------------------------------------------------
@pytest.mark.req("STF-1")
def test_keys_continue_the_highest_number_of_the_shanghai_day():
    # 2026-11-22 16:30 UTC is already 11-23 in Shanghai; 15:59 UTC is still 11-22 (23:59 there).
    rows = [(7, datetime(2026, 11, 23, 1, 0, tzinfo=UTC)), (5, datetime(2026, 11, 22, 16, 30, tzinfo=UTC)),
            (9, datetime(2026, 11, 22, 15, 59, tzinfo=UTC))]
    existing = {date(2026, 11, 23): ["RPT-20261123-0001", "RPT-20261123-0007", "RPT-20261124-0050", "rpt-x", None],
                date(2026, 11, 22): []}
    assert numbering.assign("RPT", rows, existing) == {
        5: "RPT-20261123-0008", 7: "RPT-20261123-0009", 9: "RPT-20261122-0001"}


@pytest.mark.req("STF-1")
def test_keys_are_numbered_in_creation_order_then_by_id_and_grow_past_four_digits():
    t = datetime(2026, 11, 23, 2, tzinfo=UTC)
    assert numbering.assign("EXP", [(3, t), (2, t)], {date(2026, 11, 23): ["EXP-20261123-9999"]}) == {
        2: "EXP-20261123-10000", 3: "EXP-20261123-10001"}
    assert numbering.number_of("EXP", date(2026, 11, 23), " EXP-20261123-0042 ") == 42
    assert numbering.number_of("EXP", date(2026, 11, 23), "EXP-20261123-0042a") is None
    assert numbering.day_of(datetime(2026, 11, 22, 16, 0)) == date(2026, 11, 23)  # naive = UTC, as NocoDB stores


# --- the naming rule (ACT-5) ---------------------------------------------------------------
VALID = [
    "春季促销-策划-01(2026-03-05)",          # S0 as written in the policy
    "春季促销-结项验收-12(2026-06-30).docx",  # a file keeps its extension
    "客户答谢会-执行-3（2026-10-01）",         # full-width brackets, as a Chinese keyboard types them
    "年会-立项申请-01(20261201).pptx",         # date without hyphens
    "2026新品发布-客户确认-02(2026-09-01)",
    "春季促销-2026-01V1",                     # S1 as written in the policy
    "春季促销-2026-01V12.pdf",
    "渠道大会-2026-03-15V2",
    "渠道大会-202603-V1.1",
    "品牌周-2026-11v3",
]
INVALID = [
    "最终版方案(2).docx",                     # the kinds of names found in the sample company
    "新建 Microsoft Word 文档.docx",
    "活动方案终稿改.pptx",
    "报价单-最新.xlsx",
    "会议记录 副本.docx",
    "春季促销方案最终版.pdf",
    "春季促销_v2_修改稿.docx",
    "IMG_4711.jpg",
    "春季促销_2026-01_V1",                    # S2's underscores are not one of the two rules
    "春季促销-宣传-01(2026-03-05)",            # 宣传 is no stage
    "春季促销-策划-01",                        # S0 without its date
    "春季促销-2026-01",                       # S1 without its version
    "-策划-01(2026-03-05)",                   # no activity name
    "",
]


@pytest.mark.req("ACT-5")
@pytest.mark.parametrize("name", VALID)
def test_names_following_either_policy_conform(name):
    assert naming.problem(name) is None


@pytest.mark.req("ACT-5")
@pytest.mark.parametrize("name", INVALID)
def test_other_names_are_flagged_with_both_expected_patterns(name):
    why = naming.problem(name)
    assert why and "活动名称-阶段-编号(日期)" in why and "项目名称-日期-版本号" in why and "春季促销-2026-01V1" in why


@pytest.mark.req("ACT-5")
def test_a_date_that_does_not_exist_is_named_as_such():
    assert "2026-02-30 不是有效日期" in naming.problem("春季促销-策划-01(2026-02-30)")
    assert "2026-13 不是有效日期" in naming.problem("春季促销-2026-13V1")


# --- submitters ------------------------------------------------------------------------------
def directory(*extra):
    rows = [
        {"Id": 1, "code": "E1", "name": "张三", "email": "zhang.san@example.cn", "active": True, "department": "D01",
         "manager": "E9"},
        {"Id": 2, "code": "E2", "name": "李四", "email": "li.si@example.cn", "active": 1, "department": "D02"},
        {"Id": 3, "code": "E3", "name": "王五", "email": "wang.wu@example.cn", "active": False},
        *extra,
    ]
    return Directory.from_rows(rows)


@pytest.mark.req("STF-1")
def test_the_account_email_names_the_employee_case_and_spaces_ignored():
    assert account_email(ADMIN) == "zhang.san@example.cn"
    assert account_email('{"email": "a@b.cn"}') == "a@b.cn"
    assert account_email([{"email": None}, {"email": "c@d.cn"}]) == "c@d.cn"  # the first usable one
    assert account_email(None) is None and account_email("nobody") is None
    sub = identify(ADMIN, directory())
    assert sub.person.code == "E1" and sub.problem is None


@pytest.mark.req("STF-1")
def test_a_submitter_who_is_no_employee_is_said_so():
    assert "不是任何在职员工的邮箱" in identify({"email": "guest@example.cn"}, directory()).problem
    assert "已离职员工 E3" in identify({"email": "wang.wu@example.cn"}, directory()).problem
    assert "没有登录账号记录" in identify(None, directory()).problem
    twice = directory({"Id": 4, "code": "E4", "name": "张三二", "email": " ZHANG.SAN@example.cn ", "active": True})
    assert "E1、E4" in identify(ADMIN, twice).problem


# --- what each form row gets ----------------------------------------------------------------
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
CREATED = "2026-11-23 03:55:18+00:00"


def known(**kw):
    k = Known(directory=directory(), keys={"employees": {"E1", "E2", "E3"}, "departments": {"D01", "D02"},
                                           "activities": {"ACT-2026-0001"}, "activity_types": {"市场推广"}})
    for name, value in kw.items():
        setattr(k, name, value)
    return k


def form_row(table, **values):
    return {"Id": 11, "CreatedAt": CREATED, "account": ADMIN, "data_issue": None, **values}


def accepted(table, row, key="K-1", k=None):
    return accept(BY_TABLE[table], find_table(table)[1], row, key, k or known(), NOW)


@pytest.mark.req("STF-1")
def test_a_report_from_the_form_gets_key_time_and_submitter_and_nothing_is_wrong():
    up, issues = accepted("reports", form_row("reports", kind="日报", period_start="2026-11-23", content="周报内容"))
    assert up == {"code": "K-1", "submitted_at": datetime(2026, 11, 23, 3, 55, 18, tzinfo=UTC), "employee": "E1"}
    assert issues == []


@pytest.mark.req("STF-1")
def test_what_staff_typed_is_kept_and_a_keyed_row_gets_no_new_key_or_time():
    up, issues = accepted("reports", form_row("reports", code="RPT-X", employee="E2", kind="周报", period_start="2026-11-23",
                                              submitted_at="2026-11-23 08:00:00+00:00"), key=None)
    assert up == {} and issues == []


@pytest.mark.req("STF-1")
def test_an_unknown_submitter_with_no_person_typed_gets_a_note_naming_field_and_fix():
    row = form_row("expenses", account={"email": "guest@example.cn"}, activity="ACT-2026-0001", category="餐饮",
                   amount=120.5, spent_on="2026-11-20")
    up, issues = accepted("expenses", row)
    assert up == {"code": "K-1"}
    assert [str(i) for i in issues] == [
        "费用报销 第11行「报销人」：提交账号 guest@example.cn 不是任何在职员工的邮箱（「员工」表的「邮箱」）；"
        "请人事在员工表中补充该邮箱；请填写「报销人」"]


@pytest.mark.req("STF-1")
def test_a_form_row_still_wrong_after_filling_says_what_and_where():
    row = form_row("expenses", activity="ACT-9999", category="餐饮", amount=-5, spent_on="2026-11-20")
    _, issues = accepted("expenses", row)
    text = " | ".join(str(i) for i in issues)
    assert "「金额」：金额 -5 不合理" in text
    row = form_row("expenses", activity="ACT-9999", category="餐饮", amount=5, spent_on="2026-11-20")
    _, issues = accepted("expenses", row)
    assert [str(i) for i in issues] == ["费用报销 第11行「活动」：关联的记录不存在，请填写有效的编号（当前值：ACT-9999）"]


@pytest.mark.req("STF-1")
def test_an_initiation_request_gets_stage_owner_and_the_owners_department():
    row = form_row("activities", name="春季促销", type="市场推广", start_date="2026-12-01", end_date="2026-12-02",
                   budget=50000)
    up, issues = accepted("activities", row)
    assert up == {"code": "K-1", "stage": "立项申请", "owner": "E1", "department": "D01"} and issues == []


@pytest.mark.req("STF-1")
def test_feedback_gets_the_employees_name_and_a_customer_without_account_is_fine():
    up, issues = accepted("feedback", form_row("feedback", activity="ACT-2026-0001", satisfaction=4))
    assert up["respondent"] == "张三" and issues == []
    up, issues = accepted("feedback", form_row("feedback", account=None, activity="ACT-2026-0001", satisfaction=5))
    assert "respondent" not in up and issues == []


CYCLES = [{"code": "2026-10-自评", "kind": "月度自评", "status": "已开启", "due_date": "2026-11-05"},
          {"code": "2026-11-自评", "kind": "月度自评", "status": "已开启", "due_date": "2026-12-05"},
          {"code": "2026-Q3-考评", "kind": "季度考评", "status": "已开启", "due_date": "2026-10-30"}]


@pytest.mark.req("STF-1", "EVA-7")
def test_a_self_evaluation_gets_cycle_and_person_and_must_be_the_submitters_own():
    row = form_row("evaluations", self_results="完成", improvement_plan="加强复盘", self_score=85)
    up, issues = accepted("evaluations", row, k=known(cycles=CYCLES))
    assert up == {"code": "K-1", "submitted_at": datetime(2026, 11, 23, 3, 55, 18, tzinfo=UTC), "employee": "E1",
                  "cycle": "2026-11-自评", "employee_name": "张三", "department": "D01", "supervisor": "E9"}
    assert issues == []
    _, issues = accepted("evaluations", {**row, "employee": "E2"}, k=known(cycles=CYCLES))
    assert "自评只能本人提交" in str(issues[0]) and issues[0].field == "员工工号"
    _, issues = accepted("evaluations", {**row, "employee": "E2", "account": None}, k=known(cycles=CYCLES))
    assert "无法核实是否本人提交" in str(issues[0])
    _, issues = accepted("evaluations", row, k=known(cycles=CYCLES, evaluated={("2026-11-自评", "E1"): [3]}))
    assert "已有该员工的考评记录（第3行）" in str(issues[0])


@pytest.mark.req("STF-1")
def test_the_cycle_is_the_open_self_evaluation_due_next():
    assert choose_cycle(CYCLES, date(2026, 11, 3)) == ("2026-10-自评", None)
    assert choose_cycle(CYCLES, date(2026, 11, 6)) == ("2026-11-自评", None)
    assert choose_cycle(CYCLES, date(2026, 12, 9)) == ("2026-11-自评", None)  # late: the last one
    assert choose_cycle(CYCLES[2:], date(2026, 11, 6))[1].startswith("没有已开启的月度自评周期")
    undated = [{**c, "due_date": None} for c in CYCLES[:2]]
    assert "都没有截止日期" in choose_cycle(undated, date(2026, 11, 6))[1]


# --- the calendar (ESC-3) ---------------------------------------------------------------------
@pytest.mark.req("ESC-3")
def test_calendar_sync_adds_missing_dates_and_keeps_what_an_administrator_changed():
    package = prc_calendar_rows([2026])
    assert len(package) == expected_days([2026]) == 365
    by_day = {r["date"]: r for r in package}
    existing = [
        {**by_day["2026-01-01"], "UpdatedAt": None},                                   # as the package says
        {**by_day["2026-10-01"], "is_workday": True, "kind": "工作日", "UpdatedAt": None},  # differs: kept
        {**by_day["2026-05-06"], "UpdatedAt": "2026-05-01 02:00:00+00:00"},             # edited: kept
        {**by_day["2026-03-02"], "UpdatedAt": None}, {**by_day["2026-03-02"], "UpdatedAt": None},  # twice
    ]
    p = plan_calendar(existing, package, [2026])
    assert len(p.add) == 361 and p.same == 1 and p.duplicates == ["2026-03-02"]
    assert [d for d, _ in p.kept] == ["2026-05-06", "2026-10-01"]
    assert "官方：法定节假日·国庆节" in dict(p.kept)["2026-10-01"]
    assert {r["date"] for r in p.add}.isdisjoint({"2026-01-01", "2026-10-01", "2026-05-06", "2026-03-02"})
    again = plan_calendar(existing + p.add, package, [2026])
    assert again.add == [] and again.same == 362


@pytest.mark.req("STF-1")
def test_every_table_with_a_form_is_taken_in_and_has_a_key_prefix():
    from actops.jobs.intake.forms import ACCOUNT, FORMS
    from actops.schema import load_schema

    with_forms = {t.name: t for b in load_schema() for t in b.tables if t.forms}
    assert {f.table for f in FORMS} == set(with_forms)
    prefixes = [t.key_prefix for t in with_forms.values()]
    assert all(prefixes) and len(set(prefixes)) == len(prefixes)
    for ft in FORMS:
        spec = with_forms[ft.table]
        assert spec.field(ACCOUNT).type == "created_by"
        assert all(spec.field(f) for f in (ft.person, *(n for n, _ in ft.defaults), *([ft.submitted] if ft.submitted else [])))
        for form in spec.forms:  # what the system fills is never asked as required
            assert spec.key not in form.required and ft.submitted not in form.required
