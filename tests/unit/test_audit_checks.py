"""The checklist each sampled item gets (AUD-5): what the system pre-fills, what it leaves to
the auditor (None), per kind."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from actops.jobs.audit import checks as c
from actops.jobs.audit.checks import (
    ActivityFacts,
    ApprovalFacts,
    ExpenseFacts,
    RecheckFacts,
    StepFact,
)
from actops.kernel.calendar import TZ

ROUTE = ("部门负责人", "财务", "CEO")
AS_OF = date(2026, 10, 10)


def at(day, hour=10):
    return datetime(2026, 9, day, hour, tzinfo=TZ)


def steps(*statuses, times=(1, 2, 3), roles=ROUTE):
    return tuple(StepFact(i + 1, r, s, at(t) if s in ("已通过", "已驳回") else None)
                 for i, (r, s, t) in enumerate(zip(roles, statuses, times, strict=False)))


def values(checks):
    return {x.id: x.value for x in checks}


@pytest.mark.req("AUD-5")
def test_an_approval_through_its_whole_route_in_order_passes():
    f = ApprovalFacts("已通过", steps("已通过", "已通过", "已通过"), ROUTE, history_intact=True)
    assert values(c.approval(f, AS_OF)) == {"chain_in_order": True, "tier": True, "history_intact": True}
    assert c.deviation(c.approval(f, AS_OF)) is False


@pytest.mark.req("AUD-5")
def test_steps_decided_out_of_order_or_missing_fail():
    late_first = ApprovalFacts("已通过", steps("已通过", "已通过", "已通过", times=(2, 1, 3)), ROUTE, history_intact=True)
    assert values(c.approval(late_first, AS_OF))["chain_in_order"] is False
    skipped = ApprovalFacts("已通过", steps("已通过", "未开始", "已通过"), ROUTE)
    assert values(c.approval(skipped, AS_OF))["chain_in_order"] is False
    short = ApprovalFacts("已通过", steps("已通过", "已通过"), ROUTE)  # approved without its CEO step
    assert values(c.approval(short, AS_OF))["chain_in_order"] is False
    assert values(c.approval(ApprovalFacts("已通过", (), ROUTE), AS_OF))["chain_in_order"] is False
    # ended by a rejection at step 2: complete for what it is
    rejected = ApprovalFacts("已驳回", steps("已通过", "已驳回", "未开始"), ROUTE)
    assert values(c.approval(rejected, AS_OF))["chain_in_order"] is True


@pytest.mark.req("AUD-5")
def test_a_route_of_a_lower_tier_fails_the_tier_check():
    # 费用 of 150,000 needs 主管 → 财务 → 总监; it went through 主管 → 财务 only.
    f = ApprovalFacts("已通过", steps("已通过", "已通过", roles=("主管", "财务")), ("主管", "财务", "总监"))
    got = values(c.approval(f, AS_OF))
    assert got["tier"] is False and got["history_intact"] is None
    assert c.deviation(c.approval(f, AS_OF)) is True


@pytest.mark.req("AUD-5")
def test_open_requests_and_unknown_routes_are_left_to_the_auditor():
    assert values(c.approval(ApprovalFacts("审批中", steps("已通过", "待审批", "未开始"), ROUTE), AS_OF))[
        "chain_in_order"] is None
    assert values(c.approval(ApprovalFacts("已通过", steps("已通过"), None), AS_OF))["tier"] is None


@pytest.mark.req("AUD-5", "APR-4")
def test_emergency_approvals_are_checked_for_their_post_hoc_chain():
    due = datetime(2026, 9, 10, 18, tzinfo=TZ)
    on_time = ApprovalFacts("已通过", steps("已通过", "已通过", "已通过"), ROUTE, emergency=True,
                            posthoc_due_at=due, posthoc_done_at=datetime(2026, 9, 9, tzinfo=TZ))
    late = ApprovalFacts("已通过", (), ROUTE, emergency=True, posthoc_due_at=due,
                         posthoc_done_at=datetime(2026, 9, 12, tzinfo=TZ))
    never = ApprovalFacts("已通过", (), ROUTE, emergency=True, posthoc_due_at=due)
    not_yet = ApprovalFacts("已通过", (), ROUTE, emergency=True, posthoc_due_at=due)
    assert values(c.approval(on_time, AS_OF))["posthoc_on_time"] is True
    assert values(c.approval(late, AS_OF))["posthoc_on_time"] is False
    assert values(c.approval(never, AS_OF))["posthoc_on_time"] is False
    assert values(c.approval(not_yet, date(2026, 9, 10)))["posthoc_on_time"] is None
    assert "posthoc_on_time" not in values(c.approval(ApprovalFacts("已通过"), AS_OF))


@pytest.mark.req("AUD-5")
def test_expense_checks():
    approved = ApprovalFacts("已通过", steps("已通过", roles=("主管",)), ("主管",))
    ok = c.expense(ExpenseFacts("已支付", True, True, approved), AS_OF)
    assert values(ok) == {"receipt": True, "budget_line": True, "approved": True, "chain_in_order": True,
                          "tier": True, "genuine": None}
    assert c.deviation(ok) is None  # genuineness is the auditor's to judge
    bare = values(c.expense(ExpenseFacts("已批准", False, False, None), AS_OF))
    assert bare == {"receipt": False, "budget_line": False, "approved": False, "genuine": None}
    assert values(c.expense(ExpenseFacts("待审批", True, True, None), AS_OF))["approved"] is None


@pytest.mark.req("AUD-5", "ACT-5")
def test_activity_checks():
    good = values(c.activity(ActivityFacts("执行", "已通过", ("春季促销-策划-01(2026-03-05)", "春季促销-2026-01V1"))))
    assert good == {"initiated": True, "names_conform": True, "outcome_matches": None}
    bad = values(c.activity(ActivityFacts("执行", None, ("会议记录 副本.docx",))))
    assert bad["initiated"] is False and bad["names_conform"] is False
    assert values(c.activity(ActivityFacts("立项申请", None)))["initiated"] is None
    assert values(c.activity(ActivityFacts("执行", "已驳回")))["names_conform"] is None


@pytest.mark.req("AUD-5")
def test_recheck_and_rendering():
    got = c.recheck(RecheckFacts("整改中"))
    assert values(got) == {"marked_remedied": False, "remedy_effective": None}
    assert c.render(got) == "☒ 否｜责任人已标记整改完成\n☐ 待审计员判断｜整改措施有效、问题未再发生"
    assert values(c.recheck(RecheckFacts("已整改")))["marked_remedied"] is True
