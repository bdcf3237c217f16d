"""Scoring reads the rows its periods can count, not the tables whole (issue 12), and every
KPI rule gives the same facts from those rows as from the whole tables.

Two years of activities, feedback, plan tasks and action items on the in-memory NocoDB, with
the edges that matter: times just inside and outside a period in Beijing time (a UTC day
apart), feedback without 提交时间 (dated by its activity's 结束日期), an action item and a
feedback row naming an activity of another year, a task whose plan is only named by it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from actops.jobs.evaluations.actuals import READS, RULES, Data, tables_read
from actops.jobs.evaluations.kpi import KpiDef
from actops.jobs.evaluations.ops_rows import read_ops
from actops.jobs.evaluations.periods import parse_period
from actops.kernel.calendar import TZ
from tests.unit.fake_world import fake_store
from tests.unit.ops_company import ops_company

OPS = ("activities", "feedback", "plans", "plan_tasks", "action_items")


@pytest.fixture(scope="module")
def store():
    _, s = fake_store({"now": datetime(2026, 12, 1, 2, 0, tzinfo=UTC)})
    ops_company(s)
    return s


def _facts(data: Data, period, as_of: date) -> dict[str, tuple]:
    out = {}
    for code, (rule, _) in RULES.items():
        facts, notes = rule(data, period, as_of)
        out[code] = (sorted(facts, key=repr), notes)
    return out


@pytest.mark.req("KPI-2", "OPS-3")
@pytest.mark.parametrize("codes", [["2026-Q3"], ["2026-07"], ["2026"], ["2026-Q3", "2025-Q4"]])
def test_the_periods_rows_give_the_same_facts_as_the_whole_tables(store, codes):
    periods = [parse_period(c) for c in codes]
    whole = {n: store.table(n).read()[0] for n in OPS}
    got, issues = read_ops(store, periods)
    assert issues == []
    people = {e["code"]: e["department"] for e in store.table("employees").rows()}
    for p in periods:
        as_of = p.end + timedelta(days=10)
        assert _facts(Data(**got, department_of=people), p, as_of) == _facts(Data(**whole, department_of=people), p, as_of)
    if codes != ["2026"]:  # a quarter or a month of a two-year base reads a fraction of it
        for n in ("plan_tasks", "action_items"):
            assert len(got[n]) < len(whole[n]) / 3, n
    # and each activity read is one the periods can count, or one a row read names
    named = {x.activity for x in (*got["feedback"], *got["action_items"])}
    near = [(p.start - timedelta(days=1), p.end + timedelta(days=1)) for p in periods]
    for a in got["activities"]:
        closed = a.closed_at.astimezone(TZ).date() if a.closed_at else None
        assert a.code in named or any(p.start <= a.end_date <= p.end for p in periods) or any(
            closed and lo <= closed <= hi for lo, hi in near), a.code
    assert len(got["activities"]) < len(whole["activities"])


def _item_naming_an_old_activity(store, act: str, name: str, item: str, started: date, due: date) -> None:
    """An archived two-day activity of another year, and an action item of 2026-Q3 naming it."""
    store.table("activities").create([{"code": act, "name": name, "type": "培训", "stage": "归档", "department": "D07",
                                       "owner": "E05", "start_date": started, "end_date": started + timedelta(days=1)}])
    store.table("action_items").create([{"code": item, "title": "跟进", "owner": "E04", "activity": act,
                                         "due_date": due}])


@pytest.mark.req("OPS-3")
def test_an_activity_of_another_year_named_by_an_item_of_the_period_is_read(store):
    _item_naming_an_old_activity(store, "ACT-OLD", "旧活动", "AI-NEW", date(2024, 3, 1), date(2026, 8, 3))
    got, _ = read_ops(store, [parse_period("2026-Q3")])
    assert "ACT-OLD" in {a.code for a in got["activities"]}
    assert "ACT-OLD" in {i.activity for i in got["action_items"]}  # AI-NEW, read with the columns the rules use


@pytest.mark.req("KPI-2", "OPS-3")
@pytest.mark.parametrize("code", sorted(RULES))
def test_each_rule_alone_reads_only_its_tables_and_gets_the_same_facts(store, code):
    p = parse_period("2026-Q3")
    whole = {n: store.table(n).read()[0] for n in OPS}
    got, _ = read_ops(store, [p], set(READS[code]))
    people = {e["code"]: e["department"] for e in store.table("employees").rows()}
    rule = RULES[code][0]
    assert rule(Data(**got, department_of=people), p, p.end) == rule(Data(**whole, department_of=people), p, p.end)
    unread = {"activities", "feedback", "plan_tasks", "action_items"} - set(READS[code])
    assert all(got[n] == [] for n in unread - {"activities"}), code
    named = {x.activity for x in (*got["feedback"], *got["action_items"])}
    assert all(a.code in named for a in got["activities"]) if "activities" in unread else got["activities"]


@pytest.mark.req("KPI-2")
def test_a_kpi_typed_by_hand_reads_no_table(store):
    defs = [KpiDef.from_row(r) for r in store.table("kpi_definitions").rows()]
    collab = next(d for d in defs if d.code == "K-COLLAB")
    assert collab.source == "录入"  # as seeded: the stand-in is used only when HR switches it to 计算
    assert "action_items" not in tables_read(defs)
    assert "action_items" in tables_read([*defs, KpiDef.from_row({"code": "K-COLLAB", "name": "协作效率",
                                                                    "source": "计算", "applies_to": "部门"})])


@pytest.mark.req("OPS-3")
def test_a_named_activity_whose_code_no_filter_can_carry_is_still_read(store):
    """NocoDB splits an ``in`` list at commas: an item naming 「ACT,9」 still finds its activity
    (kernel.changed_rows.read_keyed reads the named rows another way)."""
    _item_naming_an_old_activity(store, "ACT,9", "逗号活动", "AI-COMMA", date(2024, 5, 1), date(2026, 8, 4))
    got, _ = read_ops(store, [parse_period("2026-Q3")])
    assert "ACT,9" in {a.code for a in got["activities"]}


@pytest.mark.req("KPI-2")
def test_a_computed_kpi_switched_off_reads_no_table():
    row = {"code": "K-COLLAB", "name": "协作效率", "source": "计算", "applies_to": "部门"}
    assert tables_read([KpiDef.from_row(row)]) == {"action_items"}
    assert tables_read([KpiDef.from_row({**row, "active": False})]) == set()
