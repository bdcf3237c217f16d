"""The watch job on a real NocoDB, mails to a real SMTP server: a budget line filled from
approved expenses and alerted once per threshold, the variance at closing, a risk warned
once per crossing with one history row per change, bad rows noted, reruns silent."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from actops.jobs.watch import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.messaging.channels import EmailChannel

TABLES = {"budget_lines", "expenses", "activities", "activity_types", "customers", "approval_requests", "risks",
          "risk_history", "employees", "departments", "settings", "calendar", "run_log", "outbox"}
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TZ)  # a Monday, outside the quiet hours


@pytest.fixture(scope="module")
def store(make_store):
    s = make_store(TABLES, suffix="watch-")
    tag = uuid.uuid4().hex[:6]
    s.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"}])
    s.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理"], "email": f"gm-{tag}@corp.test"},
        {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "email": f"dir-{tag}@corp.test"},
        {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E02", "email": f"staff-{tag}@corp.test"},
        {"code": "E05", "name": "孙财务", "department": "D01", "manager": "E01", "roles": ["财务"],
         "email": f"fin-{tag}@corp.test"},
    ])
    s.table("activities").create([
        {"code": "ACT-1", "name": "春季促销", "type": "市场推广", "stage": "执行", "department": "D02", "owner": "E04",
         "start_date": "2026-11-01", "end_date": "2026-11-30", "budget": 15000}])
    s.table("budget_lines").create([{"code": "BL-1", "activity": "ACT-1", "category": "场地", "amount": 10000},
                                    {"code": "BL-2", "activity": "ACT-1", "category": "策划", "amount": 5000}])
    s.tag = tag
    return s


def run(store, smtp, now):
    ch = {"邮件": EmailChannel(host="127.0.0.1", port=smtp.port, sender="actops@corp.test")}
    return runner.run(JOB, store, now, channels=ch)


def by_code(store, table):
    return {r["code"]: r for r in store.table(table).rows()}


def expense(store, code, amount, status="已批准", activity="ACT-1", category="场地"):
    store.table("expenses").create([{"code": code, "activity": activity, "category": category, "amount": amount,
                                     "spent_on": "2026-11-10", "employee": "E04", "status": status}])


def mails(smtp, since):
    return sorted((m["to"][0].split("-")[0], m["subject"]) for m in smtp.messages[since:])


@pytest.mark.req("FIN-1", "FIN-2", "FIN-3", "REL-2")
def test_budget_lines_follow_approved_expenses_and_alert_once_per_threshold(store, smtp):
    smtp.clear()
    expense(store, "EXP-1", 6000)
    expense(store, "EXP-2", 2500.5, "已支付")
    expense(store, "EXP-3", 4000, "待审批")
    expense(store, "EXP-4", 700, activity="ACT-404")  # reported and skipped
    first = run(store, smtp, NOON)
    lines = by_code(store, "budget_lines")
    assert (lines["BL-1"]["spent"], lines["BL-1"]["warn_level"], lines["BL-1"]["used_pct"]) == (8500.5, "预警", 85)
    assert (lines["BL-2"]["spent"], lines["BL-2"]["warn_level"]) == (0, "正常")
    assert mails(smtp, 0) == [("fin", "【预算预警】春季促销 场地 已用 85.0%"), ("staff", "【预算预警】春季促销 场地 已用 85.0%")]
    assert "ACT-404 不存在" in by_code(store, "expenses")["EXP-4"]["data_issue"]
    assert first.plan.stats["skipped_rows"] == 1

    again = run(store, smtp, NOON + timedelta(minutes=5))
    assert again.enqueued == 0 and len(smtp.messages) == 2

    exp3 = by_code(store, "expenses")["EXP-3"]
    store.table("expenses").update([{"Id": exp3["Id"], "status": "已批准"}])  # 12,500.50: over
    run(store, smtp, NOON + timedelta(minutes=10))
    assert mails(smtp, 2) == [("fin", "【预算超支】春季促销 场地 已用 125.0%"), ("staff", "【预算超支】春季促销 场地 已用 125.0%")]
    store.table("expenses").update([{"Id": exp3["Id"], "status": "已驳回"}])  # corrected, then over again
    run(store, smtp, NOON + timedelta(minutes=15))
    store.table("expenses").update([{"Id": exp3["Id"], "status": "已批准"}])
    run(store, smtp, NOON + timedelta(minutes=20))
    assert len(smtp.messages) == 4 and by_code(store, "budget_lines")["BL-1"]["warn_level"] == "超支"

    act = by_code(store, "activities")["ACT-1"]
    store.table("activities").update([{"Id": act["Id"], "stage": "结项验收"}])
    run(store, smtp, NOON + timedelta(minutes=25))
    assert by_code(store, "activities")["ACT-1"]["variance"].splitlines() == [
        "策划：预算 5,000.00 元，实际 0.00 元，差异 -5,000.00 元（-100.0%）",
        "场地：预算 10,000.00 元，实际 12,500.50 元，差异 +2,500.50 元（+25.0%）",
        "合计：预算 15,000.00 元，实际 12,500.50 元，差异 -2,499.50 元（-16.7%）",
    ]


@pytest.mark.req("RSK-1", "RSK-2", "REL-2")
def test_a_risk_crossing_warns_owner_and_manager_once_and_each_change_is_kept(store, smtp):
    smtp.clear()
    store.table("risks").create([
        {"code": "ACT-1-R1", "activity": "ACT-1", "category": "安全", "description": "舞台搭建高空作业",
         "likelihood": 2, "impact": 4, "owner": "E04"},
        {"code": "ACT-1-R2", "activity": "ACT-1", "category": "法律", "likelihood": 9, "impact": 1, "owner": "E04"}])
    t = NOON + timedelta(hours=1)
    run(store, smtp, t)
    assert not smtp.messages
    assert "可能性应为 1–5" in by_code(store, "risks")["ACT-1-R2"]["data_issue"]
    r1 = by_code(store, "risks")["ACT-1-R1"]
    for n, (lk, im) in enumerate(((3, 4), (3, 4), (2, 2), (5, 4)), 1):
        store.table("risks").update([{"Id": r1["Id"], "likelihood": lk, "impact": im}])
        run(store, smtp, t + timedelta(minutes=n))
    run(store, smtp, t + timedelta(minutes=9))  # a rerun: nothing
    assert mails(smtp, 0) == [("dir", "【风险预警】春季促销 安全风险 风险值 12（高）"),
                              ("dir", "【风险预警】春季促销 安全风险 风险值 20（极高）"),
                              ("staff", "【风险预警】春季促销 安全风险 风险值 12（高）"),
                              ("staff", "【风险预警】春季促销 安全风险 风险值 20（极高）")]
    hist = by_code(store, "risk_history")
    assert [(c, h["score"]) for c, h in sorted(hist.items())] == [
        ("ACT-1-R1-H1", 8), ("ACT-1-R1-H2", 12), ("ACT-1-R1-H3", 4), ("ACT-1-R1-H4", 20)]
    assert all(h["risk"] == "ACT-1-R1" and h["at"] for h in hist.values())
    assert by_code(store, "risks")["ACT-1-R1"]["warned_score"] == 20
