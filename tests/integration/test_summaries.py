"""The monthly summary on a real NocoDB and SMTP server (SUM-2): the head's mail carries its
charts inside (multipart/related, cid:), the 月度总结 row holds the HTML file NocoDB stored,
and a rerun sends nothing."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from actops.jobs.summaries import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.messaging.channels import EmailChannel

TABLES = {"summaries", "activities", "activity_types", "approval_requests", "approval_steps", "reports", "action_items",
          "kpi_results", "kpi_definitions", "budget_lines", "risks", "feedback", "customers", "employees",
          "departments", "settings", "calendar", "run_log", "outbox", "meetings", "plans", "plan_tasks"}
NOW = datetime(2026, 11, 1, 8, 0, tzinfo=TZ)


@pytest.mark.req("SUM-2", "SUM-1")
def test_the_heads_mail_has_its_charts_inside_and_the_row_its_file(make_store, nocodb, smtp):
    store = make_store(TABLES, suffix="sum-")
    store.table("departments").create([{"code": "D03", "name": "市场部"}])
    store.table("employees").create([
        {"code": "E1", "name": "王总", "department": "D03", "roles": ["总经理"], "email": "gm@corp.test"},
        {"code": "E2", "name": "张伟", "department": "D03", "manager": "E1", "email": "zw@corp.test"}])
    store.table("departments").update([{"Id": store.key_ids("departments")["D03"], "head": "E1"}])
    store.table("customers").create([{"code": "C1", "name": "华东实业", "contact_phone": "13812345678"}])
    store.table("activities").create([
        {"code": "A1", "name": "华东实业答谢会", "type": "客户交流", "stage": "结项验收", "department": "D03", "owner": "E2",
         "start_date": "2026-10-12", "end_date": "2026-10-16", "closed_at": "2026-10-22 04:00:00+00:00"},
        {"code": "A2", "name": "秋季推广", "type": "市场推广", "stage": "执行", "department": "D03", "owner": "E2",
         "start_date": "2026-10-19", "end_date": "2026-11-20"}])
    store.table("budget_lines").create([{"code": "B1", "activity": "A1", "category": "场地", "amount": 10000, "spent": 8000}])
    store.table("action_items").create([{"code": "I1", "title": "寄送礼品", "owner": "E2", "department": "D03",
                                         "due_date": "2026-10-20", "status": "进行中"}])
    smtp.clear()
    channels = {"邮件": EmailChannel(host="127.0.0.1", port=smtp.port, sender="actops@corp.test")}
    result = runner.run(JOB, store, NOW, channels=channels)
    assert result.status == "成功", result.plan.warnings
    [mail] = [m for m in smtp.messages if "市场部" in m["subject"]]
    assert mail["images"] and all(f"cid:{cid}" in mail["html"] for cid in mail["images"])
    assert all(png.startswith(b"\x89PNG") for png in mail["images"].values())
    assert "华***答谢会" in mail["html"] and "华东实业" not in mail["html"]  # the customer's name masked
    assert "张伟" in mail["html"]  # the delay is named with its owner
    row = next(r for r in store.table("summaries").rows() if r["scope"] == "D03")
    [file] = row["report"]
    assert file["title"] == "SUM-2026-10-D03.html" and file["mimetype"].startswith("text/html")
    url = file.get("signedUrl") or file.get("url") or f"{nocodb[0]}/{file.get('signedPath') or file['path']}"
    got = httpx.get(url if url.startswith("http") else f"{nocodb[0]}/{url}", headers={"xc-token": nocodb[1]}, timeout=30)
    assert got.status_code == 200 and "市场部 2026-10 月度总结" in got.text and "data:image/png;base64," in got.text
    again = runner.run(JOB, store, NOW, channels=channels)
    assert again.enqueued == 0 and len([m for m in smtp.messages if "市场部" in m["subject"]]) == 1
