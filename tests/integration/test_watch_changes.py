"""Cost follows change (OPS-3) for the budget and risk watch on a real NocoDB: with 100
activities, 200 budget lines, 600 expenses and 100 risks, one approved claim reads its
activity's lines and expenses alone and costs at most twice an idle run; a raised risk reads
that risk alone; a deleted expense makes a full read that lowers its line.

Measured here (2026-11-23): idle 25 calls (marks of 8 tables, lease, run log, outbox), one
claim 47, one risk 48: the snapshot (settings, calendar, employees, departments: 8), the
activities' codes (2), the changed rows and the lines, expenses or risk and its history read
by key, a write, the message's outbox row, its mark."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from actops.jobs.watch import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.messaging.channels import EmailChannel
from actops.store import Store
from tests.integration.test_watch import TABLES, by_code
from tests.serving import never_quiet

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=TZ)  # a Monday, outside the quiet hours


@pytest.mark.req("OPS-3", "FIN-1", "FIN-2", "RSK-1")
def test_one_claim_reads_its_activity_alone_and_costs_at_most_twice_an_idle_run(make_store, smtp):
    store = make_store(TABLES, suffix="watchchg-")
    never_quiet(store)
    store.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"}])
    store.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理"], "email": "gm@corp.test"},
        {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E01", "email": "staff@corp.test"},
        {"code": "E05", "name": "孙财务", "department": "D01", "manager": "E01", "roles": ["财务"],
         "email": "fin@corp.test"}])
    store.table("activities").create([
        {"code": f"ACT-{i:03d}", "name": f"活动{i}", "type": "市场推广", "stage": "执行", "department": "D02",
         "owner": "E04", "start_date": "2026-11-01", "end_date": "2026-11-30"} for i in range(100)])
    store.table("budget_lines").create([
        {"code": f"BL-{i:03d}-{c}", "activity": f"ACT-{i:03d}", "category": c, "amount": 10000}
        for i in range(100) for c in ("场地", "策划")])
    store.table("expenses").create([
        {"code": f"EXP-{n:04d}", "activity": f"ACT-{n % 100:03d}", "category": "场地", "amount": 1000,
         "spent_on": "2026-11-10", "employee": "E04", "status": "已批准" if n % 6 else "待审批"} for n in range(600)])
    store.table("risks").create([
        {"code": f"ACT-{i:03d}-R1", "activity": f"ACT-{i:03d}", "category": "安全", "description": "人流",
         "likelihood": 2, "impact": 2, "owner": "E04", "status": "监控中"} for i in range(100)])
    smtp.clear()
    clock = [T0]

    def go(params=None):
        time.sleep(2.5)  # let NocoDB's UpdatedAt (whole seconds) settle past the marks
        clock[0] += timedelta(minutes=30)
        fresh = Store(store.api, store.prefix, store.specs)  # as the CLI or a flow: meta read again
        before, sent = store.api.total_calls, len(smtp.messages)
        r = runner.run(JOB, fresh, clock[0], channels={"邮件": _email(smtp)}, params=params)
        return r, store.api.total_calls - before, smtp.messages[sent:]

    r, _, _ = go()
    assert r.plan.stats["read"] == "full" and r.plan.stats["lines_updated"] == 200
    r, _, _ = go()  # its own writes read back
    assert r.plan.stats["read"] == "changes" and not r.plan.row_updates
    r, idle, _ = go()
    assert r.note == "idle"

    claims = by_code(store, "expenses")
    store.table("expenses").update([{"Id": claims["EXP-0006"]["Id"], "status": "已批准", "amount": 4500}])
    r, one, sent = go()  # ACT-006's 场地: 4 approved × 1000 + 4500 of 10000: 预警
    s = r.plan.stats
    assert s["read"] == "changes" and s["rows_read"] == {"budget_lines": 2, "expenses": 6}, s
    assert s["budget_alerts"] == 1 and sorted(m["to"][0] for m in sent) == ["fin@corp.test", "staff@corp.test"]
    assert by_code(store, "budget_lines")["BL-006-场地"]["warn_level"] == "预警"
    assert one <= 2 * idle, (one, idle)

    go()  # its own write read back
    risk = by_code(store, "risks")["ACT-042-R1"]
    store.table("risks").update([{"Id": risk["Id"], "likelihood": 4, "impact": 3}])
    r, raised, sent = go()
    s = r.plan.stats
    assert s["rows_read"] == {"risks": 1, "risk_history": 1} and s["risk_warnings"] == 1, s
    assert raised <= 2 * idle, (raised, idle)

    go()
    store.table("expenses").table.delete([claims["EXP-0012"]["Id"]])  # ACT-012: 1000 less
    r, _, _ = go()
    assert r.plan.stats["read"] == "full" and "deleted" in r.plan.stats["read_why"]
    assert by_code(store, "budget_lines")["BL-012-场地"]["spent"] == 4000

    r, _, _ = go({"full": True})  # nothing was missed on the way
    assert r.plan.stats["read"] == "full" and not r.plan.row_updates and not r.plan.inserts and not r.plan.messages


def _email(smtp):
    return EmailChannel(host="127.0.0.1", port=smtp.port, sender="actops@corp.test")
