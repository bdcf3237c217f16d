"""Typed records from schema/: bad values become issues naming table, row and field."""

from __future__ import annotations

import pytest

from actops.kernel.org import manager_loops
from actops.records import check_refs, to_row, validate_rows
from actops.schema.spec import find_table, load_schema


def emp(i, **kw):
    row = {"Id": i, "工号": f"E{i}", "姓名": "张三", "所属部门": "D01", "在职": True}
    row.update(kw)
    return row


@pytest.mark.req("ORG-1")
def test_good_rows_become_records_keyed_by_field_name():
    _, t = find_table("employees")
    recs, issues = validate_rows(t, [emp(1, 角色="员工,主管", 邮箱="a@b.cn", 连续逾期报告数=2)])
    assert issues == []
    assert recs[0].code == "E1" and recs[0].roles == ("员工", "主管") and recs[0].late_streak == 2


@pytest.mark.parametrize(
    "field,value,reason",
    [
        ("连续逾期报告数", "abc", "应为整数"),
        ("休假至", "2026-13-45", "不是有效日期"),
        ("休假至", "Invalid Date", "不是有效日期"),
        ("通知方式", "飞鸽传书", "不是允许的选项"),
        ("邮箱", "not-an-email", "邮箱"),
    ],
)
def test_a_bad_value_is_an_issue_and_the_other_rows_go_on(field, value, reason):
    _, t = find_table("employees")
    recs, issues = validate_rows(t, [emp(1), emp(2, **{field: value}), emp(3)])
    assert [r.Id for r in recs] == [1, 3]
    assert len(issues) == 1
    i = issues[0]
    assert (i.table, i.row_id, i.field, i.value) == ("员工", 2, field, value)
    assert reason in i.reason
    assert "员工 第2行" in str(i) and field in str(i)


def test_missing_required_link_is_named():
    _, t = find_table("employees")
    recs, issues = validate_rows(t, [emp(1, 所属部门=None)])
    assert recs == []
    assert issues[0].field == "所属部门" and "关联" in issues[0].reason


def test_dangling_reference_is_reported():
    _, t = find_table("employees")
    recs, _ = validate_rows(t, [emp(1, 直属上级="E404"), emp(2, 直属上级="E1")])
    issues = check_refs(t, recs, {"employees": {"E1", "E2"}, "departments": {"D01"}})
    assert [(i.row_id, i.field, i.value) for i in issues] == [(1, "直属上级", "E404")]


@pytest.mark.req("ORG-2")
def test_manager_loop_is_reported_and_terminates():
    managers = {"E1": None, "E2": "E3", "E3": "E4", "E4": "E2", "E5": "E2"}
    issues = manager_loops(managers, {c: i for i, c in enumerate(managers, 1)})
    assert {i.row_id for i in issues} == {2, 3, 4, 5}
    assert "循环" in issues[0].reason and issues[0].field == "直属上级"


def test_to_row_writes_titles_and_skips_formulas():
    _, t = find_table("risks")
    row = to_row(t, {"code": "R1", "likelihood": 3, "score": 99})
    assert row == {"风险编号": "R1", "可能性": 3}


def test_schema_has_every_table_spec_needs():
    names = {t.name for b in load_schema() for t in b.tables}
    for required in ["departments", "employees", "activities", "approval_routes", "approval_steps",
                     "approval_decisions", "reports", "meetings", "action_items", "kpi_definitions",
                     "eval_cycles", "evaluations", "summaries", "audit_cycles", "budget_lines",
                     "expenses", "risks", "customers", "plans", "problems", "settings", "calendar",
                     "outbox", "run_log"]:
        assert required in names


@pytest.mark.req("EVA-7")
def test_evaluations_live_in_a_restricted_base_of_their_own():
    bases = {b.name: b for b in load_schema()}
    assert bases["hr"].restricted and not bases["actops"].restricted
    assert "evaluations" in {t.name for t in bases["hr"].tables}
    assert "evaluations" not in {t.name for t in bases["actops"].tables}


def test_settings_rows_carry_every_spec_default():
    _, t = find_table("settings")
    keys = {r["key"]: r["value"] for r in t.rows}
    assert keys["approval_sla_days"] == "2" and keys["quiet_hours"] == "21:00-08:00"
    assert keys["tier1_amount"] == "10000" and keys["tier2_amount"] == "100000"
    assert len(keys) >= 23
