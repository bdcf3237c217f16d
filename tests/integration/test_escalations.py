"""Escalations end to end on real NocoDB, a real SMTP server and a WeCom receiver."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.jobs import escalations
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.messaging.channels import EmailChannel, WeComChannel

TABLES = {"settings", "calendar", "departments", "employees", "activities", "approval_requests",
          "approval_steps", "reports", "meetings", "action_items", "stage_gates", "problems",
          "eval_cycles", "evaluations", "audit_findings", "outbox", "run_log"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def company(store, *, extra_people=()):
    store.table("calendar").create_missing(prc_calendar_rows([2026]))
    store.table("departments").create([{"code": "D01", "name": "市场部", "head": "E2"}])
    people = [
        {"code": "E1", "name": "总经理", "department": "D01", "roles": "总经理", "email": "e1@corp.test"},
        {"code": "E2", "name": "部门负责人", "department": "D01", "manager": "E1", "roles": "部门负责人", "email": "e2@corp.test"},
        {"code": "E3", "name": "主管", "department": "D01", "manager": "E2", "roles": "主管", "email": "e3@corp.test"},
        {"code": "E4", "name": "员工甲", "department": "D01", "manager": "E3", "roles": "员工", "email": "e4@corp.test",
         "wecom_id": "zhangsan", "channel": "邮件和企业微信"},
        *extra_people,
    ]
    store.table("employees").create([{**p, "active": True} for p in people])


def step(code, assignee, opened, request="AP-1", **kw):
    return {"code": code, "request": request, "seq": 1, "role": "主管", "assignee": assignee,
            "status": "待审批", "opened_at": opened, **kw}


def channels(smtp, wecom, smtp_port=None):
    return {"邮件": EmailChannel(host="127.0.0.1", port=smtp_port or smtp.port, sender="actops@corp.test"),
            "企业微信": WeComChannel(wecom.url)}


@pytest.mark.req("ESC-1", "ESC-2", "ESC-3", "ORG-2")
def test_ladder_across_national_day_each_rung_once(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="ladder-")
    company(store)
    store.table("approval_requests").create([{"code": "AP-1", "kind": "采购", "title": "展台搭建采购", "applicant": "E4", "status": "审批中"}])
    store.table("approval_steps").create([step("AP-1-S1", "E4", at("2026-09-30T15:00"))])
    ch = channels(smtp, wecom)
    smtp.clear()

    def run(when):
        before = len(smtp.messages)
        escalations.run(store, at(when), channels=ch)
        return [m["to"][0] for m in smtp.messages[before:]]

    assert run("2026-10-08T10:00") == []  # holiday week does not count: due Fri 10-09 15:00
    row = store.table("approval_steps").rows()[0]
    assert row["due_at"].startswith("2026-10-09 07:00:00")  # 15:00 in Shanghai, stored as UTC
    assert run("2026-10-09T16:00") == ["e4@corp.test"]  # rung 1: reminder to the assignee
    assert run("2026-10-09T17:00") == []  # rerun: nothing twice
    assert run("2026-10-10T16:00") == ["e3@corp.test"]  # Sat 10-10 is a 调休 workday: manager
    assert run("2026-10-11T16:00") == []  # Sunday: ladder waits
    assert run("2026-10-12T16:00") == ["e1@corp.test"]  # general manager
    assert run("2026-10-13T16:00") == []
    row = store.table("approval_steps").rows()[0]
    assert row["escalation_level"] == 3
    sent = store.table("outbox").rows()
    assert len(sent) == 4 and {r["status"] for r in sent} == {"已发送"}  # e-mail ×3 + WeCom ×1 for E4
    assert len({r["dedupe_key"] for r in sent}) == 4
    logs = store.table("run_log").rows()
    assert len(logs) == 7 and all(r["status"] in ("成功", "部分成功") for r in logs)


@pytest.mark.req("ESC-5", "RPT-2", "RPT-3", "SEC-3")
def test_one_digest_per_person_escaped_markup_on_both_channels(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="digest-")
    company(store)
    store.table("approval_requests").create([{"code": "AP-9", "kind": "费用", "title": "<script>alert(1)</script>**加粗**[链接](http://x)", "applicant": "E4", "status": "审批中"}])
    store.table("approval_steps").create([step("AP-9-S1", "E4", at("2026-11-02T09:00"), request="AP-9")])
    store.table("action_items").create([{"code": "AI-1", "title": "<b>提交</b>展会物料清单", "owner": "E4", "due_date": "2026-11-05", "status": "进行中"}])
    store.table("meetings").create([{"code": "MT-1", "title": "启动会", "held_at": at("2026-11-03T10:00"), "recorder": "E4"}])
    smtp.clear()
    wecom.received.clear()
    escalations.run(store, at("2026-11-09T10:00"), channels=channels(smtp, wecom))
    mails = smtp.to("e4@corp.test")
    assert len(mails) == 1  # three items, one digest
    html = mails[0]["html"]
    assert "&lt;script&gt;" in html and "<script>" not in html and "&lt;b&gt;提交" in html
    assert "AP-9-S1" in html and "AI-1" in html and "MT-1" in html
    assert len(wecom.received) == 1
    md = wecom.received[0]["json"]["markdown"]["content"]
    assert "\\*\\*加粗\\*\\*" in md and "<script>" not in md and "<@zhangsan>" in md
    # The manager hears of E4's items only at rung 2: once, in one digest.
    assert len(smtp.to("e3@corp.test")) == 1


@pytest.mark.req("ESC-2", "SEC-4")
def test_smtp_down_keeps_rows_pending_then_sends_each_once(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="smtpdown-")
    company(store)
    store.table("approval_requests").create([{"code": "AP-2", "kind": "采购", "title": "音响租赁", "applicant": "E3", "status": "审批中"}])
    store.table("approval_steps").create([step("AP-2-S1", "E3", at("2026-11-02T09:00"), request="AP-2")])
    smtp.clear()
    down = {"邮件": EmailChannel(host="127.0.0.1", port=1, sender="actops@corp.test")}
    r = escalations.run(store, at("2026-11-05T10:00"), channels=down)
    assert r.sent.failures and not smtp.messages
    rows = store.table("outbox").rows()
    assert {r["status"] for r in rows} == {"待发送"}
    # The first failure names the server; the rest on that channel were not tried this run.
    assert all(r["last_error"] for r in rows) and sorted(r["attempts"] for r in rows) == [0, 1]
    assert "无法连接 SMTP 服务器" in r.sent.failures[0][2]
    assert "失败" in store.table("run_log").rows()[-1]["issues"]

    up = channels(smtp, wecom)
    escalations.run(store, at("2026-11-05T10:30"), channels=up)
    escalations.run(store, at("2026-11-05T11:00"), channels=up)
    # Due Wed 11-04 09:00, so by Thu 10:00 both the reminder and the manager rung are owed.
    assert sorted(m["to"][0] for m in smtp.messages) == ["e2@corp.test", "e3@corp.test"]
    assert {r["status"] for r in store.table("outbox").rows()} == {"已发送"}


@pytest.mark.req("ESC-1", "ESC-4")
def test_bad_rows_are_reported_on_the_row_and_the_rest_is_sent(make_store, smtp, wecom, nocodb_db):
    from actops.errors import RequestError

    store = make_store(TABLES, suffix="bad-")
    company(store, extra_people=[{"code": "E9", "name": "无地址", "department": "D01", "manager": "E3"}])
    store.table("approval_requests").create([{"code": "AP-3", "kind": "采购", "title": "场地", "applicant": "E3", "status": "审批中"}])
    steps = store.table("approval_steps")
    steps.create([
        step("S-OK", "E4", at("2026-11-02T09:00"), request="AP-3"),
        step("S-NOBODY", None, at("2026-11-02T09:00"), request="AP-3"),
        step("S-NOADDR", "E9", at("2026-11-02T09:00"), request="AP-3"),
    ])
    # A garbage due date typed in the grid: NocoDB on SQLite keeps it (as "Invalid Date"); on
    # PostgreSQL the column is a timestamp and NocoDB refuses it, so no such row can exist there.
    try:
        steps.table.create([{steps.title("code"): "S-GARBAGE", steps.title("request"): "AP-3", steps.title("seq"): 1,
                             steps.title("role"): "主管", steps.title("assignee"): "E4", steps.title("status"): "待审批",
                             steps.title("due_at"): "garbage"}], key=steps.title("code"))
        garbage = True
    except RequestError as exc:
        assert "date / time value is invalid" in str(exc), exc
        garbage = False
    if nocodb_db is not None:
        assert garbage == (nocodb_db == "sqlite")
    smtp.clear()
    r = escalations.run(store, at("2026-11-05T10:00"), channels=channels(smtp, wecom))
    where = {(i.row_id, i.field) for i in r.plan.issues}
    ids = {row["code"]: row["Id"] for row in steps.rows(fields=["code"])}
    assert (ids["S-NOBODY"], "审批人") in where
    assert (ids["S-NOADDR"], "审批人") in where
    assert not garbage or (ids["S-GARBAGE"], "截止时间") in where
    assert r.status == "部分成功"
    notes = {row["code"]: row.get("data_issue") for row in steps.rows(fields=["code", "data_issue"])}
    assert notes["S-NOBODY"] and notes["S-NOADDR"] and notes["S-OK"] is None
    assert not garbage or notes["S-GARBAGE"]
    # S-OK is a day past its due time: the reminder to E4 and the manager rung to E3.
    assert sorted(m["to"][0] for m in smtp.messages) == ["e3@corp.test", "e4@corp.test"]
    assert all("S-OK" in m["html"] and "S-NOBODY" not in m["html"] for m in smtp.messages)
    # A rerun changes nothing: same notes are not rewritten, nothing is sent again.
    calls_before = store.api.calls.copy()
    escalations.run(store, at("2026-11-05T10:30"), channels=channels(smtp, wecom))
    writes = (store.api.calls["PATCH"] - calls_before["PATCH"], store.api.calls["POST"] - calls_before["POST"])
    assert writes == (1, 1)  # the run log row: one insert, one update
    assert len(smtp.messages) == 2


@pytest.mark.req("ESC-5", "APR-4")
def test_quiet_hours_hold_non_urgent_and_let_urgent_through(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="quiet-")
    company(store)
    store.table("approval_requests").create([
        {"code": "AP-5", "kind": "采购", "title": "普通", "applicant": "E4", "status": "审批中"},
        {"code": "AP-6", "kind": "紧急采购", "title": "紧急", "applicant": "E3", "status": "已通过", "emergency": True,
         "emergency_by": "E2", "decided_at": at("2026-11-04T09:00")},  # post-hoc due Mon 11-09 09:00
    ])
    store.table("approval_steps").create([step("AP-5-S1", "E4", at("2026-11-05T09:00"), request="AP-5")])
    smtp.clear()
    escalations.run(store, at("2026-11-09T22:00"), channels=channels(smtp, wecom))
    assert [m["to"] for m in smtp.messages] == [["e3@corp.test"]]  # post-hoc approval is urgent
    escalations.run(store, at("2026-11-10T08:30"), channels=channels(smtp, wecom))
    assert [m["to"] for m in smtp.messages[1:]] == [["e4@corp.test"]]  # held one, sent at 08:30


@pytest.mark.req("RPT-1", "EVA-6")
def test_late_reports_flag_rows_and_streak_reaches_evaluation(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="late-")
    company(store)
    from datetime import date, timedelta

    reports = [
        {"code": f"R{w}", "employee": "E4", "kind": "周报", "period_start": start.isoformat(),
         "submitted_at": datetime.combine(start + timedelta(days=8), datetime.min.time(), TZ).replace(hour=10),
         "late_reason": "展会出差" if w == 1 else None}
        # weeks of 10-12, 10-19, 10-26: each due the next Monday 18:00, submitted on Tuesday
        for w, start in enumerate((date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)), 1)
    ]
    store.table("reports").create(reports)
    r = escalations.run(store, at("2026-11-06T10:00"), channels=channels(smtp, wecom))
    rows = {x["code"]: x for x in store.table("reports").rows()}
    assert rows["R1"]["late"] and not rows["R1"].get("flag")  # late with a reason
    assert rows["R2"]["late"] and rows["R2"]["flag"] == "逾期未说明原因"
    emp = {e["code"]: e for e in store.table("employees").rows()}
    assert emp["E4"]["late_streak"] == 3
    # The evaluation note itself lives only in the HR base (考评表.提示, EVA-7), not in 员工.
    assert "eval_flags" not in emp["E4"] and "考评提示" not in {c["title"] for c in store.table("employees").table.columns()}
    assert r.status in ("成功", "部分成功")


@pytest.mark.req("ESC-2", "SEC-4")
def test_a_run_killed_half_way_then_rerun_ends_as_one_clean_run(make_store, smtp, wecom, monkeypatch):
    store = make_store(TABLES, suffix="crash-")
    company(store)
    store.table("approval_requests").create([{"code": "AP-7", "kind": "采购", "title": "灯光", "applicant": "E3", "status": "审批中"}])
    store.table("approval_steps").create([step("AP-7-S1", "E4", at("2026-11-02T09:00"), request="AP-7")])
    steps = store.table("approval_steps")
    real_update = steps.update

    def crash(rows):
        raise RuntimeError("killed after the outbox insert, before the ladder fields")

    monkeypatch.setattr(steps, "update", crash)
    smtp.clear()
    with pytest.raises(RuntimeError):
        escalations.run(store, at("2026-11-05T10:00"), channels=channels(smtp, wecom))
    assert smtp.messages == [] and len(store.table("outbox").rows()) == 3  # enqueued, not sent
    assert store.table("run_log").rows()[-1]["status"] == "失败"

    monkeypatch.setattr(steps, "update", real_update)
    escalations.run(store, at("2026-11-05T10:05"), channels=channels(smtp, wecom))
    escalations.run(store, at("2026-11-05T10:10"), channels=channels(smtp, wecom))
    outbox = store.table("outbox").rows()
    assert len(outbox) == 3 and {r["status"] for r in outbox} == {"已发送"}  # e-mail+WeCom to E4, e-mail to E3
    assert sorted(m["to"][0] for m in smtp.messages) == ["e3@corp.test", "e4@corp.test"]
    assert steps.rows()[0]["escalation_level"] == 2


@pytest.mark.req("ESC-2")
def test_an_unchanged_base_costs_a_few_one_row_reads_and_wakes_on_edits_and_due_times(make_store, smtp, wecom):
    import time

    store = make_store(TABLES, suffix="idle-")
    company(store)
    store.table("approval_requests").create([{"code": "AP-8", "kind": "采购", "title": "桁架", "applicant": "E4", "status": "审批中"}])
    store.table("approval_steps").create([step("AP-8-S1", "E4", at("2026-11-02T09:00"), request="AP-8")])
    ch = channels(smtp, wecom)
    smtp.clear()

    def run(when):
        time.sleep(2.5)  # let NocoDB's UpdatedAt (whole seconds) settle past the marks
        before, calls = len(smtp.messages), store.api.calls.copy()
        r = escalations.run(store, at(when), channels=ch)
        used = {m: store.api.calls[m] - calls[m] for m in ("GET", "POST", "PATCH")}
        return r, sorted(m["to"][0] for m in smtp.messages[before:]), used

    r, sent, _ = run("2026-11-04T10:00")  # due 11-04 09:00: the reminder
    assert sent == ["e4@corp.test"]
    r, sent, _ = run("2026-11-04T10:10")  # our own ladder writes changed the marks: a full look
    assert sent == [] and r.plan.stats["open_items"] == 1
    r, sent, used = run("2026-11-04T10:20")  # nothing changed, next rung at 11-05 09:00: skip
    assert sent == [] and r.note == "idle"
    # two one-row reads per watched table, the lease, the last run's marks, the pending count
    assert used["GET"] <= 2 * len(escalations.JOB.watched) + 3 and used["POST"] == 1 and used["PATCH"] == 1
    assert "skipped" in store.table("run_log").rows()[-1]["stats"]

    store.table("approval_steps").create([step("AP-8-S2", "E3", at("2026-11-02T09:00"), request="AP-8")])
    r, sent, _ = run("2026-11-04T10:30")  # a staff edit wakes it
    assert sent == ["e3@corp.test"]
    run("2026-11-04T10:40")
    r, sent, _ = run("2026-11-04T10:50")
    assert r.note == "idle"  # asleep again
    r, sent, _ = run("2026-11-05T09:30")  # the stored wake-up time has passed: managers hear of both
    assert sent == ["e2@corp.test", "e3@corp.test"]


@pytest.mark.req("ESC-2", "ORG-2")
def test_a_mistyped_email_keeps_the_person_in_the_chain_and_notes_do_not_fight(make_store, smtp, wecom):
    from actops.checks import check_all

    store = make_store(TABLES, suffix="salvage-")
    company(store)
    emps = store.table("employees")
    e3 = next(r for r in emps.rows() if r["code"] == "E3")
    # The manager's e-mail is mistyped but his WeCom id is fine; a dangling ref on E4 for `check`.
    emps.table.update([{"Id": e3["Id"], emps.title("email"): "zhang@x", emps.title("wecom_id"): "wangzhuguan",
                        emps.title("channel"): "邮件和企业微信"}])
    store.table("approval_requests").create([{"code": "AP-4", "kind": "采购", "title": "帐篷", "applicant": "E4", "status": "审批中"}])
    store.table("approval_steps").create([step("AP-4-S1", "E4", at("2026-11-02T09:00"), request="AP-4")])
    wecom.received.clear()
    smtp.clear()
    r = escalations.run(store, at("2026-11-05T10:00"), channels=channels(smtp, wecom))
    assert any("<@wangzhuguan>" in m["json"]["markdown"]["content"] for m in wecom.received)  # rung 2 reached E3
    assert any(i.table == "员工" and i.field == "邮箱" for i in r.plan.issues)
    note = next(x for x in emps.rows() if x["code"] == "E3")["data_issue"]
    assert note.startswith("【提醒流程】") and "邮箱" in note

    check_all(store, mark=True, tables=["departments", "employees"])
    note = next(x for x in emps.rows() if x["code"] == "E3")["data_issue"]
    assert "【提醒流程】" in note and "【数据检查】" in note  # neither job erased the other's line

    # The step is approved while a reminder still waits in the outbox: it is retired, not sent.
    store.table("outbox").update([{"Id": x["Id"], "status": "待发送"} for x in store.table("outbox").rows()])
    steps = store.table("approval_steps")
    steps.update([{"Id": steps.rows()[0]["Id"], "status": "已通过"}])
    smtp.clear()
    escalations.run(store, at("2026-11-05T10:30"), channels=channels(smtp, wecom))
    assert smtp.messages == []
    assert {x["status"] for x in store.table("outbox").rows()} == {"已撤回"}
    assert all("已处理或关闭" in x["last_error"] for x in store.table("outbox").rows())


@pytest.mark.req("EVA-1", "EVA-7", "AUD-5", "ESC-4", "ESC-5")
def test_self_evaluations_in_the_hr_base_and_audit_findings_ride_the_ladder(make_store, smtp, wecom, monkeypatch):
    monkeypatch.setenv("ACTOPS_LINK_SECRET", "integration-self-eval-secret-0123456789")
    monkeypatch.setenv("ACTOPS_PUBLIC_URL", "https://actops.example.cn")
    store = make_store(TABLES, suffix="selfeval-")
    company(store)
    store.table("eval_cycles").create([
        {"code": "2026-10-自评", "kind": "月度自评", "period": "2026-10", "status": "已开启"},  # due 11-05
        {"code": "2026-Q3-考评", "kind": "季度考评", "period": "2026-Q3", "status": "已开启"}])
    store.table("evaluations").create([
        {"code": "2026-10-自评-E4", "cycle": "2026-10-自评", "employee": "E4", "supervisor": "E3", "self_score": 87.75},
        {"code": "2026-Q3-考评-E4", "cycle": "2026-Q3-考评", "employee": "E4", "supervisor": "E3"}])
    store.table("audit_findings").create([
        {"code": "2026-Q3-F01", "cycle": "2026-Q3", "severity": "高", "description": "报销缺少发票", "owner": "E4",
         "due_date": "2026-11-04", "status": "整改中"}])
    ch = channels(smtp, wecom)
    smtp.clear()
    escalations.run(store, at("2026-11-06T10:00"), channels=ch)
    [mail] = smtp.to("e4@corp.test")  # one digest: the finding and the monthly self-evaluation
    assert "2026-Q3-F01" in mail["html"] and "2026-10 月度自评 未提交" in mail["html"]
    assert "https://actops.example.cn/self/" in mail["html"] and "87.75" not in mail["html"]
    assert "2026-Q3-考评-E4" not in mail["html"]  # a quarterly row is not a self-evaluation to chase
    assert [m["to"][0] for m in smtp.messages] == ["e3@corp.test", "e4@corp.test"]  # the finding's rung 2
    escalations.run(store, at("2026-11-09T10:00"), channels=ch)
    [boss] = [m for m in smtp.to("e3@corp.test") if "2026-10-自评-E4" in m["html"]]
    assert "/self/" not in boss["html"] and "87.75" not in boss["html"] and "/dashboard/#/" in boss["html"]
    rows = {r["code"]: r for r in store.table("evaluations").rows()}
    assert rows["2026-10-自评-E4"]["escalation_level"] == 2 and rows["2026-10-自评-E4"]["notified"] == "r1:E4 r2:E3"
    assert not rows["2026-Q3-考评-E4"].get("notified")
    assert store.table("audit_findings").rows()[0]["escalation_level"] == 3
