"""The pure half of the escalation job: rows → open items → notices → outbox rows."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.jobs.escalations import SOURCES, Inputs, build_org, open_item, plan
from actops.outbox import notice_from_json, notice_to_json, outbox_rows
from actops.records import model_for
from actops.rules.escalation import Policy
from actops.rules.workdays import TZ, WorkCalendar, prc_calendar_rows
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
    return Inputs(now=now, policy=Policy(), cal=CAL, org=build_org(emps, depts, None), warnings=[],
                  open_rows=open_rows, issues=[], activities={}, request_titles={"AP-1": "采购 展台"},
                  reports_all=[], employees=emps, specs=specs)


def step(**kw):
    base = {"Id": 7, "code": "AP-1-S1", "request": "AP-1", "seq": 1, "role": "主管", "assignee": "E3", "status": "待审批",
                "opened_at": "2026-09-30T15:00:00+08:00"}
    return rec("approval_steps", **{**base, **kw})


@pytest.mark.req("APR-5")
def test_a_deputy_gets_the_reminder_for_a_delegated_step():
    inp = inputs(datetime(2026, 10, 9, 16, tzinfo=TZ), [step(delegate="E4")])
    item, _ = open_item(SOURCES[0], inp.open_rows["approval_steps"][0], inp)
    assert item.assignee == "E4"
    p = plan(inp)
    assert [(n.recipient, n.rung) for n in p.notices] == [("E4", 1)]


@pytest.mark.req("ESC-1", "ESC-3")
def test_due_time_is_computed_in_workdays_and_written_back_once():
    p = plan(inputs(datetime(2026, 10, 8, 10, tzinfo=TZ), [step()]))
    assert p.notices == []
    assert p.row_updates["approval_steps"][7]["due_at"] == datetime(2026, 10, 9, 15, tzinfo=TZ)
    stored = step(due_at="2026-10-09T15:00:00+08:00", escalation_level=0,
                  next_escalation_at="2026-10-09T15:00:00+08:00")
    p = plan(inputs(datetime(2026, 10, 8, 10, tzinfo=TZ), [stored]))
    assert "approval_steps" not in p.row_updates  # nothing changed: nothing to write


@pytest.mark.req("ESC-2")
def test_only_rungs_above_the_stored_level_are_new():
    now = datetime(2026, 10, 10, 16, tzinfo=TZ)  # rung 2 (Sat 10-10 is a make-up workday)
    p = plan(inputs(now, [step(escalation_level=1)]))
    assert [(n.recipient, n.rung) for n in p.notices] == [("E3", 1), ("E2", 2)]
    assert [(n.recipient, n.rung) for n in p.new_notices] == [("E2", 2)]


@pytest.mark.req("ESC-5", "SEC-3")
def test_outbox_rows_one_per_channel_and_notices_survive_the_round_trip():
    inp = inputs(datetime(2026, 10, 9, 16, tzinfo=TZ), [step(code="<b>S1</b>")])
    p = plan(inp)
    rows = outbox_rows(p.new_notices, inp.org, "run-1", inp.now, Policy())
    assert sorted(r["channel"] for r in rows) == ["email", "wecom"]
    assert {r["dedupe_key"] for r in rows} == {"approval_steps:7:r1:E3:email", "approval_steps:7:r1:E3:wecom"}
    back = notice_from_json(rows[0]["body"])
    assert back == p.new_notices[0] and back.item.code == "<b>S1</b>"
    assert notice_to_json(back) == rows[0]["body"]


@pytest.mark.req("ESC-5")
def test_outbox_rows_made_in_quiet_hours_wait_for_morning_unless_urgent():
    inp = inputs(datetime(2026, 10, 9, 22, tzinfo=TZ), [step()])
    p = plan(inp)
    [row] = [r for r in outbox_rows(p.new_notices, inp.org, "r", inp.now, Policy()) if r["channel"] == "email"]
    assert row["not_before"] == datetime(2026, 10, 10, 8, tzinfo=TZ)


@pytest.mark.req("ESC-4")
def test_an_absurd_date_is_reported_and_everyone_else_still_reminded():
    now = datetime(2026, 10, 9, 16, tzinfo=TZ)
    far = rec("action_items", Id=3, code="AI-9999", title="远期", owner="E3", due_date="9999-12-31", status="进行中")
    p = plan(inputs(now, [step()], action_items=[far]))
    assert [(n.item.code, n.recipient) for n in p.notices] == [("AP-1-S1", "E3")]
    assert [(i.table, i.row_id) for i in p.issues] == [("待办事项", 3)]


@pytest.mark.req("APR-4")
def test_post_hoc_chasing_stops_for_rejected_or_withdrawn_requests():
    now = datetime(2026, 10, 20, 10, tzinfo=TZ)
    reqs = [rec("approval_requests", Id=i, code=f"AP-{i}", kind="紧急采购", title="应急", applicant="E3",
                status=status, emergency=True, decided_at="2026-10-09T10:00:00+08:00")
            for i, status in enumerate(["已通过", "已驳回", "已撤回", "草稿"], 1)]
    p = plan(inputs(now, approval_requests=reqs))
    assert {n.item.code for n in p.notices} == {"AP-1"}


@pytest.mark.req("RPT-2")
def test_a_postponed_meeting_moves_its_minutes_deadline():
    now = datetime(2026, 11, 5, 10, tzinfo=TZ)
    m = rec("meetings", Id=5, code="MT-1", title="启动会", held_at="2026-11-10T10:00:00+08:00", recorder="E3",
            minutes_due_at="2026-11-04T10:00:00+08:00")  # written when it was planned for 11-03
    p = plan(inputs(now, meetings=[m]))
    assert p.notices == []
    assert p.row_updates["meetings"][5]["minutes_due_at"] == datetime(2026, 11, 11, 10, tzinfo=TZ)
