"""The approvals job through the shared runner on the in-memory NocoDB: a request routed and
decided to the end, 立项 from an activity, history sealed, reruns change nothing.

The fake returns no LastModifiedBy, so grid decisions are covered by test_approvals_rules
and, with real accounts, by tests/integration/test_approvals.py; here decisions arrive as
the link page writes them (a decision row).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actops.jobs.approvals import JOB, history
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_APPROVE, LinkSigner
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store
from tests.unit.fake_world import fake_store, small_company

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


SECRET = "s" * 40


@pytest.fixture()
def world(monkeypatch):
    monkeypatch.setenv("ACTOPS_LINK_SECRET", SECRET)
    monkeypatch.setenv("ACTOPS_PUBLIC_URL", "https://actops.example.cn")
    clock = {"now": T0}
    api, store = fake_store(clock)
    small_company(store)
    return api, store, clock


def run(store, clock):
    return runner.run(JOB, store, clock["now"].astimezone(TZ))


def rows(store, table):
    return {r["code"]: r for r in store.table(table).rows()}


def decide(store, step_code, what, by, comment="同意"):
    """What the link page writes: the decision row, then the step."""
    s = rows(store, "approval_steps")[step_code]
    store.table("approval_decisions").create([{"code": f"{step_code}-D", "request": s["request"], "step": step_code,
                                               "decision": what, "by": by, "at": datetime.now(TZ), "comment": comment}])
    store.table("approval_steps").update([{"Id": s["Id"], "status": "已通过" if what == "通过" else "已驳回"}])


@pytest.mark.req("APR-1", "APR-2", "APR-3", "SEC-4")
def test_a_purchase_runs_through_its_route_and_a_rerun_changes_nothing(world):
    api, store, clock = world
    store.table("approval_requests").create([{"code": "AP-9", "kind": "采购", "title": "灯光租赁", "applicant": "E04",
                                              "department": "D02", "amount": 20000, "status": "审批中"}])
    first = run(store, clock)
    steps = rows(store, "approval_steps")
    assert [(c, s["role"], s["assignee"], s["status"]) for c, s in sorted(steps.items())] == [
        ("AP-9-S1", "部门负责人", "E02", "待审批"), ("AP-9-S2", "财务", "E05", "未开始"), ("AP-9-S3", "CEO", "E01", "未开始")]
    assert [(m.recipient, m.kind) for m in first.plan.messages] == [("E02", "待审批通知")]
    body = first.plan.messages[0].body
    link = body.split("](https://actops.example.cn/approve/", 1)[1].split(")", 1)[0]
    claims = LinkSigner(SECRET.encode()).verify(link, PURPOSE_APPROVE, datetime.now(TZ))
    assert (claims.code, claims.ref) == ("E02", "AP-9-S1")  # bound to the approver and the step

    again = run(store, clock)  # nothing new: no step, no message, no decision twice
    assert again.enqueued == 0 and len(rows(store, "approval_steps")) == 3

    for code, who in (("AP-9-S1", "E02"), ("AP-9-S2", "E05"), ("AP-9-S3", "E01")):
        decide(store, code, "通过", who)
        run(store, clock)
    req = rows(store, "approval_requests")["AP-9"]
    assert req["status"] == "已通过" and req["decided_at"]
    ds = sorted(store.table("approval_decisions").read()[0], key=lambda d: d.Id)
    assert [d.hash for d in ds] and all(d.hash for d in ds)
    assert history.check(ds, req["history_check"]).problems == []
    outbox = [r for r in store.table("outbox").rows() if r["job"] == "approvals"]
    assert sorted((r["recipient"], r["kind"]) for r in outbox) == [
        ("E01", "待审批通知"), ("E02", "待审批通知"), ("E04", "审批结果"), ("E05", "待审批通知")]

    # Someone edits a sealed decision in the grid: reported on the row and flagged for audit.
    d = ds[1]
    clock["now"] += timedelta(minutes=1)  # later than the last run's marks, as any edit on a server is (OPS-3)
    store.table("approval_decisions").update([{"Id": d.Id, "comment": "其实不同意"}])
    run(store, clock)
    req = rows(store, "approval_requests")["AP-9"]
    assert "审批记录被改动" in (req["audit_flag"] or "")
    note = rows(store, "approval_decisions")[d.code]["data_issue"]
    assert "被改动过" in note


@pytest.mark.req("ACT-2")
def test_an_activity_application_becomes_its_initiation_request_and_the_gate_holds(world):
    api, store, clock = world
    store.table("activities").create([
        {"code": "ACT-1", "name": "春季促销", "type": "市场推广", "stage": "立项申请", "department": "D02",
         "owner": "E04", "start_date": "2026-12-01", "end_date": "2026-12-02", "budget": 50000},
        {"code": "ACT-2", "name": "冬季客户会", "type": "客户交流", "stage": "执行", "department": "D02",
         "owner": "E04", "start_date": "2026-12-01", "end_date": "2026-12-02"},
    ])
    run(store, clock)
    acts = rows(store, "activities")
    assert acts["ACT-1"]["initiation_request"] == "AP-ACT-1"
    req = rows(store, "approval_requests")["AP-ACT-1"]
    assert (req["kind"], req["status"], req["applicant"], req["amount"]) == ("立项", "审批中", "E04", 50000)
    steps = rows(store, "approval_steps")
    assert [(c, s["role"], s["assignee"]) for c, s in sorted(steps.items())] == [
        ("AP-ACT-1-S1", "部门负责人", "E02"), ("AP-ACT-1-S2", "总经理", "E01")]
    assert "须经立项审批通过" in (acts["ACT-2"]["data_issue"] or "")
    run(store, clock)
    assert len(rows(store, "approval_requests")) == 1 and len(rows(store, "approval_steps")) == 2


def _client(store, clock, woken):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from actops.web.app import create_app

    signer = LinkSigner(SECRET.encode())
    app = create_app(lambda: store, signer, clock=lambda: clock["now"].astimezone(TZ),
                     link_clock=lambda: clock["now"].astimezone(TZ), on_decision=woken.append)
    return TestClient(app), signer


@pytest.mark.req("STF-5", "APR-3")
def test_the_link_page_decides_once_for_its_person_and_step_only(world):
    api, store, clock = world
    store.table("approval_requests").create([{"code": "AP-7", "kind": "费用", "title": "差旅<报销>", "applicant": "E04",
                                              "department": "D02", "amount": 20000, "status": "审批中"}])
    run(store, clock)  # S1 主管 E02, S2 财务 E05
    woken: list[str] = []
    client, signer = _client(store, clock, woken)
    now = clock["now"].astimezone(TZ)
    mine = f"/approve/{signer.sign('E02', PURPOSE_APPROVE, now, ref='AP-7-S1')}"
    page = client.get(mine)
    assert page.status_code == 200 and "审批：差旅&lt;报销&gt;" in page.text and 'value="通过"' in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]

    foreign = f"/approve/{signer.sign('E05', PURPOSE_APPROVE, now, ref='AP-7-S1')}"  # not E05's step (yet)
    assert client.get(foreign).status_code == 403
    wrong_purpose = f"/approve/{signer.sign('E02', 'todo', now, ref='AP-7-S1')}"
    assert client.get(wrong_purpose).status_code == 403
    forged = mine[:-3] + ("AAA" if not mine.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 403
    expired = f"/approve/{signer.sign('E02', PURPOSE_APPROVE, now - timedelta(days=30), ref='AP-7-S1')}"
    assert client.get(expired).status_code == 410

    no_reason = client.post(mine, data={"decision": "驳回", "comment": " "})
    assert no_reason.status_code == 400 and "驳回须写明原因" in no_reason.text
    done = client.post(mine, data={"decision": "通过", "comment": "同意，注意控制成本"})
    assert done.status_code == 200 and "已记录：通过" in done.text and woken == ["AP-7-S1"]
    reused = client.post(mine, data={"decision": "驳回", "comment": "改主意了"})
    assert reused.status_code == 409 and "已由 李总监" in reused.text
    assert client.get(mine).status_code == 409

    run(store, clock)  # the job seals the decision and opens the next step
    steps = rows(store, "approval_steps")
    assert (steps["AP-7-S1"]["status"], steps["AP-7-S2"]["status"]) == ("已通过", "待审批")
    ds = store.table("approval_decisions").read()[0]
    assert [(d.code, d.by, d.comment, bool(d.hash)) for d in ds] == [("AP-7-S1-D", "E02", "同意，注意控制成本", True)]
    assert client.get(foreign).status_code == 409  # S1 is decided, whoever asks
    nxt = f"/approve/{signer.sign('E05', PURPOSE_APPROVE, now, ref='AP-7-S2')}"
    assert client.get(nxt).status_code == 200  # now it is E05's turn, on S2


@pytest.mark.req("APR-3", "SEC-4", "ACT-2")
def test_the_sample_company_passes_through_without_a_false_alarm():
    """Its requests, steps and decisions were made without this job: nothing to undo or flag,
    every decision sealed, and a second run finds nothing new."""
    from actops_dev.seed import seed

    now = datetime.now(TZ)
    api = FakeApi(now=lambda: now)
    specs = load_schema()
    apply(api, specs, log=lambda s: None)
    store = Store(api, "", specs)
    seed(store, now.date())
    first = runner.run(JOB, store, now)
    assert first.plan.issues == [] and first.plan.messages == []
    assert first.plan.stats["requests_open"] > 20 and first.plan.stats["chains_broken"] == 0
    decisions = store.table("approval_decisions").read()[0]
    assert decisions and all(d.hash for d in decisions)
    second = runner.run(JOB, store, now)
    assert second.plan.issues == [] and second.enqueued == 0 and second.plan.stats["decisions_recorded"] == 0
    assert not any(second.plan.row_updates.get("approval_decisions", {}))


@pytest.mark.req("PLN-1")
def test_a_plan_change_changes_the_task_only_once_approved(world):
    api, store, clock = world
    store.table("employees").create([{"code": "E07", "name": "吴计划", "department": "D01", "manager": "E01",
                                      "roles": ["计划组"], "email": "e07@x.cn"}])
    store.table("plans").create([{"code": "P-2026-Q4", "kind": "季度", "period": "2026-Q4", "department": "D02",
                                  "title": "四季度计划"}])
    store.table("plan_tasks").create([{"code": "T-1", "plan": "P-2026-Q4", "title": "年会筹备", "owner": "E04",
                                       "due_date": "2026-12-01"}])
    store.table("approval_requests").create([
        {"code": "AP-P1", "kind": "计划调整", "title": "年会延期", "applicant": "E04", "department": "D02",
         "status": "审批中", "plan_task": "T-1", "new_due_date": "2026-12-20"},
        {"code": "AP-P2", "kind": "计划调整", "title": "没说调整什么", "applicant": "E04", "department": "D02",
         "status": "审批中"}])
    run(store, clock)
    steps = rows(store, "approval_steps")
    assert [(c, s["role"], s["assignee"]) for c, s in sorted(steps.items())] == [
        ("AP-P1-S1", "计划组", "E07"), ("AP-P1-S2", "部门负责人", "E02")]
    assert "须选择「调整任务」" in rows(store, "approval_requests")["AP-P2"]["data_issue"]
    decide(store, "AP-P1-S1", "通过", "E07")
    run(store, clock)
    assert rows(store, "plan_tasks")["T-1"]["due_date"] == "2026-12-01"  # not before the last approval
    decide(store, "AP-P1-S2", "通过", "E02")
    run(store, clock)
    assert rows(store, "approval_requests")["AP-P1"]["status"] == "已通过"
    assert rows(store, "plan_tasks")["T-1"]["due_date"] == "2026-12-20"
