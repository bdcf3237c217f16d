"""The pure half of the escalation job: rows → open items → owed notices → messages."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.jobs.escalations import Inputs, plan
from actops.jobs.escalations.sources import SOURCES, Context, open_item
from actops.kernel.calendar import TZ, WorkCalendar, prc_calendar_rows
from actops.kernel.org import build_org
from actops.kernel.runner import RunContext
from actops.kernel.settings import Settings
from actops.kernel.snapshot import Snapshot
from actops.records import model_for
from actops.schema.spec import find_table

CAL, _ = WorkCalendar.from_rows(prc_calendar_rows([2026]))


def rec(table, **values):
    _, spec = find_table(table)
    return model_for(spec)(**values)


def inputs(now, steps=(), emps=None, **open_rows_by_table):
    emps = emps or [
        rec("employees", Id=1, code="E1", name="总经理", department="D01", roles="总经理", email="e1@x.cn", active=True),
        rec("employees", Id=2, code="E2", name="主管", department="D01", manager="E1", email="e2@x.cn", active=True),
        rec("employees", Id=3, code="E3", name="员工", department="D01", manager="E2", email="e3@x.cn",
            wecom_id="wx3", channel="邮件和企业微信", active=True),
        rec("employees", Id=4, code="E4", name="代理人", department="D01", manager="E2", email="e4@x.cn", active=True),
    ]
    depts = [rec("departments", Id=1, code="D01", name="市场部", head="E2")]
    open_rows = {s.table: [] for s in SOURCES}
    open_rows["approval_steps"] = list(steps)
    open_rows.update({k: list(v) for k, v in open_rows_by_table.items()})
    specs = {s.table: find_table(s.table)[1] for s in SOURCES} | {"employees": find_table("employees")[1]}
    base = Snapshot(settings=Settings(), calendar=CAL, org=build_org(emps, depts, None), employees=emps,
                    departments=depts)
    return Inputs(now=now, base=base, open_rows=open_rows, issues=[], activities={},
                  request_titles={"AP-1": "采购 展台"}, reports_all=[], specs=specs)


def run_plan(inp, enqueued=frozenset()):
    return plan(inp, RunContext("run-1", inp.now, already_enqueued=frozenset(enqueued)))


def owed(p):
    """(recipient, rung) of every notice the plan's messages carry."""
    keys = sorted({k for m in p.messages for k in m.items})
    return [(k.split(":")[3], int(k.split(":")[2][1:])) for k in keys]


def step(**kw):
    base = {"Id": 7, "code": "AP-1-S1", "request": "AP-1", "seq": 1, "role": "主管", "assignee": "E3", "status": "待审批",
            "opened_at": "2026-09-30T15:00:00+08:00"}
    return rec("approval_steps", **{**base, **kw})


@pytest.mark.req("APR-5")
def test_a_deputy_gets_the_reminder_for_a_delegated_step():
    inp = inputs(datetime(2026, 10, 9, 16, tzinfo=TZ), [step(delegate="E4")])
    ctx = Context(inp.settings, inp.cal, inp.activities, inp.request_titles)
    item, _ = open_item(SOURCES[0], inp.open_rows["approval_steps"][0], ctx)
    assert item.assignee == "E4"
    assert owed(run_plan(inp)) == [("E4", 1)]


@pytest.mark.req("ESC-1", "ESC-3")
def test_due_time_is_computed_in_workdays_and_written_back_once():
    p = run_plan(inputs(datetime(2026, 10, 8, 10, tzinfo=TZ), [step()]))
    assert p.messages == []
    assert p.row_updates["approval_steps"][7]["due_at"] == datetime(2026, 10, 9, 15, tzinfo=TZ)
    stored = step(due_at="2026-10-09T15:00:00+08:00", escalation_level=0,
                  next_escalation_at="2026-10-09T15:00:00+08:00")
    p = run_plan(inputs(datetime(2026, 10, 8, 10, tzinfo=TZ), [stored]))
    assert "approval_steps" not in p.row_updates  # nothing changed: nothing to write


@pytest.mark.req("ESC-2", "REL-1")
def test_only_notices_missing_from_the_items_ledger_are_sent_and_the_ledger_learns_them():
    now = datetime(2026, 10, 10, 16, tzinfo=TZ)  # rung 2 (Sat 10-10 is a make-up workday)
    p = run_plan(inputs(now, [step(escalation_level=1, notified="r1:E3")]))
    assert owed(p) == [("E2", 2)]
    assert p.row_updates["approval_steps"][7]["notified"] == "r1:E3 r2:E2"
    again = run_plan(inputs(now, [step(escalation_level=2, notified="r1:E3 r2:E2")]))
    assert again.messages == [] and "notified" not in again.row_updates.get("approval_steps", {}).get(7, {})


