"""The quarterly audit on a real NocoDB and SMTP server (AUD-1..5).

A quarter (2026-Q3) of a small company whose records are in order: 8 activities each with its
approved 立项 request, 30 purchases, 30 expense claims with receipts, budget lines and their
approved 费用 requests, plus an emergency purchase (总监特批, post-hoc chain done in time) and a
purchase of 150,000 (≥ audit_always_amount 100,000). The auditor adds one 审计周期 row; a run
draws the sample (the two always-included apart), stores seed and parameters; the stored seed
draws the same sample again without a duplicate row. The auditor works through the checklist
in the grid (here: the API), with one sampled purchase found forged (数据造假); the finding is
made once, the verdict and the HTML report land on the cycle row and go out by mail.

Populations by hand: 审批 = 8 立项 + 30 采购 + 30 费用 = 68 (the two always-included leave
it), 费用 = 30, 活动 = 8.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import httpx
import pytest
from scipy.stats import beta

from actops.jobs.audit import JOB
from actops.jobs.audit.draw import METHOD_VERSION
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.messaging.channels import EmailChannel

TABLES = {"audit_cycles", "audit_samples", "audit_findings", "approval_requests", "approval_routes",
          "approval_steps", "expenses", "activities", "activity_types", "documents", "budget_lines", "customers",
          "employees", "departments", "settings", "calendar", "run_log", "outbox", "plans", "plan_tasks"}
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=TZ)  # Monday 10:00 in Beijing, after the quarter
CYCLE = "2026-Q3"
ROUTES = {"立项": ("部门负责人", "总经理"), "采购": ("部门负责人", "财务", "CEO"), "紧急采购": ("部门负责人", "财务", "CEO"),
          "费用": ("主管",)}
FORGED = "采购合同金额与供应商报价单不符，报价单系事后伪造"


def at(day: int, hour: int = 9) -> datetime:
    """``day`` days into the quarter, Beijing time."""
    return datetime(2026, 7, 1, hour, tzinfo=TZ) + timedelta(days=day)


def request(code, kind, amount, submitted, dept="D02", applicant="E04", **kw):
    return {"code": code, "kind": kind, "title": f"{kind} {code}", "applicant": applicant, "department": dept,
            "amount": amount, "status": "已通过", "submitted_at": submitted, "decided_at": submitted + timedelta(days=3),
            "history_check": f"{len(ROUTES[kind])}:sealed", **kw}


def steps_of(req: dict) -> list[dict]:
    return [{"code": f"{req['code']}-S{n}", "request": req["code"], "seq": n, "role": role, "status": "已通过",
             "decided_at": req["submitted_at"] + timedelta(hours=4 * n)} for n, role in enumerate(ROUTES[req["kind"]], 1)]


def quarter(s) -> None:
    s.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"},
                                   {"code": "D07", "name": "财务部"}])
    s.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理", "CEO"], "email": "aud-e01@corp.test"},
        {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "roles": ["部门负责人", "总监"],
         "email": "aud-e02@corp.test"},
        {"code": "E03", "name": "赵主管", "department": "D02", "manager": "E02", "roles": ["主管"],
         "email": "aud-e03@corp.test"},
        {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E03", "email": "aud-e04@corp.test"},
        {"code": "E05", "name": "孙财务", "department": "D07", "manager": "E01", "roles": ["部门负责人", "财务"],
         "email": "aud-e05@corp.test"},
        {"code": "E06", "name": "周会计", "department": "D07", "manager": "E05", "email": "aud-e06@corp.test"}])
    ids = s.key_ids("departments")
    s.table("departments").update([{"Id": ids["D01"], "head": "E01"}, {"Id": ids["D02"], "head": "E02"},
                                   {"Id": ids["D07"], "head": "E05"}])
    inits = [request(f"AP-I-{i:02d}", "立项", 20000, at(9 * i), dept="D02" if i < 6 else "D01") for i in range(8)]
    buys = [request(f"AP-P-{i:02d}", "采购", 1000 + 500 * i, at(2 * i + 1), dept="D02" if i % 3 else "D07",
                    applicant="E04" if i % 3 else "E06") for i in range(30)]
    claims = [request(f"AP-F-{i:02d}", "费用", 300 + 97 * i, at(2 * i + 2)) for i in range(30)]
    special = [
        request("AP-EM", "紧急采购", 30000, at(20), emergency=True, emergency_by="E02",
                posthoc_due_at=at(30), posthoc_done_at=at(25)),
        request("AP-BIG", "采购", 150000, at(40), dept="D07", applicant="E06"),
    ]
    everything = inits + buys + claims + special
    s.table("approval_requests").create(everything)
    s.table("approval_steps").create([st for r in everything for st in steps_of(r)])
    s.table("activities").create([
        {"code": f"ACT-{i:02d}", "name": f"秋季推广{i}", "type": "市场推广", "stage": "执行",
         "department": "D02" if i < 6 else "D01", "owner": "E04" if i < 6 else "E01",
         "start_date": (at(9 * i) + timedelta(days=5)).date(), "end_date": date(2026, 10, 30), "budget": 20000,
         "initiation_request": f"AP-I-{i:02d}"} for i in range(8)])
    s.table("budget_lines").create([{"code": f"B-{i:02d}", "activity": f"ACT-{i:02d}", "category": "物资",
                                     "amount": 20000} for i in range(8)])
    receipt = s.api.upload("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf")
    s.table("expenses").create([
        {"code": f"EXP-{i:02d}", "activity": f"ACT-{i % 8:02d}", "category": "物资", "amount": 300 + 97 * i,
         "spent_on": at(2 * i + 2).date(), "employee": "E04", "status": "已支付", "receipt": receipt,
         "request": f"AP-F-{i:02d}", "description": "活动物资"} for i in range(30)])


@pytest.fixture(scope="module")
def store(make_store):
    s = make_store(TABLES, suffix="aud-")
    quarter(s)
    return s


def channels(smtp) -> dict:
    return {"邮件": EmailChannel(host="127.0.0.1", port=smtp.port, sender="actops@corp.test")}


def run(store, smtp, now=NOW):
    result = runner.run(JOB, store, now, channels=channels(smtp))
    assert result.status in ("成功", "部分成功"), (result.status, result.plan.warnings)
    return result


def samples(store) -> dict[str, dict]:
    return {r["code"]: r for r in store.table("audit_samples").rows() if r["cycle"] == CYCLE}


def the_cycle(store) -> dict:
    [row] = [r for r in store.table("audit_cycles").rows() if r["code"] == CYCLE]
    return row


def report_mails(smtp) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in smtp.messages:
        if "审计" in m["subject"]:
            for to in m["to"]:
                if to.startswith("aud-"):
                    out.setdefault(to.split("@")[0][4:].upper(), []).append(m)
    return out


@pytest.fixture(scope="module")
def drawn(store, smtp):
    """The auditor adds the quarter's row; one run draws it."""
    store.table("audit_cycles").create([{"code": CYCLE, "period_start": "2026-07-01", "period_end": "2026-09-30"}])
    result = run(store, smtp)
    return {"result": result, "samples": samples(store), "cycle": the_cycle(store)}


