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
    assert budget["description"].startswith("人民币元")  # an amount says its unit and format (STF-1)
    assert acts.column("actual_cost")["description"] is None  # no help text: no description, and never "en: …"
    # References are links staff pick from (STF-2); the key column beside it is the system's.
    assert acts.column("owner")["title"] == "负责人（工号）"
    assert acts.column("owner")["description"] == "由系统按「负责人」填写；请在「负责人」中选择，勿手工修改"
    link = next(c for c in acts.columns() if c["title"] == "负责人")
    assert link["uidt"] == "LinkToAnotherRecord" and link["description"] == "从「员工」中选择"
    assert acts.column("roi")["meta"]["precision"] == 2
    kpis = base.table_by_name("kpi_definitions")
    assert kpis.column("target")["meta"]["precision"] == 3
    assert {r["指标编号"]: r["目标值"] for r in kpis.all()}["K-ERR"] == 0.02  # from {setting: error_rate_target}
    form = next(v for v in acts.meta()["views"] if v["title"] == "活动项目启动申请表")
    shown = {c["fk_column_id"]: c for c in api.request("GET", f"/api/v2/meta/forms/{form['id']}")["columns"] if c["show"]}
    owner = shown[link["id"]]  # the form offers the pick-list, not the key column
    assert owner["required"] and owner["description"] == "从「员工」中选择"
    assert acts.column("owner")["id"] not in shown
    assert acts.column("roi")["id"] not in shown
    assert base.table_by_name("settings").count() >= 23
    assert base.table_by_name("approval_routes").count() == 8
    hr = api.base_by_title(f"{prefix}人事考评")
    assert {t["title"] for t in hr.tables()} == {"考评周期", "考评表", "等级区间"}


def test_a_second_apply_reports_0_changes(api, prefix, applied):
    again = apply(api, load_schema(), prefix=prefix, log=lambda s: None)
    assert again.changes == [] and again.drift == []


@pytest.mark.req("APR-2", "FIN-2", "RSK-2")
def test_seed_rows_and_view_filters_read_the_settings(api, prefix, applied):
    base = api.base_by_title(f"{prefix}活动运营")
    routes = {r["路由编号"]: r for r in base.table_by_name("approval_routes").all()}
    assert routes["R-EXP-1"]["金额上限"] == routes["R-EXP-2"]["金额下限"] == 10000
    assert routes["R-EXP-2"]["金额上限"] == routes["R-EXP-3"]["金额下限"] == 100000
    settings = base.table_by_name("settings")
    ids = {r["参数"]: r["Id"] for r in settings.all(fields=["参数"])}
    settings.update([{"Id": ids["risk_warn_level"], "取值": "12"}, {"Id": ids["budget_warn_ratio"], "取值": "0.75"},
                     {"Id": ids["late_streak_limit"], "取值": "三次"}])
    try:
        p = apply(api, load_schema(), prefix=prefix, log=lambda s: None)
        assert sorted((c.what, c.where.split(":")[0]) for c in p.changes) == sorted([
            ("update view filter", "风险登记/高风险"), ("update view filter", "预算科目/预算预警")])
        assert any("late_streak_limit" in d and "报告连续逾期" in d for d in p.drift)  # unusable: left as is

        def values(table_name, view_title):
            t = base.table_by_name(table_name)
            view = next(v for v in t.meta()["views"] if v["title"] == view_title)
            return [f["value"] for f in sorted(api.request("GET", f"/api/v2/meta/views/{view['id']}/filters")["list"],
                                               key=lambda f: f["order"])]

        assert values("risks", "高风险") == ["12", "已关闭"]
        assert values("budget_lines", "预算预警") == ["75"]
        assert values("employees", "报告连续逾期") == ["3"]
        assert plan(api, load_schema(), prefix=prefix).changes == []
    finally:
        settings.update([{"Id": ids["late_streak_limit"], "取值": "3"}])


