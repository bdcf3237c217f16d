"""Approvals on a real NocoDB with real accounts: tiers routed end to end, decisions from the
link page and from the grid (the approver's own login only: NocoDB's LastModifiedBy tells),
a rejection in the middle, delegation, the emergency path, and a history that tells edits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from actops.jobs.approvals import history
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.web import decide
from tests.integration.test_intake import staff_account

TABLES = {"approval_routes", "approval_requests", "approval_steps", "approval_decisions", "employees",
          "departments", "settings", "calendar", "run_log", "outbox", "activities", "activity_types", "plan_tasks",
          "plans", "customers"}


@pytest.fixture(scope="module")
def store(make_store):
    s = make_store(TABLES, suffix="apr-")
    tag = uuid.uuid4().hex[:6]
    s.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"},
                                   {"code": "D07", "name": "财务部"}])
    s.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理", "CEO"], "email": f"gm-{tag}@corp.test"},
        {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "roles": ["部门负责人", "总监"],
         "email": f"dir-{tag}@corp.test"},
        {"code": "E03", "name": "赵主管", "department": "D02", "manager": "E02", "roles": ["主管"],
         "email": f"sup-{tag}@corp.test"},
        {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E03", "email": f"staff-{tag}@corp.test"},
        {"code": "E05", "name": "孙财务", "department": "D07", "manager": "E01", "roles": ["部门负责人", "财务"],
         "email": f"fin-{tag}@corp.test"},
        {"code": "E07", "name": "吴计划", "department": "D01", "manager": "E01", "roles": ["计划组"],
         "email": f"plan-{tag}@corp.test"},
    ])
    s.table("plans").create([{"code": "P-Q4", "kind": "季度", "period": "2026-Q4", "department": "D02", "title": "四季度"}])
    s.table("plan_tasks").create([{"code": "T-1", "plan": "P-Q4", "title": "年会筹备", "owner": "E04",
                                   "due_date": "2026-12-01"}])
    ids = s.key_ids("departments")
    s.table("departments").update([{"Id": ids["D01"], "head": "E01"}, {"Id": ids["D02"], "head": "E02"},
                                   {"Id": ids["D07"], "head": "E05"}])
    s.tag = tag
    return s


@pytest.fixture(scope="module")
def logins(api, store):
    """Signed-in API clients speaking as 赵主管 (E03), 钱专员 (E04) and 李总监 (E02)."""
    clients = {code: staff_account(api, store, f"{who}-{store.tag}@corp.test")
               for code, who in (("E03", "sup"), ("E04", "staff"), ("E02", "dir"))}
    yield clients
    for c in clients.values():
        c.close()


def run(store, now=None):
    from actops.jobs.approvals import JOB

    return runner.run(JOB, store, now or datetime.now(TZ))


def by_code(store, table):
    return {r["code"]: r for r in store.table(table).rows()}


def new_request(store, code, kind, amount, applicant="E04", **kw):
    store.table("approval_requests").create([{"code": code, "kind": kind, "title": f"{kind}{amount}",
                                              "applicant": applicant, "department": "D02", "amount": amount,
                                              "status": "审批中", **kw}])


def approve_all(store, code):
    """Each open step decided through the link page, then the job, until the request ends."""
    for _ in range(6):
        steps = by_code(store, "approval_steps")
        open_ = [s for c, s in steps.items() if c.startswith(code + "-S") and s["status"] == "待审批"]
        if not open_:
            return
        s = open_[0]
        decide.record(store, s["delegate"] or s["assignee"], s["code"], "通过", "同意", datetime.now(TZ))
        run(store)


@pytest.mark.req("APR-1", "APR-2", "APR-3", "ESC-1")
@pytest.mark.parametrize("amount, roles", [
    (9_999.99, ["主管"]), (10_000, ["主管", "财务"]), (100_000, ["主管", "财务", "总监"]),
    (100_000.01, ["主管", "财务", "总监"]),
])
def test_each_expense_tier_routes_and_runs_to_the_end(store, amount, roles):
    code = f"AP-T{str(amount).replace('.', '')}"
    new_request(store, code, "费用", amount)
    run(store)
    steps = sorted((s for c, s in by_code(store, "approval_steps").items() if c.startswith(code + "-S")),
                   key=lambda s: s["seq"])
    assert [s["role"] for s in steps] == roles
    assert steps[0]["status"] == "待审批" and steps[0]["due_at"]
    approve_all(store, code)
    req = by_code(store, "approval_requests")[code]
    assert req["status"] == "已通过" and req["decided_at"]
    decisions = [d for d in store.table("approval_decisions").read()[0] if d.request == code]
    assert len(decisions) == len(roles) and all(d.hash for d in decisions)
    assert history.check(decisions, req["history_check"]).problems == []
    told = [r for r in store.table("outbox").rows() if code in (r["subject"] or "")]
    assert sorted(r["kind"] for r in told) == sorted(["待审批通知"] * len(roles) + ["审批结果"])


@pytest.mark.req("APR-1", "APR-2", "APR-3", "PLN-1")
@pytest.mark.parametrize("kind, extra, chain", [
    ("采购", {}, [("部门负责人", "E02"), ("财务", "E05"), ("CEO", "E01")]),
    ("成果报告", {}, [("部门负责人", "E02"), ("财务", "E05"), ("CEO", "E01")]),
    ("立项", {}, [("部门负责人", "E02"), ("总经理", "E01")]),
    ("计划调整", {"plan_task": "T-1", "new_due_date": "2026-12-18"}, [("计划组", "E07"), ("部门负责人", "E02")]),
])
def test_each_route_runs_its_chain_to_the_end(store, kind, extra, chain):
    code = f"AP-K{chain[0][1]}{len(kind)}{len(chain)}"
    new_request(store, code, kind, 5_000, **extra)
    run(store)
    steps = sorted((s for c, s in by_code(store, "approval_steps").items() if c.startswith(code + "-S")),
                   key=lambda s: s["seq"])
    assert [(s["role"], s["assignee"]) for s in steps] == chain
    approve_all(store, code)
    assert by_code(store, "approval_requests")[code]["status"] == "已通过"
    if kind == "计划调整":
        assert by_code(store, "plan_tasks")["T-1"]["due_date"] == "2026-12-18"


@pytest.mark.req("APR-3", "STF-5")
def test_a_grid_decision_counts_from_the_approvers_login_and_is_undone_from_anyone_elses(store, logins):
    new_request(store, "AP-G1", "费用", 500)
    run(store)
    step = by_code(store, "approval_steps")["AP-G1-S1"]
    assert step["assignee"] == "E03"
    t = store.table("approval_steps")
    status, comment = t.title("status"), t.title("comment")
    # The applicant approves their own request in the grid: undone, said on the row.
    logins["E04"].patch(f"/api/v2/tables/{t.table.id}/records",
                        json=[{"Id": step["Id"], status: "已通过"}]).raise_for_status()
    run(store)
    step = by_code(store, "approval_steps")["AP-G1-S1"]
    assert step["status"] == "待审批" and "赵主管（E03） 本人" in step["data_issue"]
    assert f"staff-{store.tag}@corp.test" in step["data_issue"]
    assert by_code(store, "approval_requests")["AP-G1"]["status"] == "审批中"
    # The approver does it with their own login: recorded with their comment, the request ends.
    logins["E03"].patch(f"/api/v2/tables/{t.table.id}/records",
                        json=[{"Id": step["Id"], status: "已通过", comment: "同意，按标准报销"}]).raise_for_status()
    run(store)
    step = by_code(store, "approval_steps")["AP-G1-S1"]
    assert step["status"] == "已通过" and not step["data_issue"]
    d = by_code(store, "approval_decisions")["AP-G1-S1-D"]
    assert (d["decision"], d["by"], d["comment"]) == ("通过", "E03", "同意，按标准报销")
    assert by_code(store, "approval_requests")["AP-G1"]["status"] == "已通过"


@pytest.mark.req("APR-3")
def test_a_rejection_in_the_middle_ends_the_request(store):
    new_request(store, "AP-R1", "采购", 30_000)
    run(store)
    decide.record(store, "E02", "AP-R1-S1", "通过", "同意", datetime.now(TZ))
    run(store)
    decide.record(store, "E05", "AP-R1-S2", "驳回", "比价不足三家", datetime.now(TZ))
    run(store)
    steps = by_code(store, "approval_steps")
    assert [steps[f"AP-R1-S{i}"]["status"] for i in (1, 2, 3)] == ["已通过", "已驳回", "已跳过"]
    assert by_code(store, "approval_requests")["AP-R1"]["status"] == "已驳回"
    outcome = [r for r in store.table("outbox").rows() if r["kind"] == "审批结果" and "AP-R1" in r["subject"]]
    assert len(outcome) == 1 and outcome[0]["recipient"] == "E04" and "比价不足三家" in outcome[0]["body"]


@pytest.mark.req("APR-5")
def test_an_approver_on_leave_gets_a_deputy_and_a_grid_handover_is_recorded(store, logins):
    ids = store.key_ids("employees")
    today = datetime.now(TZ).date()
    store.table("employees").update([{"Id": ids["E03"], "on_leave_until": today + timedelta(days=5), "deputy": "E02"}])
    new_request(store, "AP-L1", "费用", 800)
    run(store)
    step = by_code(store, "approval_steps")["AP-L1-S1"]
    assert (step["assignee"], step["delegate"]) == ("E03", "E02")
    t1 = by_code(store, "approval_decisions")["AP-L1-S1-T1"]
    assert (t1["decision"], t1["by"], t1["to"]) == ("转交", "E03", "E02")
    store.table("employees").update([{"Id": ids["E03"], "on_leave_until": None, "deputy": None}])
    # The deputy hands the step to finance in the grid, with their own login: a second 转交.
    # (Picking a person in a link cell sets the link's foreign key: written here as the grid does.)
    t = store.table("approval_steps")
    fk = t.links["delegate"].fk_title
    logins["E02"].patch(f"/api/v2/tables/{t.table.id}/records",
                        json=[{"Id": step["Id"], fk: ids["E05"]}]).raise_for_status()
    run(store)
    t2 = by_code(store, "approval_decisions")["AP-L1-S1-T2"]
    assert (t2["by"], t2["to"]) == ("E02", "E05")
    told = [r for r in store.table("outbox").rows() if r["kind"] == "待审批通知" and "AP-L1" in r["subject"]]
    assert sorted(r["recipient"] for r in told) == ["E02", "E05"]


@pytest.mark.req("APR-4")
def test_a_directors_emergency_approval_and_the_post_hoc_chain(store, logins):
    new_request(store, "AP-E1", "紧急采购", 60_000)
    store.table("approval_routes").create([{"code": "R-EMRG-T", "kind": "紧急采购", "steps": "部门负责人 → 财务",
                                            "active": True}]) if "R-EMRG" not in by_code(store, "approval_routes") else None
    t = store.table("approval_requests")
    rid = by_code(store, "approval_requests")["AP-E1"]["Id"]
    logins["E02"].patch(f"/api/v2/tables/{t.table.id}/records",
                        json=[{"Id": rid, t.title("emergency"): True, t.title("emergency_by"): "E02"}]).raise_for_status()
    run(store)
    req = by_code(store, "approval_requests")["AP-E1"]
    assert req["status"] == "已通过" and req["posthoc_due_at"] and "总监特批" in req["audit_flag"]
    steps = [s for c, s in by_code(store, "approval_steps").items() if c.startswith("AP-E1-S")]
    assert steps and all(s["posthoc"] for s in steps)
    assert by_code(store, "approval_decisions")["AP-E1-E"]["decision"] == "特批"
    approve_all(store, "AP-E1")
    assert by_code(store, "approval_requests")["AP-E1"]["posthoc_done_at"]


@pytest.mark.req("APR-3", "SEC-4")
def test_an_edited_and_a_deleted_decision_are_found_and_marked_for_audit(store, nocodb, monkeypatch):
    new_request(store, "AP-H1", "采购", 20_000)
    run(store)
    approve_all(store, "AP-H1")
    new_request(store, "AP-H2", "采购", 20_000)
    run(store)
    approve_all(store, "AP-H2")
    ds = by_code(store, "approval_decisions")
    store.table("approval_decisions").update([{"Id": ds["AP-H1-S2-D"]["Id"], "comment": "事后改的意见"}])
    store.table("approval_decisions").table.delete([ds["AP-H2-S3-D"]["Id"]])
    monkeypatch.setenv("NOCODB_URL", nocodb[0])
    monkeypatch.setenv("NOCODB_TOKEN", nocodb[1])
    from actops.cli import app

    out = CliRunner().invoke(app, ["approvals", "verify", "--prefix", store.prefix])
    assert out.exit_code == 1, out.output
    assert "AP-H1" in out.output and "被改动过" in out.output and "AP-H2" in out.output and "少了 1 条" in out.output
    reqs = by_code(store, "approval_requests")
    assert "审批记录被改动" in reqs["AP-H1"]["audit_flag"] and "审批记录被改动" in reqs["AP-H2"]["audit_flag"]
    assert "被改动过" in by_code(store, "approval_decisions")["AP-H1-S2-D"]["data_issue"]
    run(store)  # the job finds the same, and does not heal the chain
    assert "审批记录被改动" in by_code(store, "approval_requests")["AP-H2"]["audit_flag"]
    again = CliRunner().invoke(app, ["approvals", "verify", "--prefix", store.prefix, "--dry-run"])
    assert again.exit_code == 1 and "AP-H2" in again.output


@pytest.fixture(scope="module")
def served(store, nocodb, smtp, tmp_path_factory):
    """`actops serve` running with the approvals rules applied as NocoDB webhooks."""
    import shutil

    from actops.config import repo_root
    from actops_dev.catcher import free_port
    from tests.integration.test_automations import LINK_SECRET, apply_cli, env_for
    from tests.serving import start_serve

    home = tmp_path_factory.mktemp("apr-hooks")
    rules = home / "rules"
    rules.mkdir()
    shutil.copy(repo_root() / "automations" / "approvals.yaml", rules)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = env_for(nocodb, store.prefix, ACTOPS_WEBHOOK_URL=url, ACTOPS_PUBLIC_URL=url,
                  ACTOPS_AUTOMATIONS_DIR=str(rules), ACTOPS_LINK_SECRET=LINK_SECRET,
                  ACTOPS_ENV_FILE=str(home / ".env"), SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
                  SMTP_FROM="actops@corp.test")
    out = apply_cli(env, rules)
    assert out.exit_code == 0, out.output
    s = start_serve(env, home, port)
    try:
        yield s
    finally:
        s.stop()


@pytest.mark.req("SEC-2", "APR-1", "ESC-1")
def test_with_webhooks_a_submitted_request_reaches_its_approver_within_seconds(store, served, smtp):
    import time

    # The hook runs the job at the wall clock's time: without this, after 21:00 Shanghai the
    # notice waits for the end of quiet hours (test_escalations shows that rule on its own).
    settings = store.table("settings")
    quiet = next(r for r in settings.rows(fields=["key"]) if r["key"] == "quiet_hours")
    settings.update([{"Id": quiet["Id"], "value": "00:00-00:00"}])  # an empty window: never quiet
    run(store)  # settle: nothing else waits
    smtp.clear()
    started = time.monotonic()
    new_request(store, "AP-W1", "费用", 2_000)  # inserted in 审批中, as a person saving the row does
    while time.monotonic() - started < 30:
        if any("AP-W1" in (m.get("subject") or "") for m in smtp.messages):
            break
        time.sleep(0.2)
    waited = time.monotonic() - started
    mails = [m for m in smtp.messages if "AP-W1" in (m.get("subject") or "")]
    assert len(mails) == 1 and waited < 15, (waited, served.output()[-3000:])
    assert by_code(store, "approval_steps")["AP-W1-S1"]["status"] == "待审批"
    print(f"request saved → approver's mail in {waited:.1f} s")