@pytest.mark.req("AUD-1", "AUD-2", "AUD-3", "AUD-4", "AUD-5")
def test_a_cycle_row_becomes_its_sample_with_the_always_included_apart(store, drawn):
    assert drawn["result"].plan.stats["cycles_drawn"] == 1
    cycle = drawn["cycle"]
    assert cycle["status"] == "已抽样" and isinstance(cycle["seed"], int) and cycle["seed"] > 0
    assert (cycle["confidence"], cycle["tolerable_rate"], cycle["expected_rate"]) == (0.95, 0.05, 0)
    assert (cycle["method"], cycle["allocation"]) == ("二项分布", "按比例")
    stored = json.loads(cycle["params"])
    assert stored["method_version"] == METHOD_VERSION and stored["seed"] == cycle["seed"] and stored["fingerprint"]
    assert stored["params"]["always_amount"] == 100000 and stored["params"]["confidence"] == 0.95
    assert stored["always_included"] == 2
    kinds = stored["kinds"]
    assert (kinds["审批"]["population"], kinds["费用"]["population"], kinds["活动"]["population"]) == (68, 30, 8)
    assert kinds["审批"]["size"] == 59  # 95 %, 5 % tolerable, 0 expected: AICPA table A-1
    assert sum(kinds["审批"]["allocation"].values()) == kinds["审批"]["n"] == 59

    got = drawn["samples"]
    always = {r["item_code"]: r["reason"] for r in got.values() if r["reason"] not in ("随机抽样", "金额单位抽样")}
    assert always == {"AP-EM": "紧急审批", "AP-BIG": "大额事项"}  # AUD-3, listed apart by their reason
    assert got[f"{CYCLE}-A-AP-EM"]["notes"].startswith("入样原因：紧急审批")
    assert "总监特批后按时事后补办" in got[f"{CYCLE}-A-AP-EM"]["notes"]
    counts = {k: sum(1 for r in got.values() if r["item_kind"] == k) for k in ("审批", "费用", "活动")}
    assert counts["审批"] == 59 + 2 and counts["活动"] == 8 and counts["费用"] == kinds["费用"]["n"] > 0
    assert all(r["reason"] == "金额单位抽样" for r in got.values() if r["item_kind"] == "费用")
    assert len(got) == len({r["item_code"] for r in got.values()})
    # The quarter's records are in order: every pre-check passes or is left to the auditor.
    assert not [c for c, r in got.items() if r.get("deviation")], [got[c]["notes"] for c in got if got[c].get("deviation")]
    assert not [c for c, r in got.items() if "☒ 否" in (r["notes"] or "")]
    assert all(not r.get("checked") for r in got.values())


