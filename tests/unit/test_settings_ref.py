"""{setting: …} placeholders in schema/: parsing, conversion, resolution, derived view filters."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from actops.errors import SchemaError
from actops.schema import load_schema
from actops.schema.changeset import Plan
from actops.schema.settings_ref import (
    SettingRef,
    SettingValueError,
    SettingValues,
    as_filter_value,
    convert,
    default_settings,
    parse,
    same_filter_value,
)
from actops.schema.spec import find_table
from actops.schema.upkeep import derived_filters

DEFAULTS = {"tier1_amount": "10000", "budget_warn_ratio": "0.8", "risk_warn_level": "10", "satisfaction_target": "0.9"}


def test_parse_turns_the_one_key_mapping_into_a_reference():
    assert parse({"setting": "tier1_amount"}) == SettingRef("tier1_amount")
    assert parse({"setting": "budget_warn_ratio", "times": 100}) == SettingRef("budget_warn_ratio", Decimal(100))
    assert parse(10000) == 10000 and parse("审批中") == "审批中" and parse(None) is None


@pytest.mark.parametrize("bad", [{"settings": "x"}, {"setting": ""}, {"setting": "x", "scale": 2},
                                 {"setting": "x", "times": "100"}, {"setting": 5}])
def test_parse_refuses_anything_else_that_looks_like_a_mapping(bad):
    with pytest.raises(ValueError):
        parse(bad)


@pytest.mark.parametrize(("raw", "ref", "ftype", "want"), [
    ("10000", SettingRef("tier1_amount"), "currency", 10000),
    (" 100,000 ", SettingRef("tier2_amount"), "currency", 100000),
    ("0.9", SettingRef("satisfaction_target"), "decimal", 0.9),
    ("0.02", SettingRef("error_rate_target"), "decimal", 0.02),
    ("10", SettingRef("risk_warn_level"), "formula", 10),
    ("0.8", SettingRef("budget_warn_ratio", Decimal(100)), "formula", 80),
    ("0.75", SettingRef("budget_warn_ratio", Decimal(100)), "formula", 75),
    ("3", SettingRef("late_streak_limit"), "number", 3),
    ("21:00-08:00", SettingRef("quiet_hours"), "text", "21:00-08:00"),
    ("是", SettingRef("flag"), "checkbox", True),
])
def test_convert_to_the_type_of_the_field_it_lands_in(raw, ref, ftype, want):
    got = convert(raw, ref, ftype)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(("raw", "ftype"), [("", "currency"), (None, "decimal"), ("abc", "number"),
                                             ("3.5", "number"), ("nan", "decimal"), ("也许", "checkbox")])
def test_convert_refuses_a_value_that_does_not_fit(raw, ftype):
    with pytest.raises(SettingValueError):
        convert(raw, SettingRef("k"), ftype)


def test_filter_values_compare_as_numbers_when_they_are_numbers():
    assert as_filter_value(80) == "80" and as_filter_value(0.02) == "0.02" and as_filter_value(100000) == "100000"
    assert as_filter_value(True) == "true" and as_filter_value("高") == "高"
    assert same_filter_value("80", "80") and same_filter_value("80.0", "80") and same_filter_value(80, "80")
    assert not same_filter_value("10", "12") and not same_filter_value(None, "10")
    assert same_filter_value("已关闭", "已关闭") and not same_filter_value("已关闭", "识别")


def test_defaults_rule_until_the_settings_table_exists():
    v = SettingValues(DEFAULTS)
    r = v.resolve(SettingRef("tier1_amount"), "currency")
    assert r.value == 10000 and r.note is None


def test_the_live_value_wins_over_the_default():
    v = SettingValues.from_rows(DEFAULTS, [("tier1_amount", "20000"), ("budget_warn_ratio", "0.9")])
    assert v.resolve(SettingRef("tier1_amount"), "currency").value == 20000
    assert v.resolve(SettingRef("budget_warn_ratio", Decimal(100)), "formula").value == 90
    # not (yet) a live row: the same apply seeds it with its default
    assert v.resolve(SettingRef("risk_warn_level"), "formula") .value == 10


def test_an_unusable_live_value_falls_back_to_the_default_and_says_so():
    v = SettingValues.from_rows(DEFAULTS, [("tier1_amount", "一万"), ("risk_warn_level", ""),
                                           ("budget_warn_ratio", "0.8"), ("budget_warn_ratio", "0.7")])
    r = v.resolve(SettingRef("tier1_amount"), "currency")
    assert r.value == 10000 and "tier1_amount" in r.note and "一万" in r.note
    assert v.resolve(SettingRef("risk_warn_level"), "formula").note
    r = v.resolve(SettingRef("budget_warn_ratio"), "decimal")
    assert r.value == 0.8 and "多行" in r.note
    with pytest.raises(SettingValueError):
        v.resolve(SettingRef("no_such_key"), "text")


def test_a_seed_row_is_resolved_field_by_field():
    v = SettingValues.from_rows(DEFAULTS, [("tier1_amount", "x")])
    row, notes = v.row({"code": "R-EXP-1", "max_amount": SettingRef("tier1_amount"), "steps": "主管"},
                       {"code": "text", "max_amount": "currency", "steps": "text"})
    assert row == {"code": "R-EXP-1", "max_amount": 10000, "steps": "主管"}
    assert notes == ["max_amount: 系统设置 tier1_amount 的取值无效（「x」不是数字），按默认值 10000 写入"]


def test_the_schema_copies_settings_by_reference_and_resolves_to_the_spec_defaults():
    bases = load_schema()
    _, settings = find_table("settings", bases)
    v = SettingValues(default_settings(settings.rows))
    _, routes = find_table("approval_routes", bases)
    types = {f.name: f.type for f in routes.fields}
    exp = {r["code"]: v.row(r, types)[0] for r in routes.rows if r["kind"] == "费用"}
    assert exp["R-EXP-1"]["max_amount"] == exp["R-EXP-2"]["min_amount"] == 10000
    assert exp["R-EXP-2"]["max_amount"] == exp["R-EXP-3"]["min_amount"] == 100000
    _, kpis = find_table("kpi_definitions", bases)
    targets = {r["code"]: v.row(r, {f.name: f.type for f in kpis.fields})[0]["target"] for r in kpis.rows}
    assert targets["K-SAT"] == 0.9 and targets["K-ERR"] == 0.02
    _, lines = find_table("budget_lines", bases)
    warn = next(view for view in lines.views if view.zh == "预算预警").filters[0]
    assert as_filter_value(v.resolve(warn[-1], "formula").value) == "80"
    _, risks = find_table("risks", bases)
    high = next(view for view in risks.views if view.zh == "高风险").filters[0]
    assert high[-1] == SettingRef("risk_warn_level") and v.resolve(high[-1], "formula").value == 10


def _schema_dir(tmp_path: Path, settings_rows: str, routes_rows: str) -> Path:
    base = tmp_path / "s" / "ops"
    base.mkdir(parents=True)
    (base / "_base.yaml").write_text("name: ops\nzh: 运营\nen: Ops\n", encoding="utf-8")
    (base / "t.yaml").write_text(f"""tables:
  - name: settings
    zh: 系统设置
    en: Settings
    key: key
    fields:
      - {{name: key, zh: 参数, en: Key, type: text}}
      - {{name: value, zh: 取值, en: Value, type: text}}
    rows: {settings_rows}
  - name: routes
    zh: 路由
    en: Routes
    key: code
    fields:
      - {{name: code, zh: 编号, en: Code, type: text}}
      - {{name: max_amount, zh: 金额上限, en: To, type: currency}}
    rows: {routes_rows}
