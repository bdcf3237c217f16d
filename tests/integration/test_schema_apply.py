"""`schema apply` on a real NocoDB: creates, is idempotent, reports drift, never drops."""

from __future__ import annotations

import pytest

from actops.schema import load_schema
from actops.schema.sync import apply, plan


@pytest.fixture(scope="module")
def applied(api, prefix):
    first = apply(api, load_schema(), prefix=prefix, log=lambda s: None)
    return first


@pytest.mark.req("KPI-1", "APR-2", "ESC-3")
def test_first_apply_builds_every_table_view_form_and_seed_row(api, prefix, applied):
    assert applied.changes
    again = plan(api, load_schema(), prefix=prefix)
    assert again.changes == [] and again.drift == []
    base = api.base_by_title(f"{prefix}活动运营")
    titles = {t["title"] for t in base.tables()}
    assert {"员工", "审批步骤", "消息发件箱", "运行日志", "工作日历", "系统设置"} <= titles
    steps = base.table_by_name("approval_steps")
    views = {v["title"]: v["type"] for v in steps.meta()["views"]}
    assert "待我审批" in views
    acts = base.table_by_name("activities")
    assert {v["title"] for v in acts.meta()["views"]} >= {"本月活动", "活动项目启动申请表"}
    budget = acts.column("budget")
    assert budget["title"] == "预算金额" and budget["meta"]["currency_code"] == "CNY"
    assert budget["description"].startswith("en: Budget")
    form = next(v for v in acts.meta()["views"] if v["title"] == "活动项目启动申请表")
    shown = {c["fk_column_id"]: c for c in api.request("GET", f"/api/v2/meta/forms/{form['id']}")["columns"] if c["show"]}
    owner = shown[acts.column("owner")["id"]]
    assert owner["required"] and owner["description"] == "填写「员工」表中的工号"
    assert acts.column("roi")["id"] not in shown
    assert base.table_by_name("settings").count() >= 23
    assert base.table_by_name("approval_routes").count() == 8
    hr = api.base_by_title(f"{prefix}人事考评")
    assert {t["title"] for t in hr.tables()} == {"考评周期", "考评表", "等级区间"}


def test_dry_run_changes_nothing(api):
    p = apply(api, load_schema(), prefix="never-created-", dry_run=True, log=lambda s: None)
    assert [c.what for c in p.changes] == ["create base", "create base"]
    assert api.base_by_title("never-created-活动运营") is None


def test_drift_is_reported_not_touched_and_edits_to_seed_rows_survive(api, prefix, applied):
    base = api.base_by_title(f"{prefix}活动运营")
    settings = base.table_by_name("settings")
    col = settings.column("description")
    api.request("PATCH", f"/api/v2/meta/columns/{col['id']}", json={"title": "备注", "column_name": "description", "uidt": "LongText"})
    row = settings.all(where="(参数,eq,approval_sla_days)")[0]
    settings.update([{"Id": row["Id"], "取值": "3"}])
    api.request("POST", f"/api/v2/meta/tables/{settings.id}/columns", json={"title": "临时列", "column_name": "tmp", "uidt": "SingleLineText"})

    p = apply(api, load_schema(), prefix=prefix, log=lambda s: None)
    assert p.changes == []
    assert any("备注" in d for d in p.drift) and any("临时列" in d for d in p.drift)
    assert settings.all(where="(参数,eq,approval_sla_days)")[0]["取值"] == "3"
    settings.meta(refresh=True)
    assert settings.column("tmp")  # not dropped


def test_a_field_deleted_in_nocodb_is_added_back_without_touching_rows(api, prefix, applied):
    base = api.base_by_title(f"{prefix}活动运营")
    t = base.table_by_name("customers")
    t.create([{"客户编号": "C1", "客户名称": "甲公司"}], key="客户编号")
    col = t.column("industry")
    api.request("DELETE", f"/api/v2/meta/columns/{col['id']}")
    p = apply(api, load_schema(), prefix=prefix, log=lambda s: None)
    assert [c.what for c in p.changes] == ["add field"]
    t.meta(refresh=True)
    assert t.column("industry")["title"] == "行业"
    assert t.all()[0]["客户名称"] == "甲公司"
