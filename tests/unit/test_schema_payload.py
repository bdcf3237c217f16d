"""What `schema apply` sends: zh descriptions, decimals shown, full-column updates."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actops.schema import load_schema
from actops.schema.changeset import Plan
from actops.schema.payload import (
    column_payload,
    column_update,
    filter_body,
    is_ours_to_replace,
    precision_change,
)
from actops.schema.spec import FieldSpec, find_table
from actops.schema.upkeep import column

RATIOS = {  # fields that hold a fraction (0.95 = 95 %): decimal, with decimals enough to read
    "audit_cycles": ["confidence", "tolerable_rate", "expected_rate", "deviation_rate", "upper_limit"],
    "kpi_definitions": ["weight", "target"],
    "eval_cycles": ["w_kpi", "w_supervisor", "w_self", "w_judges"],
    "grade_bands": ["quota"],
    "activities": ["roi"],
}


def _field(**kw) -> FieldSpec:
    return FieldSpec(**{"name": "x", "zh": "某值", "en": "Some value", "type": "decimal", **kw})


def test_a_description_is_the_zh_help_or_nothing_never_english():
    for b in load_schema():
        for t in b.tables:
            for f in t.fields:
                d = column_payload(f)["description"]
                if f.type == "ref" and f.link:  # the key beside a link says it is the system's
                    assert d == f"由系统按「{f.zh}」填写；请在「{f.zh}」中选择，勿手工修改", f"{t.name}.{f.name}"
                else:
                    assert d == (f.help or None), f"{t.name}.{f.name}"
                assert not (d or "").startswith("en:")


def test_every_decimal_field_shows_two_decimals_unless_it_says_otherwise():
    assert column_payload(_field())["meta"] == {"precision": 2}
    assert column_payload(_field(precision=4))["meta"] == {"precision": 4}
    assert column_payload(_field(precision=0))["meta"] == {"precision": 0}
    assert "meta" not in column_payload(_field(type="number"))
    assert column_payload(_field(type="currency"))["meta"] == {"currency_locale": "zh-CN", "currency_code": "CNY"}
    for b in load_schema():
        for t in b.tables:
            for f in t.fields:
                if f.type == "decimal":
                    assert column_payload(f)["meta"]["precision"] >= 2, f"{t.name}.{f.name}"


@pytest.mark.parametrize("bad", [{"type": "text", "precision": 2}, {"precision": 9}, {"precision": -1}])
def test_precision_is_for_decimals_and_within_what_nocodb_offers(bad):
    with pytest.raises(ValidationError):
        _field(**bad)


def test_ratio_fields_stay_fractions_and_tell_staff_how_to_read_them():
    # NocoDB's Percent shows the stored number with a "%" (0.95 → "0.95%"), while the engine and
    # the seed rows use fractions: so ratios stay decimal and say "0.95 即 95%" in their help.
    for table, names in RATIOS.items():
        _, t = find_table(table)
        for name in names:
            f = t.field(name)
            assert f.type == "decimal" and "%" in f.help, f"{table}.{name}"


def test_select_options_staff_see_are_chinese():
    engine_owned = {("outbox", "channel"), ("outbox", "status"), ("run_log", "status")}  # not ours to edit
    codes = {("employees", "locale"), ("summaries", "locale"), ("evaluations", "grade"), ("employees", "roles")}
    for b in load_schema():
        for t in b.tables:
            for f in t.fields:
                if not f.options or (t.name, f.name) in engine_owned:
                    continue
                if (t.name, f.name) in codes:
                    assert f.help or f.name in ("grade", "roles"), f"{t.name}.{f.name} needs help text"
                    continue
                assert all(any("\u4e00" <= ch <= "\u9fff" for ch in o) for o in f.options), f"{t.name}.{f.name}"


def test_only_machine_written_descriptions_are_replaced():
    assert is_ours_to_replace("en: Budget", None)
    assert is_ours_to_replace("en: Scope — 活动类型名称", "活动类型名称")
    assert is_ours_to_replace(None, "填写「员工」表中的工号") and is_ours_to_replace("", "说明")
    assert not is_ours_to_replace("财务部填写", "说明")  # someone typed it in NocoDB
    assert not is_ours_to_replace("说明", "说明") and not is_ours_to_replace("", None)


def test_precision_change_compares_the_live_meta():
    f = _field(precision=3)
    assert precision_change({"uidt": "Decimal", "meta": {}}, f) == (None, 3)
    assert precision_change({"uidt": "Decimal", "meta": {"precision": 1}}, f) == (1, 3)
    assert precision_change({"uidt": "Decimal", "meta": {"precision": 3}}, f) is None
    assert precision_change({"uidt": "Number", "meta": {}}, f) is None  # retyped by hand: drift, not ours


LIVE_SELECT = {
    "id": "c1", "title": "方向", "column_name": "direction", "uidt": "SingleSelect", "dt": "text",
    "description": "en: Direction", "meta": {"defaultViewColOrder": 10},
    "colOptions": {"options": [{"id": "s1", "title": "越高越好", "color": "#cfdffe", "order": 1}]},
}


def test_a_column_update_sends_the_whole_live_column_with_the_change_on_top():
    body = column_update(LIVE_SELECT, description=None)
    assert body["description"] is None and body["colOptions"] == LIVE_SELECT["colOptions"]
    assert body["title"] == "方向" and body["meta"] == {"defaultViewColOrder": 10}
    assert LIVE_SELECT["description"] == "en: Direction"  # the live dict is not touched
    body = column_update({**LIVE_SELECT, "uidt": "Decimal", "colOptions": None}, meta={"precision": 2})
    assert body["meta"] == {"defaultViewColOrder": 10, "precision": 2} and body["description"] == "en: Direction"
    formula = {"id": "c2", "uidt": "Formula", "title": "风险值", "colOptions": {"formula_raw": "{可能性} * {影响程度}"}}
    assert column_update(formula, description=None)["formula_raw"] == "{可能性} * {影响程度}"


def test_filter_bodies():
    assert filter_body("c", "eq", ["审批中"]) == {"fk_column_id": "c", "comparison_op": "eq", "value": "审批中"}
    assert filter_body("c", "lt", ["today", ""]) == {"fk_column_id": "c", "comparison_op": "lt",
                                                     "comparison_sub_op": "today", "value": None,
                                                     "meta": {"timezone": "Asia/Shanghai"}}  # Shanghai's today
    assert filter_body("c", "blank", []) == {"fk_column_id": "c", "comparison_op": "blank"}


class _Api:
    def __init__(self):
        self.sent = []

    def request(self, method, path, **kw):
        self.sent.append((method, path, kw.get("json")))


class _Table:
    def __init__(self):
        self.api, self.id, self.title = _Api(), "t", "KPI指标"


def test_an_old_decimal_column_gets_its_description_and_decimals_in_one_update():
    _, kpis = find_table("kpi_definitions")
    live = {"id": "c9", "title": "目标值", "column_name": "target", "uidt": "Decimal",
            "description": "en: Target", "meta": {"defaultViewColOrder": 12}}
    p, table = Plan(), _Table()
    column(p, table, live, kpis.field("target"), "KPI指标")
    assert len(p.changes) == 1 and "小数位 1 → 3" in p.changes[0].where
    p.changes[0].run()
    method, path, body = table.api.sent[0]
    assert (method, path) == ("PATCH", "/api/v2/meta/columns/c9")
    assert body["description"] == kpis.field("target").help
    assert body["meta"] == {"defaultViewColOrder": 12, "precision": 3} and body["title"] == "目标值"
    p = Plan()
    column(p, table, {**live, "description": body["description"], "meta": body["meta"]}, kpis.field("target"), "KPI指标")
    assert p.changes == []
