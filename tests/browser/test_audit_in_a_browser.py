"""The auditor in NocoDB, in headless Chromium: a quarter's draw on a real NocoDB, and the sample
of a claim whose row has a problem (科目 left blank, which NocoDB accepts) opened as its record:
its 检查记录 says the pre-check could not be made and what to do, and the claim's own row says
what is wrong with it. Screenshots in tests/artifacts/screenshots/<test>/."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from actops.jobs.audit import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.nocodb import F
from tests.browser import harness

TABLES = {"settings", "calendar", "departments", "employees", "activity_types", "customers", "activities",
          "approval_routes", "approval_requests", "approval_steps", "expenses", "documents", "budget_lines",
          "plans", "plan_tasks", "audit_cycles", "audit_samples", "audit_findings", "outbox", "run_log"}
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=TZ)


@pytest.mark.req("AUD-1", "AUD-5")
def test_the_auditor_opens_a_sample_whose_pre_check_could_not_be_made(page, make_store, api, nocodb, shot):
    store = make_store(TABLES, suffix="audit-")
    store.table("departments").create([{"code": "D01", "name": "市场部"}])
    store.table("employees").create([{"code": "E01", "name": "钱总", "department": "D01", "roles": "总经理",
                                      "email": "e01@example.com"}])
    store.table("activities").create([
        {"code": f"ACT-{i}", "name": f"活动{i}", "type": "市场推广", "stage": "执行", "department": "D01",
         "owner": "E01", "start_date": date(2026, 7, 1), "end_date": date(2026, 9, 30)} for i in range(3)])
    store.table("expenses").create([
        {"code": f"EXP-{i:02d}", "activity": f"ACT-{i % 3}", "category": "物资", "amount": 300 + 50 * i,
         "spent_on": date(2026, 7, 2) + timedelta(days=i), "employee": "E01", "status": "已支付"} for i in range(20)])
    t = store.table("expenses")  # raw, as a grid saves it: no 科目
    t.table.create([{t.title("code"): "EXP-BAD", t.title("activity"): "ACT-1", t.title("amount"): 250000,
                     t.title("spent_on"): "2026-07-15", t.title("employee"): "E01", t.title("status"): "已支付"}])
    store.table("audit_cycles").create([{"code": "2026-Q3", "period_start": date(2026, 7, 1),
                                         "period_end": date(2026, 9, 30)}])
    result = runner.run(JOB, store, NOW)
    assert result.plan.stats["cycles_drawn"] == 1, result.plan.stats

    samples = store.table("audit_samples")
    [sample] = samples.rows(samples.where(F("code") == "2026-Q3-E-EXP-BAD"))
    [claim] = t.rows(t.where(F("code") == "EXP-BAD"))
    title = f"{store.prefix}活动运营"
    base = api.base_by_title(title)
    workspace = next(b["fk_workspace_id"] for b in api.bases() if b["id"] == base.id)

    harness.open_record(page, nocodb[0], workspace, base.id, samples.table.id, sample["Id"])
    harness.expect_record_field(page, "样本编号", "2026-Q3-E-EXP-BAD")
    harness.expect_record_field(page, "入样原因", "大额事项")
    harness.expect_record_field(page, "检查记录", re.compile(r"☐ 待审计员判断｜系统未能预检：该事项在「费用报销」中的行有数据问题"))
    harness.record_field(page, "检查记录").scroll_into_view_if_needed()
    shot(page, "审计样本-未能预检")

    harness.open_record(page, nocodb[0], workspace, base.id, t.table.id, claim["Id"])
    harness.expect_record_field(page, "数据问题", re.compile(r"科目"))
    harness.record_field(page, "数据问题").scroll_into_view_if_needed()
    shot(page, "费用报销-数据问题")