@pytest.mark.req("AUD-4")
def test_the_stored_seed_draws_the_same_sample_again_without_a_duplicate(store, drawn, smtp):
    first = drawn["samples"]
    assert run(store, smtp).plan.stats.get("cycles_drawn", 0) == 0  # drawn once: the cycle is 已抽样
    cycle = the_cycle(store)
    store.table("audit_cycles").update([{"Id": cycle["Id"], "status": "待抽样"}])  # the auditor asks again
    again = run(store, smtp)
    assert again.plan.stats["cycles_drawn"] == 1
    assert again.plan.stats["rows_new"] == again.plan.stats["rows_stale"] == 0
    redrawn = the_cycle(store)
    assert redrawn["seed"] == cycle["seed"] and redrawn["status"] == "已抽样"
    assert json.loads(redrawn["params"])["fingerprint"] == json.loads(cycle["params"])["fingerprint"]
    now = samples(store)
    assert set(now) == set(first) and {c: r["Id"] for c, r in now.items()} == {c: r["Id"] for c, r in first.items()}
    codes = [r["code"] for r in store.table("audit_samples").rows(fields=["code"])]
    assert len(codes) == len(set(codes))


@pytest.mark.req("AUD-5")
def test_the_checked_sample_gives_one_finding_a_verdict_and_a_report_on_the_row_and_in_the_mail(
        store, drawn, smtp, nocodb):
    got = samples(store)
    sampled = sorted(c for c, r in got.items() if r["item_kind"] == "审批" and r["reason"] == "随机抽样"
                     and r["item_code"].startswith("AP-P-"))
    bad = got[sampled[0]]  # a purchase drawn at random: its quotation was forged
    owner = {"D02": "E04", "D07": "E06"}[bad["department"]]  # the applicant of AP-P-xx
    head = {"D02": "E02", "D07": "E05"}[bad["department"]]
    t = store.table("audit_samples")
    smtp.clear()

    # The auditor checks the forged one first: its finding is made at once, the cycle is in audit.
    t.update([{"Id": bad["Id"], "checked": True, "deviation": True, "finding": FORGED, "severity": "数据造假"}])
    first = run(store, smtp)
    assert first.plan.stats["findings_new"] == 1 and the_cycle(store)["status"] == "审计中"
    assert not report_mails(smtp) and not the_cycle(store).get("conclusion")

    # Then the rest: all in order.
    t.update([{"Id": r["Id"], "checked": True} for c, r in got.items() if c != bad["code"]])
    done = run(store, smtp)
    assert done.plan.stats["cycles_evaluated"] == 1 and done.plan.stats["findings_new"] == 0

    findings = [f for f in store.table("audit_findings").rows() if f["cycle"] == CYCLE]
    assert len(findings) == 1  # made once, across both runs
    [f] = findings
    code = f"{CYCLE}-F-A-{bad['item_code']}"
    assert (f["code"], f["sample"], f["severity"], f["fraud"], f["owner"], f["status"]) == (
        code, bad["code"], "严重", True, owner, "待整改")
    assert f["description"] == FORGED and f["due_date"] == "2026-10-26"  # 10 workdays after Mon 2026-10-12

    cycle = the_cycle(store)
    n = 59  # the approvals' attribute sample: one deviation
    upper = float(beta.ppf(0.95, 1 + 1, n - 1))  # exact binomial (Clopper-Pearson) upper limit, k = 1
    assert cycle["status"] == "已完成"
    assert cycle["deviation_rate"] == round(1 / n, 4) and abs(cycle["upper_limit"] - upper) < 1e-4
    conclusion = cycle["conclusion"]
    assert conclusion.startswith("总体结论：审批的控制不能信赖")
    assert f"偏差率上限为 {upper:.2%}" in conclusion and "审计发现：1 项，其中数据造假 1 项。" in conclusion
    assert "审批（全部检查）：检查 2 项，偏差 0 项" in conclusion

    [file] = cycle["report"]  # the HTML report, stored by NocoDB and attached to the row
    assert file["title"] == f"audit-report-{CYCLE}.html" and file["mimetype"].startswith("text/html")
    url = file.get("signedUrl") or file.get("url") or f"{nocodb[0]}/{file.get('signedPath') or file['path']}"
    fetched = httpx.get(url if url.startswith("http") else f"{nocodb[0]}/{url}", headers={"xc-token": nocodb[1]},
                        timeout=30)
    assert fetched.status_code == 200
    html = fetched.text
    assert f"{CYCLE} 审计抽样报告" in html and FORGED in html and "严重（数据造假）" in html
    always = re.search(r'<table id="always".*?</table>', html, flags=re.S).group(0)
    assert "AP-EM" in always and "AP-BIG" in always and "紧急审批" in always and "大额事项" in always
    assert bad["item_code"] not in always  # the sampled one is in the sample's table, not among them
    assert f'<td id="seed" style="padding:4px 6px;border-bottom:1px solid #eaeef2;vertical-align:top;">{cycle["seed"]}</td>' in html

    mails = report_mails(smtp)
    assert sorted(mails) == sorted({"E01", head})  # the general manager and the head of the deviating department
    for who, ms in mails.items():
        assert len(ms) == 1 and ms[0]["subject"] == f"{CYCLE} 审计抽样报告", who
        assert FORGED in ms[0]["html"] and "审计发现" in ms[0]["html"]

    # A rerun: the cycle is closed; nothing is made, written or sent again.
    again = run(store, smtp)
    assert again.enqueued == 0 and sum(len(ms) for ms in report_mails(smtp).values()) == 2
    assert len([f for f in store.table("audit_findings").rows() if f["cycle"] == CYCLE]) == 1
    assert the_cycle(store) == cycle