@pytest.mark.req("ESC-2", "APR-5")
def test_a_reassigned_step_reaches_its_new_assignee_once():
    now = datetime(2026, 10, 9, 16, tzinfo=TZ)
    p = run_plan(inputs(now, [step(assignee="E4", escalation_level=1, notified="r1:E3")]))
    assert owed(p) == [("E4", 1)]


@pytest.mark.req("REL-1")
def test_items_a_dead_run_already_queued_are_not_queued_again_but_recorded():
    now = datetime(2026, 10, 9, 16, tzinfo=TZ)
    p = run_plan(inputs(now, [step()]), enqueued={"approval_steps:7:r1:E3"})
    assert p.messages == []
    assert p.row_updates["approval_steps"][7]["notified"] == "r1:E3"


@pytest.mark.req("ESC-5", "SEC-3")
def test_one_message_per_channel_rendered_with_the_items_it_covers():
    inp = inputs(datetime(2026, 10, 9, 16, tzinfo=TZ), [step(code="<b>S1</b>")])
    msgs = run_plan(inp).messages
    assert sorted(m.channel for m in msgs) == ["企业微信", "邮件"]
    assert all(m.items == ("approval_steps:7:r1:E3",) for m in msgs)
    email = next(m for m in msgs if m.channel == "邮件")
    assert "&lt;b&gt;S1&lt;/b&gt;" in email.html and "<b>S1</b>" not in email.html
    assert email.recipient == "E3" and email.address == "e3@x.cn" and email.kind == "提醒汇总"
    assert len({m.key for m in msgs}) == 2


@pytest.mark.req("ESC-5")
def test_messages_planned_in_quiet_hours_wait_for_morning_unless_urgent():
    inp = inputs(datetime(2026, 10, 9, 22, tzinfo=TZ), [step()])
    [m] = [m for m in run_plan(inp).messages if m.channel == "邮件"]
    assert m.not_before == datetime(2026, 10, 10, 8, tzinfo=TZ)


@pytest.mark.req("ESC-4")
def test_an_absurd_date_is_reported_and_everyone_else_still_reminded():
    now = datetime(2026, 10, 9, 16, tzinfo=TZ)
    far = rec("action_items", Id=3, code="AI-9999", title="远期", owner="E3", due_date="9999-12-31", status="进行中")
    p = run_plan(inputs(now, [step()], action_items=[far]))
    assert owed(p) == [("E3", 1)]
    assert [(i.table, i.row_id) for i in p.issues] == [("待办事项", 3)]


@pytest.mark.req("APR-4")
def test_post_hoc_chasing_stops_for_rejected_or_withdrawn_requests():
    now = datetime(2026, 10, 20, 10, tzinfo=TZ)
    reqs = [rec("approval_requests", Id=i, code=f"AP-{i}", kind="紧急采购", title="应急", applicant="E3",
                status=status, emergency=True, decided_at="2026-10-09T10:00:00+08:00")
            for i, status in enumerate(["已通过", "已驳回", "已撤回", "草稿"], 1)]
    p = run_plan(inputs(now, approval_requests=reqs))
    assert {k.split(":")[1] for m in p.messages for k in m.items} == {"1"}


@pytest.mark.req("RPT-2")
def test_a_postponed_meeting_moves_its_minutes_deadline():
    now = datetime(2026, 11, 5, 10, tzinfo=TZ)
    m = rec("meetings", Id=5, code="MT-1", title="启动会", held_at="2026-11-10T10:00:00+08:00", recorder="E3",
            minutes_due_at="2026-11-04T10:00:00+08:00")  # written when it was planned for 11-03
    p = run_plan(inputs(now, meetings=[m]))
    assert p.messages == []
    assert p.row_updates["meetings"][5]["minutes_due_at"] == datetime(2026, 11, 11, 10, tzinfo=TZ)


@pytest.mark.req("REL-2")
def test_an_ambiguous_employee_code_is_reported_and_nobody_is_messaged_under_it():
    emps = [
        rec("employees", Id=1, code="E1", name="总经理", department="D01", roles="总经理", email="e1@x.cn", active=True),
        rec("employees", Id=2, code="E2", name="主管", department="D01", manager="E1", email="e2@x.cn", active=True),
        rec("employees", Id=3, code="E3", name="员工", manager="E2", email="e3@x.cn", active=True),
        rec("employees", Id=9, code="E3", name="同号", manager="E2", email="other@x.cn", active=True),
    ]
    inp = inputs(datetime(2026, 10, 9, 16, tzinfo=TZ), [step()], emps=emps)
    inp.base.org = build_org(emps, [], None, ambiguous={"E3"})
    p = run_plan(inp)
    assert p.messages == []
    assert any(i.row_id == 7 and "多行" in i.reason for i in p.issues)
