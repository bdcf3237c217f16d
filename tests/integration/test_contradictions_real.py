"""Contradictions and undeliverable mail on the real stack: reported on the rows, never
resolved last-one-wins, and a refused mailbox is not retried (REL-1, REL-2)."""

from __future__ import annotations

import pytest

from actops.checks import check_all
from actops.jobs import escalations
from tests.integration.test_escalations import TABLES, at, channels, company, step


def raw_create(bound, rows: list[dict]) -> list[int]:
    """Insert as a person typing in the grid would: no validation on the way in."""
    return bound.table.create([{bound.title(k): v for k, v in r.items()} for r in rows])


def notes(store, table: str) -> dict[int, str]:
    return {r["Id"]: r.get("data_issue") or "" for r in store.table(table).rows(fields=["data_issue"])}


@pytest.mark.req("REL-2", "ORG-2", "ESC-3")
def test_each_contradiction_is_reported_on_every_row_involved(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="contra-")
    company(store)
    emps, reqs, cal = store.table("employees"), store.table("approval_requests"), store.table("calendar")
    twin = emps.create([{"code": "E4", "name": "同号", "department": "D01", "manager": "E3",
                         "email": "twin@corp.test", "active": True}])[0]
    raw_create(reqs, [
        {"code": "AP-D", "kind": "采购", "title": "甲", "applicant": "E3", "status": "审批中"},
        {"code": "AP-D", "kind": "采购", "title": "乙", "applicant": "E3", "status": "审批中"},
        {"code": "AP-NEG", "kind": "采购", "title": "负数", "applicant": "E3", "status": "审批中", "amount": -50000},
        {"code": "AP-HUGE", "kind": "采购", "title": "天文数字", "applicant": "E3", "status": "审批中", "amount": 1e18},
    ])
    wed = next(r for r in cal.rows(fields=["date"]) if r["date"] == "2026-11-04")
    holiday = cal.create([{"date": "2026-11-04", "is_workday": False, "kind": "法定节假日"}])[0]
    settings = store.table("settings")
    gm = next(r for r in settings.rows(fields=["key"]) if r["key"] == "general_manager")
    settings.update([{"Id": gm["Id"], "value": "E999"}])
    raw_create(store.table("action_items"), [{"code": "AI-FAR", "title": "远期", "owner": "E3",
                                         "due_date": "9999-12-31", "status": "进行中"}])
    store.table("approval_steps").create([step("S-E4", "E4", at("2026-11-02T09:00"), request="AP-1")])
    smtp.clear()
    r = escalations.run(store, at("2026-11-05T10:00"), channels=channels(smtp, wecom))

    e = notes(store, "employees")
    e4 = next(x["Id"] for x in emps.rows(fields=["code"]) if x["code"] == "E4" and x["Id"] != twin)
    assert "重复" in e[e4] and "重复" in e[twin]
    q = {x["code"]: x["Id"] for x in reqs.rows(fields=["code"]) if x["code"] != "AP-D"}
    rq = notes(store, "approval_requests")
    assert sum("重复" in v for v in rq.values()) == 2
    assert "金额" in rq[q["AP-NEG"]] and "金额" in rq[q["AP-HUGE"]]
    c = notes(store, "calendar")
    assert c[wed["Id"]] and c[holiday]
    assert "E999" in notes(store, "settings")[gm["Id"]]
    assert "9999" in next(iter(notes(store, "action_items").values()))
    # Nobody is mailed under the ambiguous 工号, and the step says why.
    assert not smtp.to("e4@corp.test") and not smtp.to("twin@corp.test")
    assert "多行" in next(iter(notes(store, "approval_steps").values()))
    log = store.table("run_log").rows()[-1]
    assert log["status"] == "部分成功" and "E999" in log["issues"] and "重复" in log["issues"]
    assert any("工作日历" in w for w in r.plan.warnings)
    # `actops check` runs the same rules and finds the same contradictions.
    found = check_all(store, mark=False, tables=["settings", "calendar", "employees", "approval_requests"])
    assert {i.row_id for i in found} >= {e4, twin, wed["Id"], holiday, gm["Id"], q["AP-NEG"], q["AP-HUGE"]}


@pytest.mark.req("REL-1", "ESC-2")
def test_a_refused_mailbox_fails_at_once_and_is_not_retried(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="refuse-")
    company(store, extra_people=[{"code": "E5", "name": "已注销", "department": "D01", "manager": "E3",
                                  "email": "gone@corp.test"}])
    store.table("approval_requests").create([{"code": "AP-R", "kind": "采购", "title": "展架", "applicant": "E3",
                                              "status": "审批中"}])
    store.table("approval_steps").create([step("S-GONE", "E5", at("2026-11-03T09:00"), request="AP-R"),
                                          step("S-OK", "E3", at("2026-11-03T09:00"), request="AP-R")])
    smtp.clear()
    smtp.refuse.add("gone@corp.test")
    try:
        r = escalations.run(store, at("2026-11-05T10:00"), channels=channels(smtp, wecom))
        again = escalations.run(store, at("2026-11-05T11:00"), channels=channels(smtp, wecom))
    finally:
        smtp.refuse.clear()
    rows = {x["recipient"]: x for x in store.table("outbox").rows()}
    assert rows["E5"]["status"] == "失败" and rows["E5"]["attempts"] == 1 and "拒收" in rows["E5"]["last_error"]
    assert rows["E3"]["status"] == "已发送" and [m["to"] for m in smtp.messages] == [["e3@corp.test"]]
    assert len(r.sent.failures) == 1 and again.sent.failures == []  # not tried again
