"""The whole intake job through the shared runner, on the in-memory NocoDB.

The fake does not return CreatedBy fields (as NocoDB's v2 list does for its system column),
so these rows have no account: the submitter part is covered by test_intake_rules and,
on a real NocoDB, by tests/integration/test_intake.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actops.jobs.intake import JOB, calendar_sync
from actops.kernel import runner
from actops.kernel.calendar import TZ, known_years
from tests.unit.fake_world import fake_store

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture()
def world():
    clock = {"now": T0}
    api, store = fake_store(clock)
    store.table("departments").create([{"code": "D01", "name": "市场部"}])
    store.table("employees").create([{"code": "E1", "name": "张三", "department": "D01", "email": "z@x.cn"}])
    store.table("activities").create([{"code": "ACT-2026-0001", "name": "春季促销", "type": "市场推广", "stage": "策划",
                                       "department": "D01", "owner": "E1", "start_date": "2026-12-01",
                                       "end_date": "2026-12-02"}])
    return api, store, clock


def run(store, clock, **kw):
    return runner.run(JOB, store, clock["now"].astimezone(TZ), **kw)


@pytest.mark.req("STF-1", "ACT-5", "ESC-3")
def test_form_rows_get_keys_documents_are_judged_and_the_calendar_filled_once(world):
    api, store, clock = world
    reports = store.table("reports")
    reports.table.create([{"提交人": "E1", "报告类型": "日报", "报告期开始": "2026-11-23", "报告内容": "一"},
                          {"报告类型": "周报", "报告期开始": "2026-11-23", "报告内容": "二"}])
    store.table("documents").create([
        {"code": "F1", "activity": "ACT-2026-0001", "name": "春季促销-2026-01V1", "name_ok": False},
        {"code": "F2", "activity": "ACT-2026-0001", "name": "会议记录 副本.docx", "name_ok": True}])
    first = run(store, clock)
    rows = {r["Id"]: r for r in reports.rows()}
    assert [rows[i]["code"] for i in (1, 2)] == ["RPT-20261123-0001", "RPT-20261123-0002"]
    assert rows[1]["submitted_at"].startswith("2026-11-23 02:00:00")
    assert "【表单受理】工作报告 第2行「提交人」：无法确定提交人" in rows[2]["data_issue"]
    docs = {r["code"]: r for r in store.table("documents").rows()}
    assert docs["F1"]["name_ok"] is True and not docs["F1"]["data_issue"]
    assert docs["F2"]["name_ok"] is False and "项目名称-日期-版本号" in docs["F2"]["data_issue"]
    days = calendar_sync.expected_days(known_years())
    assert first.plan.stats["calendar_added"] == days == store.table("calendar").table.count()
    assert first.plan.stats["keys_given"] == 2

    # The person fixes the row; the note goes, the key and the time stay.
    clock["now"] = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    reports.update([{"Id": 2, "employee": "E1"}])
    second = run(store, clock)
    rows = {r["Id"]: r for r in reports.rows()}
    assert rows[2]["code"] == "RPT-20261123-0002" and not rows[2]["data_issue"]
    assert second.plan.stats["keys_given"] == 0 and "calendar_added" not in second.plan.stats

    # Nothing changed since: the run reads only the marks.
    clock["now"] = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    run(store, clock)  # settles the marks the second run's own writes moved
    clock["now"] = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    before = dict(api.calls)
    third = run(store, clock)
    assert third.note == "idle" and api.calls.get("PATCH", 0) - before.get("PATCH", 0) <= 1  # the run log


@pytest.mark.req("STF-1")
def test_a_dry_run_says_what_it_would_give_and_writes_nothing(world):
    api, store, clock = world
    store.table("expenses").table.create([{"活动": "ACT-2026-0001", "科目": "餐饮", "金额": 88, "发生日期": "2026-11-20",
                                           "报销人": "E1"}])
    result = run(store, clock, dry_run=True)
    assert result.plan.row_updates["expenses"] == {1: {"code": "EXP-20261123-0001"}}
    assert store.table("expenses").rows()[0]["code"] is None
    assert store.table("calendar").table.count() == 0 and result.plan.stats["calendar_added"] > 8000