""", encoding="utf-8")
    return tmp_path / "s"


def test_a_reference_to_an_unknown_setting_is_a_schema_error(tmp_path):
    ok = _schema_dir(tmp_path / "a", "[{key: tier1_amount, value: '10000'}]", "[{code: R1, max_amount: {setting: tier1_amount}}]")
    assert load_schema(ok)
    bad = _schema_dir(tmp_path / "b", "[{key: tier1_amount, value: '10000'}]", "[{code: R1, max_amount: {setting: tier3_amount}}]")
    with pytest.raises(SchemaError, match="tier3_amount"):
        load_schema(bad)
    key = _schema_dir(tmp_path / "c", "[{key: tier1_amount, value: '10000'}]", "[{code: {setting: tier1_amount}}]")
    with pytest.raises(SchemaError, match="cannot take"):
        load_schema(key)


class _Api:
    def __init__(self, filters):
        self.filters, self.sent = filters, []

    def request(self, method, path, **kw):
        self.sent.append((method, path, kw.get("json")))
        return {"list": self.filters} if method == "GET" else {}


class _Table:
    def __init__(self, api):
        self.api, self.id, self.title = api, "t1", "风险登记"

    def column(self, name):
        return {"id": {"score": "c-score", "status": "c-status"}[name]}


def _risk_filters(value):
    return [{"id": "f2", "order": 2, "fk_column_id": "c-status", "comparison_op": "neq", "value": "已关闭"},
            {"id": "f1", "order": 1, "fk_column_id": "c-score", "comparison_op": "gte", "value": value}]


def test_a_derived_view_filter_follows_the_live_setting():
    _, risks = find_table("risks")
    views = {"高风险": {"id": "v1", "title": "高风险"}}
    api = _Api(_risk_filters("10"))
    p = Plan()
    derived_filters(p, _Table(api), views, risks, SettingValues.from_rows({"risk_warn_level": "10"}, [("risk_warn_level", "12")]))
    assert [c.what for c in p.changes] == ["update view filter"] and "10 → 12" in p.changes[0].where
    p.changes[0].run()
    assert api.sent[-1] == ("PATCH", "/api/v2/meta/filters/f1",
                            {"fk_column_id": "c-score", "comparison_op": "gte", "value": "12"})


def test_a_derived_view_filter_already_in_step_or_with_an_unusable_setting_is_left_alone():
    _, risks = find_table("risks")
    views = {"高风险": {"id": "v1", "title": "高风险"}}
    p = Plan()
    derived_filters(p, _Table(_Api(_risk_filters("10.0"))), views, risks, SettingValues({"risk_warn_level": "10"}))
    assert p.changes == [] and p.drift == []
    derived_filters(p, _Table(_Api(_risk_filters("10"))), views, risks,
                    SettingValues.from_rows({"risk_warn_level": "10"}, [("risk_warn_level", "高")]))
    assert p.changes == [] and "risk_warn_level" in p.drift[0] and "left as is" in p.drift[0]
