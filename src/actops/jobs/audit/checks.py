"""The checklist of one sampled item (AUD-5), as data: ``Check(id, zh, value)`` with value
True (passes), False (fails) or None (the auditor's judgement — the system cannot tell, or
cannot tell yet). Pure: the job turns rows into the typed facts below.

Per kind:

* 审批 (approval): the chain complete and in order; the steps are the route of its amount tier;
  the decision history intact; for an emergency (总监特批) the post-hoc chain done on time;
* 费用 (expense): receipt present; budget line exists; approved, through its approval's chain
  and tier; the purpose genuine and matching the receipt (judgement);
* 活动 (activity): 立项 approved; document names conform to the naming rule (ACT-5); the
  outcome report matching what was done (judgement);
* 整改复查 (open finding re-checked): marked remedied; remedy effective (judgement).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from actops.jobs.intake.naming import conforms

APPROVED, REJECTED = "已通过", "已驳回"
STEP_PASSED, STEP_FAILED = "已通过", "已驳回"
REMEDIED = ("已整改", "已复查")
MARK = {True: "☑ 是", False: "☒ 否", None: "☐ 待审计员判断"}


@dataclass(frozen=True)
class Check:
    id: str
    zh: str
    value: bool | None


@dataclass(frozen=True)
class StepFact:
    seq: int
    role: str
    status: str
    decided_at: datetime | None = None
    posthoc: bool = False


@dataclass(frozen=True)
class ApprovalFacts:
    status: str
    steps: tuple[StepFact, ...] = ()
    route_roles: tuple[str, ...] | None = None  # the route its kind and amount select; None: none does
    emergency: bool = False
    posthoc_due_at: datetime | None = None
    posthoc_done_at: datetime | None = None
    history_intact: bool | None = None  # the sealed decision history verified (SEC-4)


@dataclass(frozen=True)
class ExpenseFacts:
    status: str
    has_receipt: bool
    budget_line_exists: bool
    approval: ApprovalFacts | None = None  # its approval request, when one is linked


@dataclass(frozen=True)
class ActivityFacts:
    stage: str
    initiation_status: str | None  # status of its 立项 request; None when it has none
    document_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecheckFacts:
    finding_status: str


def approval(f: ApprovalFacts, as_of: date) -> list[Check]:
    out = [Check("chain_in_order", "审批链完整且按顺序审批", _chain(f)),
           Check("tier", "审批环节与金额档位相符", _tier(f)),
           Check("history_intact", "审批记录完整、未被改动", f.history_intact)]
    if f.emergency:
        out.append(Check("posthoc_on_time", "总监特批后按时事后补办", _posthoc(f, as_of)))
    return out


def expense(f: ExpenseFacts, as_of: date) -> list[Check]:
    a = f.approval
    approved = None if f.status == "待审批" else (a is not None and a.status == APPROVED)
    out = [Check("receipt", "票据齐全", f.has_receipt),
           Check("budget_line", "有对应的预算科目", f.budget_line_exists),
           Check("approved", "已经审批通过", approved)]
    if a is not None:
        out += [Check("chain_in_order", "审批链完整且按顺序审批", _chain(a)),
                Check("tier", "审批环节与金额档位相符", _tier(a))]
    out.append(Check("genuine", "业务真实，事由与票据相符", None))
    return out


def activity(f: ActivityFacts) -> list[Check]:
    if f.initiation_status is None:
        initiated = None if f.stage == "立项申请" else False
    else:
        initiated = f.initiation_status == APPROVED
    names = None if not f.document_names else all(conforms(n) for n in f.document_names)
    return [Check("initiated", "立项审批已通过", initiated),
            Check("names_conform", "文档命名符合规范", names),
            Check("outcome_matches", "结项成果与实际执行相符", None)]


def recheck(f: RecheckFacts) -> list[Check]:
    return [Check("marked_remedied", "责任人已标记整改完成", f.finding_status in REMEDIED),
            Check("remedy_effective", "整改措施有效、问题未再发生", None)]


def unreadable(table_zh: str) -> list[Check]:
    """A drawn item whose row no longer reads whole (a value in it is wrong, or it was deleted)."""
    return [Check("row_readable", f"系统未能预检：该事项在「{table_zh}」中的行有数据问题或已删除"
                                  "（见该行「数据问题」），请直接核对原始记录", None)]


def render(checks: Sequence[Check]) -> str:
    """The checklist as lines for 检查记录, one per check."""
    return "\n".join(f"{MARK[c.value]}｜{c.zh}" for c in checks)


def deviation(checks: Sequence[Check]) -> bool | None:
    """True when a pre-filled check failed; None while any is left to the auditor."""
    if any(c.value is False for c in checks):
        return True
    return None if any(c.value is None for c in checks) else False


def _chain(f: ApprovalFacts) -> bool | None:
    if f.status not in (APPROVED, REJECTED) or f.route_roles is None:
        return None  # still open, withdrawn, or no route to compare with
    steps = sorted(f.steps, key=lambda s: s.seq)
    decided = [s for s in steps if s.status in (STEP_PASSED, STEP_FAILED)]
    times = [s.decided_at for s in decided]
    if any(t is None for t in times) or times != sorted(times):  # type: ignore[type-var]
        return False
    if decided != steps[:len(decided)]:  # a later step decided before an earlier one
        return False
    if f.status == APPROVED:  # every step passed, and no fewer steps than its route has
        return (len(decided) == len(steps) >= len(f.route_roles)
                and all(s.status == STEP_PASSED for s in steps))
    return bool(decided) and decided[-1].status == STEP_FAILED and all(s.status == STEP_PASSED for s in decided[:-1])


def _tier(f: ApprovalFacts) -> bool | None:
    if f.route_roles is None or not f.steps:
        return None
    return tuple(s.role for s in sorted(f.steps, key=lambda s: s.seq)) == tuple(f.route_roles)


def _posthoc(f: ApprovalFacts, as_of: date) -> bool | None:
    if f.posthoc_done_at is not None:
        return f.posthoc_due_at is None or f.posthoc_done_at <= f.posthoc_due_at
    if f.posthoc_due_at is not None and f.posthoc_due_at.date() < as_of:
        return False
    return None
