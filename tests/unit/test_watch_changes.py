"""Cost follows change (OPS-3) for the budget and risk watch: after a first full read, a run
reads the lines and expenses of the activities an edit names and the risks named, and ends
where a run that reads everything ends — same rows, same outbox, same messages.

Two identical companies on the in-memory NocoDB go through the same edits at the same times:
``changes`` runs the job as it is, ``full`` with ``since`` taken away (every run reads all).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from actops.jobs.watch import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.store import Store
from tests.unit.fake_world import small_company
from tests.unit.twins import World, row, worlds
from tests.unit.twins import step as twins_step

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # Monday
TABLES = ("budget_lines", "expenses", "activities", "risks", "risk_history")


def build(store: Store) -> None:
    small_company(store)  # 王总 E01 (GM), 李总监 E02 (head of 市场部), 钱专员 E04 (under E02), 孙财务 E05 (财务)
    store.table("activities").create([
        {"code": f"ACT-{i}", "name": f"活动{i}", "type": "市场推广", "stage": "执行", "department": "D02",
         "owner": "E04", "start_date": "2026-11-01", "end_date": "2026-11-30"} for i in (1, 2, 3)])
    store.table("budget_lines").create([
        {"code": f"BL-{i}-{c}", "activity": f"ACT-{i}", "category": c, "amount": 10000}
        for i in (1, 2, 3) for c in ("场地", "策划")])
    store.table("expenses").create([
        {"code": f"EXP-{i}", "activity": f"ACT-{i}", "category": "场地", "amount": 1000, "spent_on": "2026-11-10",
         "employee": "E04", "status": "已批准"} for i in (1, 2, 3)])
    store.table("risks").create([
        {"code": f"ACT-{i}-R1", "activity": f"ACT-{i}", "category": "安全", "description": "现场人流密集",
         "likelihood": 2, "impact": 2, "owner": "E04", "status": "监控中"} for i in (1, 2, 3)])


def twins() -> tuple[World, World]:
    """Two identical companies: a first run that reads everything, its own writes read back,
    then an idle run."""
    changes, full = worlds(JOB, build, T0)
    step(changes, full, 0)
    assert changes.stats()["read"] == "full" and changes.stats()["lines_updated"] == 6
    step(changes, full, 10)
    while changes.results[-1].note != "idle":  # the run's own writes read back (at most twice)
        assert len(changes.results) < 5
        step(changes, full, 10)
    assert full.results[-1].note == "idle"
    return changes, full


def step(changes: World, full: World, minutes: int, edit=None) -> None:
    twins_step(changes, full, minutes, edit, tables=TABLES)


def update(table: str, code: str, **values):
    def edit(store: Store) -> None:
        store.table(table).update([{"Id": row(store, table, code)["Id"], **values}])
    return edit


@pytest.mark.req("OPS-3", "FIN-1", "FIN-2")
def test_a_new_expense_reads_its_activity_alone_and_alerts():
    changes, full = twins()

    def claim(store: Store) -> None:
        store.table("expenses").create([{"code": "EXP-9", "activity": "ACT-2", "category": "场地", "amount": 7500,
                                         "spent_on": "2026-11-20", "employee": "E04", "status": "已批准"}])
    step(changes, full, 10, claim)
    s = changes.stats()
    assert s["read"] == "changes" and s["rows_read"] == {"budget_lines": 2, "expenses": 2}, s
    assert full.stats()["rows_read"]["expenses"] == 4
    assert s["budget_alerts"] == 1 and row(changes.store, "budget_lines", "BL-2-场地")["warn_level"] == "预警"
    assert changes.box.sent  # the owner and finance told


@pytest.mark.req("OPS-3", "FIN-1")
def test_an_expense_approved_in_the_grid_is_counted_reading_its_activity():
    changes, full = twins()
    step(changes, full, 10, update("expenses", "EXP-3", status="待审批"))
    assert changes.stats()["rows_read"] == {"budget_lines": 2, "expenses": 1}
    assert row(changes.store, "budget_lines", "BL-3-场地")["spent"] == 0
    step(changes, full, 10)  # its write read back
    step(changes, full, 10, update("expenses", "EXP-3", status="已支付", amount=10000))
    assert row(changes.store, "budget_lines", "BL-3-场地")["warn_level"] == "超支"


@pytest.mark.req("OPS-3", "RSK-1", "RSK-2")
def test_a_risk_raised_is_read_alone_warned_and_recorded():
    changes, full = twins()
    step(changes, full, 10, update("risks", "ACT-1-R1", likelihood=4, impact=3))
    s = changes.stats()
    assert s["read"] == "changes" and s["rows_read"] == {"risks": 1, "risk_history": 1}, s
    assert s["risk_warnings"] == 1 and s["history_rows"] == 1


@pytest.mark.req("OPS-3", "FIN-3")
def test_an_activity_at_closing_gets_its_variance_reading_its_lines():
    changes, full = twins()
    step(changes, full, 10, update("activities", "ACT-1", stage="结项验收"))
    s = changes.stats()
    assert s["read"] == "changes" and s["variances_written"] == 1 and s["rows_read"]["budget_lines"] == 2
    assert "场地：预算 10,000.00 元，实际 1,000.00 元" in row(changes.store, "activities", "ACT-1")["variance"]


@pytest.mark.req("OPS-3", "FIN-1")
def test_a_deleted_expense_reads_everything_and_lowers_its_line():
    changes, full = twins()

    def delete(store: Store) -> None:
        store.table("expenses").table.delete([row(store, "expenses", "EXP-1")["Id"]])
    step(changes, full, 10, delete)
    s = changes.stats()
    assert s["read"] == "full" and "deleted" in s["read_why"]
    assert row(changes.store, "budget_lines", "BL-1-场地")["spent"] == 0


@pytest.mark.req("OPS-3", "FIN-2")
def test_a_change_of_the_warning_ratio_reads_everything():
    changes, full = twins()

    def ratio(store: Store) -> None:
        s = next(r for r in store.table("settings").rows() if r["key"] == "budget_warn_ratio")
        store.table("settings").update([{"Id": s["Id"], "value": "0.1"}])
    step(changes, full, 10, ratio)
    s = changes.stats()
    assert s["read"] == "full" and "settings" in s["read_why"] and s["budget_alerts"] == 3


@pytest.mark.req("OPS-3")
def test_full_reads_everything_and_the_day_after_too():
    changes, full = twins()
    changes.clock["now"] += timedelta(minutes=10)
    r = runner.run(JOB, changes.store, changes.clock["now"], channels={"邮件": changes.box}, params={"full": True})
    assert r.plan.stats["read"] == "full" and not r.plan.row_updates and not r.plan.messages
    step(changes, full, 10, update("risks", "ACT-2-R1", description="改了说明"))
    assert changes.stats()["read"] == "changes"
    step(changes, full, 24 * 60, update("risks", "ACT-2-R1", description="又改了"))
    assert changes.stats()["read"] == "full" and "full_scan_hours" in changes.stats()["read_why"]


@pytest.mark.req("OPS-3", "FIN-1")
def test_an_expense_moved_to_another_activity_lowers_the_line_it_left_at_once():
    """The activity an edited row left is named by no row any more: the job's copy of where each
    row was (jobs/watch/homes.py) names it, so both lines are right after one changes run."""
    changes, full = twins()
    step(changes, full, 10, update("expenses", "EXP-1", activity="ACT-2", amount=4000))
    s = changes.stats()
    assert s["read"] == "changes" and s["rows_read"] == {"budget_lines": 4, "expenses": 2}, s  # ACT-1 has none now
    assert row(changes.store, "budget_lines", "BL-1-场地")["spent"] == 0
    assert row(changes.store, "budget_lines", "BL-2-场地")["spent"] == 5000
    step(changes, full, 10)  # its writes read back
    step(changes, full, 10, update("budget_lines", "BL-2-策划", activity="ACT-3"))  # a line moved: both judged again
    assert changes.stats()["read"] == "changes" and changes.stats()["rows_read"]["budget_lines"] == 4


@pytest.mark.req("OPS-3")
def test_without_its_copy_of_where_rows_were_the_run_reads_everything(tmp_path, monkeypatch):
    changes, full = twins()
    for f in (tmp_path / "rows" / "changes").glob("watch-homes-*.json"):
        f.unlink()  # a new worker machine
    step(changes, full, 10, update("expenses", "EXP-1", activity="ACT-2"))
    assert changes.stats()["read"] == "full" and changes.stats()["read_why"] == "no local copy of these rows yet"
    step(changes, full, 10)
    step(changes, full, 10, update("expenses", "EXP-2", amount=300))
    assert changes.stats()["read"] == "changes"  # the full read made one
    monkeypatch.setenv("ACTOPS_CACHE_DIR", "")  # none kept: changes are read, a moved row's old line waits
    step(changes, full, 10)
    step(changes, full, 10, update("expenses", "EXP-3", amount=200))
    assert changes.stats()["read"] == "changes"
