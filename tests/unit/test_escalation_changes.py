"""Cost follows change (OPS-3): after a first full read, an escalation run reads the rows an
insert, an edit or a delete touched, and the rows falling due, and ends where a run that read
everything ends — same row values, same outbox, same messages.

Two identical companies on the in-memory NocoDB go through the same edits at the same times:
``changes`` runs the job as it is, ``full`` with ``since`` taken away (every run reads all).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from actops.jobs.escalations import JOB
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.messaging.outbox import item_refs
from actops.store import Store
from tests.unit.fake_world import fake_store, small_company
from tests.unit.twins import World, worlds
from tests.unit.twins import step as twins_step

T0 = datetime(2026, 11, 4, 10, 0, tzinfo=TZ)  # Wednesday
SOURCES = ("approval_steps", "approval_requests", "reports", "meetings", "action_items", "stage_gates", "problems",
           "evaluations", "audit_findings")


def rows_read(w: World) -> dict[str, list[int]]:
    """Open rows the last run that was not idle loaded, by table."""
    return {t: sorted(r.Id for r in rows) for t, rows in w.loaded[-1].open_rows.items() if rows}


def build(store: Store) -> None:
    small_company(store)  # 王总 E01 (GM), 李总监 E02 (head of 市场部), 钱专员 E04 (under E02), 孙财务 E05
    store.table("calendar").create(prc_calendar_rows([2026]))
    store.table("approval_requests").create([
        {"code": "AP-1", "kind": "采购", "title": "展台", "applicant": "E04", "status": "审批中"}])
    store.table("approval_steps").create([
        {"code": "AP-1-S1", "request": "AP-1", "seq": 1, "role": "主管", "assignee": "E04", "status": "待审批",
         "opened_at": datetime(2026, 11, 2, 9, tzinfo=TZ)},  # due Wed 11-04 09:00
        {"code": "AP-1-S2", "request": "AP-1", "seq": 2, "role": "财务", "assignee": "E05", "status": "待审批",
         "opened_at": datetime(2026, 11, 3, 9, tzinfo=TZ)}])  # due Thu 11-05 09:00
    store.table("action_items").create([
        {"code": "AI-1", "title": "布展方案", "owner": "E04", "due_date": "2026-11-03", "status": "进行中"},
        {"code": "AI-2", "title": "报价单", "owner": "E05", "due_date": "2026-11-10", "status": "进行中"},
        {"code": "AI-3", "title": "物料清单", "owner": "E04", "due_date": "2026-11-20", "status": "未开始"}])
    store.table("reports").create([
        {"code": f"RPT-E04-{d}", "employee": "E04", "kind": "日报", "period_start": f"2026-11-0{d}"} for d in (2, 3)
    ] + [{"code": "RPT-E05-2", "employee": "E05", "kind": "日报", "period_start": "2026-11-02",
          "submitted_at": datetime(2026, 11, 3, 17, tzinfo=TZ)}])
    store.table("activities").create([
        {"code": "ACT-1", "name": "冬季展", "type": "市场推广", "department": "D02", "owner": "E04",
         "start_date": "2026-11-23", "end_date": "2026-11-25"}])
    store.table("stage_gates").create([
        {"code": "ACT-1-G1", "activity": "ACT-1", "gate": "启动会", "owner": "E04", "status": "待召开"}])


def twins(monkeypatch) -> tuple[World, World]:
    """Two identical companies, one run of each read everything at T0 and the next settled."""
    import actops.jobs.escalations.job as job_module

    class Wall(datetime):  # the 我的待办 links are signed at the wall clock: the same second in both
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 4, 10, tzinfo=TZ)

    monkeypatch.setattr(job_module, "datetime", Wall)
    changes, full = worlds(JOB, build, T0)
    step(changes, full, 0)  # first run: everything read, the due items reminded
    step(changes, full, 10)  # the first run's own writes read back
    step(changes, full, 10)  # nothing changed: idle
    assert changes.results[-1].note == full.results[-1].note == "idle"
    return changes, full


def step(changes: World, full: World, minutes: int, edit=None) -> None:
    twins_step(changes, full, minutes, edit, tables=(*SOURCES, "employees"), same_messages=True)


def read(w: World) -> str:
    return w.results[-1].plan.stats["read"]


@pytest.mark.req("OPS-3", "ESC-2")
def test_an_insert_wakes_only_the_new_row(monkeypatch):
    changes, full = twins(monkeypatch)
    idle_calls = changes.calls[-1]
    step(changes, full, 10, lambda s: s.table("approval_steps").create([
        {"code": "AP-1-S3", "request": "AP-1", "seq": 3, "role": "总监", "assignee": "E02", "status": "待审批",
         "opened_at": datetime(2026, 10, 29, 9, tzinfo=TZ)}]))  # due Mon 11-02 09:00: rung 2 now
    assert read(changes) == "changes" and read(full) == "full"
    assert rows_read(changes) == {"approval_steps": [3]}
    assert len(rows_read(full)["approval_steps"]) == 3
    assert changes.results[-1].plan.messages  # the director and the general manager hear of it
    assert changes.reads("approval_steps") == 1  # one filtered read: Id above the mark
    assert changes.reads("action_items") == changes.reads("reports") == 0
    assert changes.calls[-1] <= 2 * idle_calls


@pytest.mark.req("OPS-3", "ESC-2")
def test_an_update_wakes_only_the_edited_row(monkeypatch):
    changes, full = twins(monkeypatch)
    idle_calls = changes.calls[-1]
    # AI-3's deadline is brought forward to yesterday: overdue now.
    step(changes, full, 10, lambda s: s.table("action_items").update([{"Id": 3, "due_date": "2026-11-03"}]))
    assert rows_read(changes) == {"action_items": [3]}
    assert [m.recipient for m in changes.results[-1].plan.messages] == ["E04"]
    assert changes.reads("action_items") == 1
    assert changes.calls[-1] <= 2 * idle_calls
    step(changes, full, 10)  # its own ladder writes read back: that row again, nothing sent
    assert rows_read(changes) == {"action_items": [3]} and changes.box.sent == full.box.sent


@pytest.mark.req("OPS-3", "REL-1")
def test_a_delete_retires_the_waiting_message_without_reading_the_table(monkeypatch):
    changes, full = twins(monkeypatch)
    changes.clock["now"] = T0.replace(hour=22)  # quiet hours: new reminders wait for the morning
    step(changes, full, 0, lambda s: s.table("approval_steps").create([
        {"code": "AP-1-S3", "request": "AP-1", "seq": 3, "role": "总监", "assignee": "E02", "status": "待审批",
         "opened_at": datetime(2026, 10, 29, 9, tzinfo=TZ)}]))  # rung 3: 李总监 and 王总
    only_s3 = [r["Id"] for r in changes.store.table("outbox").rows()
               if r["status"] == "待发送" and {t for t, _ in item_refs(r["items"])} == {"approval_steps"}]
    assert only_s3
    step(changes, full, 10, lambda s: s.table("approval_steps").table.delete([3]))
    assert read(changes) == "changes" and "approval_steps" not in rows_read(changes)
    status = {r["Id"]: r["status"] for r in changes.store.table("outbox").rows()}
    assert {status[i] for i in only_s3} == {"已撤回"}
    assert "待发送" in status.values()  # 钱专员's reports reminder still waits for the morning
    # the changed-rows read found nothing; one ``Id in`` lookup found the named row gone
    assert changes.reads("approval_steps") == 2


@pytest.mark.req("OPS-3", "REL-1")
def test_an_item_closed_while_its_message_waits_is_retired(monkeypatch):
    changes, full = twins(monkeypatch)
    changes.clock["now"] = T0.replace(hour=22)
    # 孙财务's AI-2 is brought forward: overdue, and her only item tonight
    step(changes, full, 0, lambda s: s.table("action_items").update([{"Id": 2, "due_date": "2026-11-03"}]))
    waiting = {r["Id"] for r in changes.store.table("outbox").rows() if r["status"] == "待发送" and r["recipient"] == "E05"}
    assert waiting
    step(changes, full, 10, lambda s: s.table("action_items").update([{"Id": 2, "status": "已完成"}]))
    assert "action_items" not in rows_read(changes)  # closed: no open row to read, the lookup says so
    assert {r["status"] for r in changes.store.table("outbox").rows() if r["Id"] in waiting} == {"已撤回"}


@pytest.mark.req("OPS-3", "ESC-2")
def test_a_row_falling_due_without_an_edit_is_found_by_its_next_escalation_time(monkeypatch):
    changes, full = twins(monkeypatch)
    changes.clock["now"] = T0.replace(hour=19)  # the daily reports' ladder moved at 18:00
    step(changes, full, 0)
    assert rows_read(changes) == {"reports": [1, 2]} and changes.reads("reports") == 3  # + the next due time
    step(changes, full, 10)  # their own writes read back
    step(changes, full, 10)
    assert changes.results[-1].note == "idle"
    changes.clock["now"] = T0 + timedelta(hours=23, minutes=30)  # Thu 09:30: S2 due at 09:00, S1 and AI-1 at rung 2
    step(changes, full, 0)
    assert read(changes) == "changes"
    assert rows_read(changes) == {"approval_steps": [1, 2], "action_items": [1]}
    assert sorted(m.recipient for m in changes.results[-1].plan.messages if m.channel == "邮件") == ["E02", "E05"]


@pytest.mark.req("OPS-3", "RPT-1")
def test_a_submitted_report_moves_its_authors_streak_from_their_reports_alone(monkeypatch):
    changes, full = twins(monkeypatch)
    e04 = next(r for r in changes.store.table("employees").rows() if r["code"] == "E04")
    assert e04["late_streak"] == 1  # the 11-02 daily report is late
    step(changes, full, 10, lambda s: s.table("reports").update([  # the 11-03 one goes in on time
        {"Id": 2, "submitted_at": datetime(2026, 11, 4, 10, 25, tzinfo=TZ)}]))
    assert read(changes) == "changes" and rows_read(changes) == {}  # no open row changed
    # the open-row read, the changed rows' authors, then every report of E04 (``employee in``)
    assert changes.reads("reports") == 3
    assert len(changes.loaded[-1].reports_all) == 2 and len(full.loaded[-1].reports_all) == 3
    assert changes.results[-1].plan.row_updates["employees"] == {e04["Id"]: {"late_streak": 0}}
    step(changes, full, 10)  # the streak it wrote to 员工 is this job's own write: still only changes
    assert read(changes) == "changes" and rows_read(changes) == {}


@pytest.mark.req("OPS-3", "ACT-3")
def test_an_activity_moved_wakes_its_stage_gates(monkeypatch):
    changes, full = twins(monkeypatch)
    gate = changes.store.table("stage_gates").rows()[0]
    assert gate["due_at"].startswith("2026-11-15 16:00")  # Mon 11-16 00:00: 5 workdays before Mon 11-23
    step(changes, full, 10, lambda s: s.table("activities").update([{"Id": 1, "start_date": "2026-11-09"}]))
    assert rows_read(changes) == {"stage_gates": [1]}
    assert changes.store.table("stage_gates").rows()[0]["due_at"].startswith("2026-11-01 16:00")


@pytest.mark.req("OPS-3", "ESC-1")
@pytest.mark.parametrize(("table", "change"), [
    ("settings", {"value": "3"}),  # escalate_after_days (seeded 7th): every deadline moves
    ("employees", {"manager": "E05"}),  # 钱专员's chain
])
def test_a_change_in_settings_or_org_reads_everything(monkeypatch, table, change):
    changes, full = twins(monkeypatch)
    bound = changes.store.table(table)
    row_id = next(r["Id"] for r in bound.rows() if r.get("key") == "escalate_after_days" or r.get("code") == "E04")

    def edit(s):
        s.table(table).update([{"Id": row_id, **change}])

    step(changes, full, 10, edit)
    assert read(changes) == "full"
    assert "settings, the calendar, employees" in changes.results[-1].plan.stats["read_why"]
    assert len(rows_read(changes)["approval_steps"]) == 2


@pytest.mark.req("OPS-3")
def test_everything_is_read_again_after_full_scan_hours(monkeypatch):
    changes, full = twins(monkeypatch)
    changes.clock["now"] = T0 + timedelta(hours=23, minutes=50)
    step(changes, full, 0, lambda s: s.table("action_items").update([{"Id": 2, "title": "报价单（修订）"}]))
    assert read(changes) == "changes"
    step(changes, full, 20, lambda s: s.table("action_items").update([{"Id": 2, "title": "报价单（二稿）"}]))
    assert read(changes) == "full" and "full_scan_hours" in changes.results[-1].plan.stats["read_why"]
    log = changes.store.table("run_log").rows()[-1]
    assert '"read": "full"' in log["stats"] and '"full_read_at"' in log["stats"]


@pytest.mark.req("OPS-3")
def test_since_marks_give_inserted_and_edited_rows_and_tell_deletes():
    from actops.kernel.watermarks import Since, take

    clock = {"now": T0}
    api, store = fake_store(clock)
    t = store.table("problems")
    t.create([{"code": f"P{i}", "description": "x", "owner": "E04", "status": "待处理"} for i in range(5)])
    clock["now"] += timedelta(minutes=5)
    t.update([{"Id": 1, "description": "y"}])
    before = take(store, ["problems"], datetime.now(TZ))
    clock["now"] += timedelta(minutes=5)
    t.update([{"Id": 2, "description": "z"}])
    t.create([{"code": "P5", "description": "new", "owner": "E04", "status": "待处理"}])
    since = Since(before, take(store, ["problems"], datetime.now(TZ)), {})
    assert since.changed("problems")
    rows = t.table.all(t.where(since.where("problems")), ["Id"])
    assert [r["Id"] for r in rows] == [2, 6]  # not row 1, edited before the mark
    assert not since.deleted("problems", inserted=1)
    t.table.delete([3])
    since = Since(before, take(store, ["problems"], datetime.now(TZ)), {})
    assert since.deleted("problems", inserted=1)
    assert not Since(before, before, {}).changed("problems")
