"""Approvals as pure rules: routes and tiers, who approves, steps in order, grid decisions by
the right account only, delegation, the emergency path and the sealed history."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace as NS

import pytest

from actops.jobs.approvals import flow, history
from actops.jobs.approvals.routing import RoutingError, approver, match, parse_routes
from actops.kernel.calendar import TZ, WorkCalendar
from actops.kernel.org import build_org

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday


def emp(code, name, dept, manager=None, roles=("员工",), email=None, active=True):
    return NS(code=code, name=name, department=dept, manager=manager, email=email or f"{code.lower()}@x.cn",
              wecom_id=None, channel="邮件", locale="zh-CN", active=active, roles=roles)


PEOPLE = [
    emp("E01", "总经理王", "D01", roles=("员工", "部门负责人", "总经理", "CEO")),
    emp("E02", "市场总监李", "D02", "E01", roles=("员工", "部门负责人", "总监")),
    emp("E03", "市场主管赵", "D02", "E02", roles=("员工", "主管")),
    emp("E04", "专员钱", "D02", "E03"),
    emp("E05", "财务经理孙", "D07", "E01", roles=("员工", "部门负责人", "财务")),
    emp("E06", "会计周", "D07", "E05", roles=("员工", "财务")),
    emp("E07", "计划吴", "D01", "E01", roles=("员工", "计划组")),
    emp("E08", "离职郑", "D02", "E03", roles=("员工", "财务"), active=False),
]
DEPTS = [NS(code="D01", head="E01"), NS(code="D02", head="E02"), NS(code="D07", head="E05")]
ORG = build_org(PEOPLE, DEPTS)
ROUTE_ROWS = [
    NS(Id=1, code="R-PROC", kind="采购", min_amount=None, max_amount=None, steps="部门负责人 → 财务 → CEO", active=True),
    NS(Id=2, code="R-INIT", kind="立项", min_amount=None, max_amount=None, steps="部门负责人 → 总经理", active=True),
    NS(Id=3, code="R-PLAN", kind="计划调整", min_amount=None, max_amount=None, steps="计划组 → 部门负责人", active=True),
    NS(Id=4, code="R-EXP-1", kind="费用", min_amount=None, max_amount=10_000.0, steps="主管", active=True),
    NS(Id=5, code="R-EXP-2", kind="费用", min_amount=10_000.0, max_amount=100_000.0, steps="主管 → 财务", active=True),
    NS(Id=6, code="R-EXP-3", kind="费用", min_amount=100_000.0, max_amount=None, steps="主管 → 财务 → 总监", active=True),
    NS(Id=7, code="R-OLD", kind="费用", min_amount=None, max_amount=None, steps="总经理", active=False),
]
ROUTES, _ = parse_routes(ROUTE_ROWS)


def rules(**kw):
    base = {"now": NOW, "org": ORG, "routes": tuple(ROUTES), "calendar": WorkCalendar.from_rows([])[0], "sla_days": 2,
                "posthoc_days": 3, "leave": {}, "by_email": {p.email: p.code for p in PEOPLE if p.active}}
    return flow.Rules(**{**base, **kw})


def req(code="AP-1", kind="费用", amount=500.0, applicant="E04", status="审批中", **kw):
    base = {"Id": 1, "code": code, "kind": kind, "title": "测试", "amount": amount, "applicant": applicant, "status": status,
                "emergency": False, "emergency_by": None, "submitted_at": None, "posthoc_due_at": None, "posthoc_done_at": None,
                "history_check": None, "audit_flag": None, "last_editor": None, "plan_task": None, "new_due_date": None}
    return NS(**{**base, **kw})


def step(code, seq, role, assignee, status="未开始", Id=None, **kw):
    base = {"Id": Id or seq, "code": code, "request": code.rsplit("-S", 1)[0], "seq": seq, "role": role, "assignee": assignee,
                "delegate": None, "status": status, "posthoc": False, "comment": None, "last_editor": None, "opened_at": None,
                "due_at": None, "decided_at": None}
    return NS(**{**base, **kw})


def decision(Id, step_code, what, by, **kw):
    base = {"Id": Id, "code": f"{step_code}-D", "request": "AP-1", "step": step_code, "decision": what, "by": by, "to": None,
                "at": NOW, "comment": "同意", "prev_hash": None, "hash": None}
    return NS(**{**base, **kw})


@pytest.mark.req("APR-2")
@pytest.mark.parametrize("amount, route, roles", [
    (None, "R-EXP-1", ("主管",)), (9_999.99, "R-EXP-1", ("主管",)), (10_000.0, "R-EXP-2", ("主管", "财务")),
    (99_999.99, "R-EXP-2", ("主管", "财务")), (100_000.0, "R-EXP-3", ("主管", "财务", "总监")),
    (100_000.01, "R-EXP-3", ("主管", "财务", "总监")),
])
def test_expense_tiers_include_the_lower_bound_and_exclude_the_upper(amount, route, roles):
    chosen = match(ROUTES, "费用", amount)
    assert (chosen.code, chosen.roles) == (route, roles)


@pytest.mark.req("APR-2")
def test_no_route_and_two_routes_are_errors_that_say_what_to_fix():
    with pytest.raises(RoutingError, match="没有适用于「成果报告」"):
        match(ROUTES, "成果报告", 1.0)
    twin = [*ROUTES, *parse_routes([NS(Id=9, code="R-DUP", kind="立项", min_amount=None, max_amount=None,
                                       steps="总经理", active=True)])[0]]
    with pytest.raises(RoutingError, match="同时符合 2 条路由.*R-INIT.*R-DUP"):
        match(twin, "立项", None)
    routes, issues = parse_routes([NS(Id=3, code="R-X", kind="采购", min_amount=None, max_amount=None,
                                      steps="部门负责人 → 老板", active=True)])
    assert routes == [] and "审批角色「老板」不认识" in issues[0].reason and issues[0].row_id == 3


@pytest.mark.req("APR-1", "APR-2")
def test_roles_resolve_to_people_from_the_org():
    me = ORG.people["E04"]
    assert approver("主管", me, ORG) == "E03"
    assert approver("部门负责人", me, ORG) == "E02"
    assert approver("总经理", me, ORG) == "E01"
    assert approver("CEO", me, ORG) == "E01"
    assert approver("计划组", me, ORG) == "E07"
    assert approver("财务", me, ORG) == "E05"  # two hold it, neither in D02: the lowest 工号 (the leaver is skipped)
    assert approver("财务", ORG.people["E06"], ORG) == "E05"  # never oneself
    assert approver("部门负责人", ORG.people["E02"], ORG) == "E01"  # a head's own request goes up
    no_planner = build_org([p for p in PEOPLE if p.code != "E07"], DEPTS)
    with pytest.raises(RoutingError, match="没有在职员工担任「计划组」"):
        approver("计划组", me, no_planner)


@pytest.mark.req("APR-1", "APR-3", "ESC-1")
def test_a_submitted_request_gets_its_steps_and_the_first_one_opens():
    adv = flow.advance(req(amount=10_000.0), [], [], rules())
    assert [(s["code"], s["role"], s["assignee"], s["status"]) for s in adv.new_steps] == [
        ("AP-1-S1", "主管", "E03", "待审批"), ("AP-1-S2", "财务", "E05", "未开始")]
    first = adv.new_steps[0]
    assert first["opened_at"] == NOW and first["due_at"] == datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    assert [(n.kind, n.to, n.step) for n in adv.notices] == [("open", "E03", "AP-1-S1")]
    assert adv.request == {"submitted_at": NOW} and adv.outcome is None


@pytest.mark.req("APR-2")
def test_a_request_that_cannot_be_routed_creates_nothing_and_says_why():
    adv = flow.advance(req(kind="计划调整", applicant="E04"), [], [], rules(
        org=build_org([p for p in PEOPLE if p.code != "E07"], DEPTS)))
    assert adv.new_steps == [] and adv.notices == [] and adv.request == {}
    assert adv.problems[0][0] == "request" and "计划组" in adv.problems[0][3]


@pytest.mark.req("APR-3")
def test_approval_opens_the_next_step_and_the_last_one_closes_the_request():
    s1 = step("AP-1-S1", 1, "主管", "E03", "已通过")
    s2 = step("AP-1-S2", 2, "财务", "E05")
    adv = flow.advance(req(amount=10_000.0), [s1, s2], [decision(1, "AP-1-S1", "通过", "E03")], rules())
    assert adv.step_updates == {"AP-1-S2": {"status": "待审批", "opened_at": NOW,
                                            "due_at": datetime(2026, 11, 25, 10, 0, tzinfo=TZ)}}
    assert [(n.kind, n.to) for n in adv.notices] == [("open", "E05")] and adv.outcome is None
    s2.status = "已通过"
    done = flow.advance(req(amount=10_000.0), [s1, s2], [decision(1, "AP-1-S1", "通过", "E03"),
                                                        decision(2, "AP-1-S2", "通过", "E05")], rules())
    assert done.outcome == "已通过" and done.request == {"status": "已通过", "decided_at": NOW}
    assert [(n.kind, n.to, n.detail) for n in done.notices] == [("outcome", "E04", "已通过")]


@pytest.mark.req("APR-3")
def test_a_rejection_in_the_middle_ends_the_request_and_skips_the_rest():
    steps = [step("AP-1-S1", 1, "部门负责人", "E02", "已通过"), step("AP-1-S2", 2, "财务", "E05", "已驳回"),
             step("AP-1-S3", 3, "CEO", "E01")]
    ds = [decision(1, "AP-1-S1", "通过", "E02"), decision(2, "AP-1-S2", "驳回", "E05", comment="比价不足")]
    adv = flow.advance(req(kind="采购", amount=50_000.0), steps, ds, rules())
    assert adv.outcome == "已驳回" and adv.step_updates == {"AP-1-S3": {"status": "已跳过"}}
    assert [(n.kind, n.to, n.detail) for n in adv.notices] == [("outcome", "E04", "已驳回")]


@pytest.mark.req("APR-3", "STF-5")
def test_a_grid_decision_counts_only_from_the_approvers_own_account():
    mine = step("AP-1-S1", 1, "主管", "E03", "已通过", comment="同意", last_editor={"email": "e03@x.cn"})
    adv = flow.advance(req(), [mine], [], rules())
    assert [(d["decision"], d["by"], d["comment"]) for d in adv.new_decisions] == [("通过", "E03", "同意")]
    assert adv.outcome == "已通过"

    forged = step("AP-1-S1", 1, "主管", "E03", "已通过", last_editor={"email": "e04@x.cn"})
    adv = flow.advance(req(), [forged], [], rules())
    assert adv.new_decisions == [] and adv.outcome is None
    assert adv.step_updates == {"AP-1-S1": {"status": "待审批", "decided_at": None}}
    where, field, _, why = adv.problems[0]
    assert (where, field) == ("AP-1-S1", "状态") and "市场主管赵（E03） 本人" in why and "e04@x.cn" in why


@pytest.mark.req("APR-3")
def test_a_decided_step_cannot_be_changed_afterwards():
    s1 = step("AP-1-S1", 1, "主管", "E03", "已驳回", last_editor={"email": "e03@x.cn"})
    adv = flow.advance(req(status="已通过"), [s1], [decision(1, "AP-1-S1", "通过", "E03")], rules())
    assert adv.step_updates["AP-1-S1"]["status"] == "已通过"
    assert "不能再改" in adv.problems[0][3]


@pytest.mark.req("APR-5")
def test_an_approver_on_leave_hands_new_steps_to_the_deputy_and_a_handover_is_recorded():
    on_leave = rules(leave={"E03": (date(2026, 11, 30), "E02")})
    adv = flow.advance(req(), [], [], on_leave)
    s1 = adv.new_steps[0]
    assert (s1["assignee"], s1["delegate"]) == ("E03", "E02")
    assert [(d["decision"], d["by"], d["to"]) for d in adv.new_decisions] == [("转交", "E03", "E02")]
    assert [n.to for n in adv.notices] == ["E02"]
    back = rules(leave={"E03": (date(2026, 11, 20), "E02")})  # leave is over
    assert "delegate" not in flow.advance(req(), [], [], back).new_steps[0]

    # 转交 in the grid by the approver: recorded, the new person told; by someone else: undone.
    open_step = step("AP-1-S1", 1, "主管", "E03", "待审批", delegate="E05", last_editor={"email": "e03@x.cn"})
    adv = flow.advance(req(), [open_step], [], rules())
    assert [(d["decision"], d["by"], d["to"]) for d in adv.new_decisions] == [("转交", "E03", "E05")]
    assert [(n.kind, n.to) for n in adv.notices] == [("open", "E05")]
    open_step.last_editor = {"email": "e04@x.cn"}
    adv = flow.advance(req(), [open_step], [], rules())
    assert adv.new_decisions == [] and adv.step_updates == {"AP-1-S1": {"delegate": None}}


@pytest.mark.req("APR-4")
def test_a_directors_emergency_approval_approves_at_once_and_opens_the_chain_post_hoc():
    r = req(kind="紧急采购", amount=80_000.0, emergency=True, emergency_by="E02", last_editor={"email": "e02@x.cn"})
    extra = parse_routes([NS(Id=8, code="R-EMRG", kind="紧急采购", min_amount=None, max_amount=None,
                             steps="部门负责人 → 财务 → CEO", active=True)])[0]
    adv = flow.advance(r, [], [], rules(routes=(*ROUTES, *extra)))
    due = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # three workdays
    assert adv.outcome == "已通过" and adv.request["posthoc_due_at"] == due
    assert adv.new_decisions[0]["decision"] == "特批" and adv.new_decisions[0]["by"] == "E02"
    assert all(s["posthoc"] for s in adv.new_steps) and adv.new_steps[0]["due_at"] == due
    assert flow.AUDIT_EMERGENCY in adv.audit
    assert [(n.kind, n.to, n.urgent) for n in adv.notices] == [("open", "E02", True), ("outcome", "E04", False)]

    # ticked by someone else's account: nothing happens, the row says why
    r.last_editor = {"email": "e04@x.cn"}
    adv = flow.advance(r, [], [], rules(routes=(*ROUTES, *extra)))
    assert adv.outcome is None and adv.new_steps == [] and "本人" in adv.problems[0][3]
    # not a director
    r2 = req(kind="紧急采购", emergency=True, emergency_by="E03", last_editor={"email": "e03@x.cn"})
    assert "总监" in flow.advance(r2, [], [], rules(routes=(*ROUTES, *extra))).problems[0][3]


@pytest.mark.req("APR-4")
def test_the_post_hoc_chain_completes_without_changing_the_outcome():
    r = req(kind="紧急采购", status="已通过", emergency=True, emergency_by="E02",
            posthoc_due_at=datetime(2026, 11, 26, 10, 0, tzinfo=TZ))
    steps = [step("AP-1-S1", 1, "部门负责人", "E02", "已通过", posthoc=True)]
    ds = [decision(1, None, "特批", "E02", code="AP-1-E"), decision(2, "AP-1-S1", "通过", "E02")]
    adv = flow.advance(r, steps, ds, rules())
    assert adv.request == {"posthoc_done_at": NOW} and adv.outcome is None


@pytest.mark.req("APR-3", "SEC-4")
def test_the_history_chain_finds_an_edited_a_deleted_and_a_removed_last_decision():
    rows = [decision(i, f"AP-1-S{i}", "通过", "E03", comment=f"意见{i}") for i in (1, 2, 3)]
    first = history.check(rows, None)
    assert first.problems == [] and len(first.seals) == 3
    for r in rows:
        r.prev_hash, r.hash = first.seals[r.Id]
    assert history.check(rows, first.head).problems == [] and history.check(rows, first.head).seals == {}

    rows[1].comment = "改过的意见"
    assert [p[0] for p in history.check(rows, first.head).problems] == [2]
    rows[1].comment = "意见2"
    gap = history.check([rows[0], rows[2]], first.head).problems  # the middle one deleted
    assert [p[0] for p in gap] == [3, None] and "前序校验" in gap[0][1] and "少了 1 条" in gap[1][1]
    last_gone = history.check(rows[:2], first.head).problems
    assert last_gone and last_gone[0][0] is None and "少了 1 条" in last_gone[0][1]
    rows[2].hash = None  # unsealing the newest one does not hide it either
    assert history.check(rows, first.head).problems


@pytest.mark.req("APR-1", "REL-1")
def test_steps_a_killed_run_did_not_insert_are_added_and_nothing_is_guessed():
    s1 = step("AP-1-S1", 1, "主管", "E03", "待审批")
    adv = flow.advance(req(amount=100_000.0), [s1], [], rules())
    assert [(s["code"], s["role"], s["assignee"], s["status"]) for s in adv.new_steps] == [
        ("AP-1-S2", "财务", "E05", "未开始"), ("AP-1-S3", "总监", "E02", "未开始")]
    assert adv.notices == []  # the open step was announced by the run that created it
    other = step("AP-1-S1", 1, "财务", "E05", "待审批")  # not this route's first step: left alone
    assert flow.advance(req(amount=100_000.0), [other], [], rules()).new_steps == []