def test_an_old_base_with_en_descriptions_gets_zh_ones(api, prefix):
    """A base that an earlier `schema apply` wrote: "en: …" everywhere and 1-decimal Decimals."""
    only = {"settings", "kpi_definitions", "activities", "risks"}
    old = prefix + "legacy-"
    apply(api, load_schema(), prefix=old, only=only, log=lambda s: None)
    base = api.base_by_title(f"{old}活动运营")
    api.request("PATCH", f"/api/v2/meta/bases/{base.id}", json={"description": "en: Activity Operations"})
    kpis, acts, risks = (base.table_by_name(n) for n in ("kpi_definitions", "activities", "risks"))
    api.request("PATCH", f"/api/v2/meta/tables/{kpis.id}", json={"description": "en: KPI definitions"})
    for table, name, text in [(kpis, "direction", "en: Direction"), (kpis, "target", "en: Target"),
                              (kpis, "scope", "en: Scope — 活动类型名称、部门编号，或 * 表示全部"),
                              (risks, "score", "en: Score"), (acts, "owner", "en: Owner — 填写「员工」表中的工号")]:
        col = table.column(name)  # an update takes the whole column (see actops.schema.payload)
        body = {**col, "description": text, "meta": {k: v for k, v in col["meta"].items() if k != "precision"}}
        if col["uidt"] == "Formula":
            body["formula_raw"] = col["colOptions"]["formula_raw"]
        api.request("PATCH", f"/api/v2/meta/columns/{col['id']}", json=body)
    views = {v["title"]: v for v in acts.meta(refresh=True)["views"]}
    for title, text in [("本月活动", "en: This month's activities"), ("活动项目启动申请表", "en: Activity initiation request")]:
        api.request("PATCH", f"/api/v2/meta/views/{views[title]['id']}", json={"description": text})
    api.request("PATCH", f"/api/v2/meta/tables/{acts.id}", json={"description": "财务部维护"})  # typed by staff
    kpi_rows = kpis.all()

    p = apply(api, load_schema(), prefix=old, only=only, log=lambda s: None)
    assert sorted(c.what for c in p.changes) == ["update description"] * 4 + ["update field"] * 5
    assert any("小数位 1 → 3" in c.where for c in p.changes if "目标值" in c.where)
    assert p.drift == []
    assert plan(api, load_schema(), prefix=old, only=only).changes == []

    assert next(b for b in api.bases() if b["id"] == base.id)["description"] in (None, "")
    kpis.meta(refresh=True), acts.meta(refresh=True), risks.meta(refresh=True)
    assert kpis.meta()["description"] is None and acts.meta()["description"] == "财务部维护"
    assert kpis.column("direction")["description"] is None
    assert [o["title"] for o in kpis.column("direction")["colOptions"]["options"]] == ["越高越好", "越低越好"]
    assert kpis.column("target")["description"] == "比率以小数填写，0.9 即 90%"
    assert kpis.column("target")["meta"]["precision"] == 3
    assert kpis.column("scope")["description"] == "活动类型名称、部门编号，或 * 表示全部"
    assert risks.column("score")["description"] is None
    assert risks.column("score")["colOptions"]["formula_raw"] == "{可能性} * {影响程度}"
    assert acts.column("owner")["description"] == "由系统按「负责人」填写；请在「负责人」中选择，勿手工修改"
    assert not any((v["description"] or "").startswith("en:") for v in acts.meta()["views"])
    assert kpis.all() == kpi_rows  # data untouched


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


@pytest.mark.req("REL-1", "SEC-4")
def test_an_older_base_gets_missing_select_options_added_and_rows_keep_their_values(api, prefix, applied):
    """An outbox made before its options were zh-CN: the engine's options are added, the old
    ones and the rows that use them stay."""
    from actops.schema.payload import column_update

    base = api.base_by_title(f"{prefix}活动运营")
    t = base.table_by_name("outbox")
    col = t.column("status")
    old = column_update(col)
    old["colOptions"] = {"options": [{"title": "pending"}, {"title": "sent"}]}
    old["cdf"] = "pending"
    api.request("PATCH", f"/api/v2/meta/columns/{col['id']}", json=old)
    t.create([{"去重键": "k-old", "渠道": "邮件", "状态": "sent"}], key="去重键")
    p = apply(api, load_schema(), prefix=prefix, log=lambda s: None)
    assert [c.what for c in p.changes] == ["update field"] and "待发送" in str(p.changes[0])
    t.meta(refresh=True)
    titles = [o["title"] for o in t.column("status")["colOptions"]["options"]]
    assert titles[:2] == ["pending", "sent"] and {"待发送", "已发送", "失败", "已撤回"} <= set(titles)
    assert t.all(where="(去重键,eq,k-old)")[0]["状态"] == "sent"
    t.create([{"去重键": "k-new", "渠道": "邮件", "状态": "已发送"}], key="去重键")  # accepted now
    assert apply(api, load_schema(), prefix=prefix, log=lambda s: None).changes == []
